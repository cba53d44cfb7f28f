namespace EmpSsl.Autodiff.Nn;

/// <summary>torch.nn.ReLU: no state, but it holds a place (and an index) in a Sequential.</summary>
public sealed class ReLU : Module
{
    public override Tensor Forward(Tape tape, Tensor x) => tape.Relu(x);
}

namespace EmpSsl.Autodiff.Nn;

/// <summary>torch.nn.Linear(in, out): weight (out, in), bias (out).</summary>
public sealed class Linear : Module
{
    public Linear(Init init, int inFeatures, int outFeatures, bool bias = true)
    {
        Weight = Parameter("weight", init.Uniform([outFeatures, inFeatures], inFeatures));
        Bias = bias ? Parameter("bias", init.Uniform([outFeatures], inFeatures)) : null;
    }

    public Tensor Weight { get; }

    public Tensor? Bias { get; }

    public override Tensor Forward(Tape tape, Tensor x) => tape.Linear(x, Weight, Bias);
}

namespace EmpSsl.Autodiff.Nn;

/// <summary>torch.nn.Conv2d(inC, outC, kernel, stride, padding, bias=False): weight (outC, inC, k, k).</summary>
public sealed class Conv2d : Module
{
    public Conv2d(Init init, int inChannels, int outChannels, int kernel, int stride, int pad)
    {
        Stride = stride;
        Pad = pad;
        Weight = Parameter("weight", init.Uniform([outChannels, inChannels, kernel, kernel], inChannels * kernel * kernel));
    }

    public Tensor Weight { get; }

    public int Stride { get; }

    public int Pad { get; }

    public override Tensor Forward(Tape tape, Tensor x) => tape.Conv2d(x, Weight, Stride, Pad);
}

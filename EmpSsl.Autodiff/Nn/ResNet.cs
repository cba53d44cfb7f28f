namespace EmpSsl.Autodiff.Nn;

/// <summary>The first layers: CIFAR (3x3 stride 1 conv, no max-pool) or ImageNet (7x7 stride 2, 3x3 max-pool stride 2).</summary>
public enum Stem
{
    Cifar,
    ImageNet,
}

/// <summary>
/// ResNet-18 as torchvision builds it, without fc: the output is the pooled feature h (N, 512 * width).
/// Base width 64 * width (rounded, at least 1), any number of input channels. State-dict keys match
/// torchvision's resnet18 minus fc.weight and fc.bias.
/// </summary>
public sealed class ResNet : Module
{
    private readonly Conv2d _conv1;
    private readonly BatchNorm _bn1;
    private readonly Sequential[] _layers;

    public ResNet(Init init, Stem stem = Stem.Cifar, double width = 1.0, int inChannels = 3)
    {
        StemKind = stem;
        int basis = Math.Max(1, (int)Math.Round(64 * width));
        _conv1 = stem == Stem.Cifar
            ? Child("conv1", new Conv2d(init, inChannels, basis, 3, 1, 1))
            : Child("conv1", new Conv2d(init, inChannels, basis, 7, 2, 3));
        _bn1 = Child("bn1", new BatchNorm(init, basis));
        _layers = new Sequential[4];
        int channels = basis;
        for (int i = 0; i < 4; i++)
        {
            int outChannels = basis << i;
            int stride = i == 0 ? 1 : 2;
            _layers[i] = Child($"layer{i + 1}", new Sequential(
                new BasicBlock(init, channels, outChannels, stride),
                new BasicBlock(init, outChannels, outChannels, 1)));
            channels = outChannels;
        }
        FeatureSize = channels;
        NameTensors();
    }

    public Stem StemKind { get; }

    /// <summary>The size of h: 512 * width.</summary>
    public int FeatureSize { get; }

    public override Tensor Forward(Tape tape, Tensor x)
    {
        var y = _bn1.ForwardRelu(tape, _conv1.Forward(tape, x));
        if (StemKind == Stem.ImageNet)
        {
            y = tape.MaxPool2d(y, 3, 2, 1);
        }
        foreach (var layer in _layers)
        {
            y = layer.Forward(tape, y);
        }
        return tape.GlobalAvgPool(y);
    }
}

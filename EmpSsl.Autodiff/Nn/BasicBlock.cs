namespace EmpSsl.Autodiff.Nn;

/// <summary>
/// torchvision's ResNet BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), where the shortcut
/// is downsample = Sequential(conv1x1 stride s, BatchNorm2d) when the stride or the width changes.
/// </summary>
public sealed class BasicBlock : Module
{
    private readonly Conv2d _conv1;
    private readonly BatchNorm _bn1;
    private readonly Conv2d _conv2;
    private readonly BatchNorm _bn2;
    private readonly Sequential? _downsample;

    public BasicBlock(Init init, int inChannels, int channels, int stride)
    {
        _conv1 = Child("conv1", new Conv2d(init, inChannels, channels, 3, stride, 1));
        _bn1 = Child("bn1", new BatchNorm(init, channels));
        _conv2 = Child("conv2", new Conv2d(init, channels, channels, 3, 1, 1));
        _bn2 = Child("bn2", new BatchNorm(init, channels));
        if (stride != 1 || inChannels != channels)
        {
            _downsample = Child("downsample", new Sequential(
                new Conv2d(init, inChannels, channels, 1, stride, 0),
                new BatchNorm(init, channels)));
        }
    }

    public override Tensor Forward(Tape tape, Tensor x)
    {
        var y = _bn1.ForwardRelu(tape, _conv1.Forward(tape, x));
        y = _bn2.Forward(tape, _conv2.Forward(tape, y));
        var shortcut = _downsample is null ? x : _downsample.Forward(tape, x);
        return tape.AddRelu(y, shortcut);
    }
}

using EmpSsl.Autodiff.Nn;
using EmpSsl.Kernels.Cpu;

namespace EmpSsl.Autodiff.Tests;

/// <summary>
/// The state-dict keys equal torchvision's resnet18 (122 entries) minus fc.weight and fc.bias, in order;
/// the projector's follow under "projector." as an nn.Sequential names them.
/// </summary>
public sealed class StateDictKeysTests : IDisposable
{
    private readonly CpuKernels _kernels = new();

    public void Dispose() => _kernels.Dispose();

    [Fact]
    public void ResNet18CifarWidth1HasTorchvisionKeysInOrder()
    {
        var model = new ResNet(new Init(_kernels, 0), Stem.Cifar, 1.0, 3);
        string[] expected =
        [
            "conv1.weight",
            "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
            "layer1.0.conv1.weight",
            "layer1.0.bn1.weight", "layer1.0.bn1.bias", "layer1.0.bn1.running_mean", "layer1.0.bn1.running_var", "layer1.0.bn1.num_batches_tracked",
            "layer1.0.conv2.weight",
            "layer1.0.bn2.weight", "layer1.0.bn2.bias", "layer1.0.bn2.running_mean", "layer1.0.bn2.running_var", "layer1.0.bn2.num_batches_tracked",
            "layer1.1.conv1.weight",
            "layer1.1.bn1.weight", "layer1.1.bn1.bias", "layer1.1.bn1.running_mean", "layer1.1.bn1.running_var", "layer1.1.bn1.num_batches_tracked",
            "layer1.1.conv2.weight",
            "layer1.1.bn2.weight", "layer1.1.bn2.bias", "layer1.1.bn2.running_mean", "layer1.1.bn2.running_var", "layer1.1.bn2.num_batches_tracked",
            "layer2.0.conv1.weight",
            "layer2.0.bn1.weight", "layer2.0.bn1.bias", "layer2.0.bn1.running_mean", "layer2.0.bn1.running_var", "layer2.0.bn1.num_batches_tracked",
            "layer2.0.conv2.weight",
            "layer2.0.bn2.weight", "layer2.0.bn2.bias", "layer2.0.bn2.running_mean", "layer2.0.bn2.running_var", "layer2.0.bn2.num_batches_tracked",
            "layer2.0.downsample.0.weight",
            "layer2.0.downsample.1.weight", "layer2.0.downsample.1.bias", "layer2.0.downsample.1.running_mean", "layer2.0.downsample.1.running_var", "layer2.0.downsample.1.num_batches_tracked",
            "layer2.1.conv1.weight",
            "layer2.1.bn1.weight", "layer2.1.bn1.bias", "layer2.1.bn1.running_mean", "layer2.1.bn1.running_var", "layer2.1.bn1.num_batches_tracked",
            "layer2.1.conv2.weight",
            "layer2.1.bn2.weight", "layer2.1.bn2.bias", "layer2.1.bn2.running_mean", "layer2.1.bn2.running_var", "layer2.1.bn2.num_batches_tracked",
            "layer3.0.conv1.weight",
            "layer3.0.bn1.weight", "layer3.0.bn1.bias", "layer3.0.bn1.running_mean", "layer3.0.bn1.running_var", "layer3.0.bn1.num_batches_tracked",
            "layer3.0.conv2.weight",
            "layer3.0.bn2.weight", "layer3.0.bn2.bias", "layer3.0.bn2.running_mean", "layer3.0.bn2.running_var", "layer3.0.bn2.num_batches_tracked",
            "layer3.0.downsample.0.weight",
            "layer3.0.downsample.1.weight", "layer3.0.downsample.1.bias", "layer3.0.downsample.1.running_mean", "layer3.0.downsample.1.running_var", "layer3.0.downsample.1.num_batches_tracked",
            "layer3.1.conv1.weight",
            "layer3.1.bn1.weight", "layer3.1.bn1.bias", "layer3.1.bn1.running_mean", "layer3.1.bn1.running_var", "layer3.1.bn1.num_batches_tracked",
            "layer3.1.conv2.weight",
            "layer3.1.bn2.weight", "layer3.1.bn2.bias", "layer3.1.bn2.running_mean", "layer3.1.bn2.running_var", "layer3.1.bn2.num_batches_tracked",
            "layer4.0.conv1.weight",
            "layer4.0.bn1.weight", "layer4.0.bn1.bias", "layer4.0.bn1.running_mean", "layer4.0.bn1.running_var", "layer4.0.bn1.num_batches_tracked",
            "layer4.0.conv2.weight",
            "layer4.0.bn2.weight", "layer4.0.bn2.bias", "layer4.0.bn2.running_mean", "layer4.0.bn2.running_var", "layer4.0.bn2.num_batches_tracked",
            "layer4.0.downsample.0.weight",
            "layer4.0.downsample.1.weight", "layer4.0.downsample.1.bias", "layer4.0.downsample.1.running_mean", "layer4.0.downsample.1.running_var", "layer4.0.downsample.1.num_batches_tracked",
            "layer4.1.conv1.weight",
            "layer4.1.bn1.weight", "layer4.1.bn1.bias", "layer4.1.bn1.running_mean", "layer4.1.bn1.running_var", "layer4.1.bn1.num_batches_tracked",
            "layer4.1.conv2.weight",
            "layer4.1.bn2.weight", "layer4.1.bn2.bias", "layer4.1.bn2.running_mean", "layer4.1.bn2.running_var", "layer4.1.bn2.num_batches_tracked",
        ];
        Assert.Equal(120, expected.Length);
        Assert.Equal(expected, model.StateDict().Select(e => e.Key).ToArray());
        Assert.Equal(512, model.FeatureSize);
    }

    [Fact]
    public void ResNet18ShapesAndParameterCountMatchTorchvision()
    {
        var model = new ResNet(new Init(_kernels, 0), Stem.ImageNet, 1.0, 3);
        var shapes = model.StateDict().ToDictionary(e => e.Key, e => e.Shape);
        Assert.Equal([64, 3, 7, 7], shapes["conv1.weight"]);
        Assert.Equal([128, 64, 1, 1], shapes["layer2.0.downsample.0.weight"]);
        Assert.Equal([512, 512, 3, 3], shapes["layer4.1.conv2.weight"]);
        Assert.Equal([], shapes["bn1.num_batches_tracked"]);
        // torchvision's resnet18 has 11,689,512 parameters; fc holds 512 * 1000 + 1000 of them.
        long parameters = model.Parameters().Sum(p => (long)p.Length);
        Assert.Equal(11_689_512 - 513_000, parameters);
    }

    [Fact]
    public void CifarStemWidthAndGrayscaleInput()
    {
        var model = new ResNet(new Init(_kernels, 0), Stem.Cifar, 0.5, 1);
        var shapes = model.StateDict().ToDictionary(e => e.Key, e => e.Shape);
        Assert.Equal([32, 1, 3, 3], shapes["conv1.weight"]);
        Assert.Equal([256, 256, 3, 3], shapes["layer4.1.conv2.weight"]);
        Assert.Equal(256, model.FeatureSize);
    }

    [Theory]
    [InlineData(ProjectorPreset.Paper, new[] { "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked", "3.weight", "3.bias" })]
    [InlineData(ProjectorPreset.Official, new[] { "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked", "3.weight", "3.bias", "4.weight", "4.bias", "4.running_mean", "4.running_var", "4.num_batches_tracked", "6.weight", "6.bias" })]
    public void EncoderPutsTheProjectorUnderItsPrefix(ProjectorPreset preset, string[] projectorKeys)
    {
        var encoder = new Encoder(new Init(_kernels, 0), Stem.Cifar, 0.125, 3, preset, hidden: 32, output: 16);
        var keys = encoder.StateDict().Select(e => e.Key).ToArray();
        Assert.Equal(120 + projectorKeys.Length, keys.Length);
        Assert.Equal("conv1.weight", keys[0]);
        Assert.Equal(projectorKeys.Select(k => "projector." + k), keys.Skip(120));
        var shapes = encoder.StateDict().ToDictionary(e => e.Key, e => e.Shape);
        Assert.Equal([32, 64], shapes["projector.0.weight"]);
        Assert.Equal([16, 32], shapes[preset == ProjectorPreset.Paper ? "projector.3.weight" : "projector.6.weight"]);
        Assert.All(encoder.Parameters(), p => Assert.Contains(p.Name, keys));
    }
}

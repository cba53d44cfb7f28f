using EmpSsl.Autodiff.Nn;
using EmpSsl.Kernels;

namespace EmpSsl.Autodiff.Tests;

/// <summary>
/// The encoder's forward in float64, read off a state dict by torchvision's key names (training-mode BatchNorm),
/// so finite differences can perturb any parameter by its key.
/// </summary>
internal sealed class F64Net(Dictionary<string, double[]> state)
{
    public Dictionary<string, double[]> State { get; } = state;

    public static Dictionary<string, double[]> Read(Module module, IKernels kernels)
        => module.StateDict().Where(e => e.Tensor is not null)
            .ToDictionary(e => e.Key, e => e.Tensor!.ToHost(kernels).Select(v => (double)v).ToArray());

    /// <summary>h (n, 8 * basis) of ResNet-18 on x (n, c, hw, hw).</summary>
    public double[] ResNet(double[] x, int n, int c, int hw, Stem stem, int basis)
    {
        var (y, size) = stem == Stem.Cifar
            ? Conv(x, "conv1.weight", n, c, hw, basis, 3, 1, 1)
            : Conv(x, "conv1.weight", n, c, hw, basis, 7, 2, 3);
        y = F64.Relu(Bn(y, "bn1.", n, basis, size * size));
        if (stem == Stem.ImageNet)
        {
            var s = new PoolShape(n * basis, size, size, 3, 2, 1);
            y = F64.MaxPool2d(y, s);
            size = s.OutH;
        }
        int channels = basis;
        for (int layer = 0; layer < 4; layer++)
        {
            int outChannels = basis << layer;
            (y, size) = Block(y, $"layer{layer + 1}.0.", n, channels, size, outChannels, layer == 0 ? 1 : 2);
            (y, size) = Block(y, $"layer{layer + 1}.1.", n, outChannels, size, outChannels, 1);
            channels = outChannels;
        }
        return F64.GlobalAvgPool(y, n * channels, size * size);
    }

    public (double[] Y, int Size) Block(double[] x, string prefix, int n, int cin, int size, int cout, int stride)
    {
        var (y, outSize) = Conv(x, prefix + "conv1.weight", n, cin, size, cout, 3, stride, 1);
        y = F64.Relu(Bn(y, prefix + "bn1.", n, cout, outSize * outSize));
        (y, _) = Conv(y, prefix + "conv2.weight", n, cout, outSize, cout, 3, 1, 1);
        y = Bn(y, prefix + "bn2.", n, cout, outSize * outSize);
        var shortcut = x;
        if (State.ContainsKey(prefix + "downsample.0.weight"))
        {
            (shortcut, _) = Conv(x, prefix + "downsample.0.weight", n, cin, size, cout, 1, stride, 0);
            shortcut = Bn(shortcut, prefix + "downsample.1.", n, cout, outSize * outSize);
        }
        return (F64.Relu(F64.Add(y, shortcut)), outSize);
    }

    /// <summary>The projector as a Sequential of Linear, BatchNorm1d and ReLU, read from the keys under "projector.".</summary>
    public double[] Projector(double[] h, int n, int features)
    {
        var y = h;
        int width = features;
        for (int i = 0; ; i++)
        {
            string p = $"projector.{i}.";
            if (State.TryGetValue(p + "running_mean", out var mean))
            {
                y = F64.BatchNormTrain(y, State[p + "weight"], State[p + "bias"], n, mean.Length, 1);
            }
            else if (State.TryGetValue(p + "weight", out var w))
            {
                int outF = w.Length / width;
                y = F64.Linear(y, w, State[p + "bias"], n, width, outF);
                width = outF;
            }
            else if (State.Keys.Any(k => k.StartsWith($"projector.{i + 1}.", StringComparison.Ordinal)))
            {
                y = F64.Relu(y);
            }
            else
            {
                return y;
            }
        }
    }

    private (double[] Y, int Size) Conv(double[] x, string key, int n, int cin, int size, int cout, int r, int stride, int pad)
    {
        var s = new Conv2dShape(n, cin, size, size, cout, r, stride, pad);
        return (F64.Conv2d(x, State[key], s), s.OutH);
    }

    private double[] Bn(double[] x, string prefix, int n, int c, int hw)
        => F64.BatchNormTrain(x, State[prefix + "weight"], State[prefix + "bias"], n, c, hw);
}

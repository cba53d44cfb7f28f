using EmpSsl.Autodiff.Nn;

namespace EmpSsl.Autodiff.Tests;

/// <summary>Module behaviour: initialization, train/eval, BatchNorm's running statistics and counter, BasicBlock's gradient.</summary>
public abstract class ModuleTests(string backend) : BackendTest(backend)
{
    [Fact]
    public void DefaultInitFollowsPyTorch()
    {
        var init = new Init(Kernels, seed: 3);
        var conv = new Conv2d(init, 4, 6, 3, 1, 1);
        var linear = new Linear(init, 50, 7);
        var bn = new BatchNorm(init, 5);
        AssertUniform(conv.Weight.ToHost(Kernels), 1 / Math.Sqrt(4 * 9));
        AssertUniform(linear.Weight.ToHost(Kernels), 1 / Math.Sqrt(50));
        Assert.All(linear.Bias!.ToHost(Kernels), v => Assert.InRange(Math.Abs(v), 0, 1 / Math.Sqrt(50)));
        Assert.All(bn.Weight.ToHost(Kernels), v => Assert.Equal(1f, v));
        Assert.All(bn.Bias.ToHost(Kernels), v => Assert.Equal(0f, v));
        Assert.All(bn.RunningMean.ToHost(Kernels), v => Assert.Equal(0f, v));
        Assert.All(bn.RunningVar.ToHost(Kernels), v => Assert.Equal(1f, v));
        Assert.Equal(0, bn.NumBatchesTracked.Value);
    }

    [Fact]
    public void InitIsReproducibleFromTheSeed()
    {
        var a = new Linear(new Init(Kernels, seed: 11), 8, 4).Weight.ToHost(Kernels);
        var b = new Linear(new Init(Kernels, seed: 11), 8, 4).Weight.ToHost(Kernels);
        var c = new Linear(new Init(Kernels, seed: 12), 8, 4).Weight.ToHost(Kernels);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void BatchNormUpdatesRunningStatisticsOnlyInTraining()
    {
        const int n = 4;
        const int c = 3;
        var bn = new BatchNorm(new Init(Kernels, 1), c);
        var x = Random(n * c * 2, -2, 3);
        var input = Leaf([n, c, 2], x, requiresGrad: false);
        bn.Forward(Tape, input);
        Tape.Reset();
        Assert.Equal(1, bn.NumBatchesTracked.Value);
        var expectedMean = new double[c];
        var expectedVar = new double[c];
        for (int ch = 0; ch < c; ch++)
        {
            var values = Enumerable.Range(0, n).SelectMany(i => new[] { x[(i * c + ch) * 2], x[(i * c + ch) * 2 + 1] }).ToArray();
            double mean = values.Average();
            double unbiased = values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1);
            expectedMean[ch] = 0.9 * 0 + 0.1 * mean;
            expectedVar[ch] = 0.9 * 1 + 0.1 * unbiased;
        }
        Assertions.Close(expectedMean, bn.RunningMean.ToHost(Kernels), Tol.Forward, "running_mean");
        Assertions.Close(expectedVar, bn.RunningVar.ToHost(Kernels), Tol.Forward, "running_var");

        bn.Eval();
        Assert.False(bn.Training);
        bn.Forward(Tape, input);
        Tape.Reset();
        Assert.Equal(1, bn.NumBatchesTracked.Value);
        Assertions.Close(expectedMean, bn.RunningMean.ToHost(Kernels), Tol.Forward, "running_mean after eval");
    }

    [Fact]
    public void TrainAndEvalReachEveryDescendant()
    {
        var encoder = new Encoder(new Init(Kernels, 1), Stem.Cifar, 0.125, 3, ProjectorPreset.Paper, hidden: 8, output: 4);
        encoder.Eval();
        var x = Leaf([2, 3, 4, 4], Random(96), requiresGrad: false);
        encoder.Forward(Tape, x);
        Tape.Reset();
        Assert.All(encoder.StateDict().Where(e => e.Counter is not null), e => Assert.Equal(0, e.Counter!.Value));
        encoder.Train();
        encoder.Forward(Tape, x);
        Tape.Reset();
        Assert.All(encoder.StateDict().Where(e => e.Counter is not null), e => Assert.Equal(1, e.Counter!.Value));
    }

    [Theory]
    [InlineData(4, 4, 1)]
    [InlineData(2, 4, 2)]
    public void BasicBlockGradient(int cin, int cout, int stride)
    {
        const int n = 2;
        const int size = 4;
        var block = new BasicBlock(new Init(Kernels, 5), cin, cout, stride);
        Assert.Equal(stride != 1 || cin != cout, block.StateDict().Any(e => e.Key.StartsWith("downsample.", StringComparison.Ordinal)));
        var state = F64Net.Read(block, Kernels);
        var parameters = block.StateDict().Where(e => e.IsParameter).ToArray();
        // The block's parameters become the checked inputs, so every one of them gets a gradient check.
        var inputs = new List<Input> { new([n, cin, size, size], Random(n * cin * size * size)) };
        inputs.AddRange(parameters.Select(p => new Input(p.Shape, state[p.Key])));
        var x = Leaf(inputs[0].Shape, inputs[0].Values);
        CheckGradients(
            [x, .. parameters.Select(p => p.Tensor!)],
            inputs.ToArray(),
            (t, v) => block.Forward(t, v[0]),
            v =>
            {
                var net = new F64Net(parameters.Select((p, i) => (p.Key, v[i + 1])).ToDictionary(e => e.Key, e => e.Item2));
                return net.Block(v[0], "", n, cin, size, cout, stride).Y;
            },
            Tol.Grad,
            maxCoordinates: 6);
    }

    private static void AssertUniform(float[] values, double bound)
    {
        Assert.All(values, v => Assert.InRange(Math.Abs(v), 0, bound));
        // Uniform over [-bound, bound]: the extremes come near the bound and the mean is near 0.
        Assert.True(values.Max(Math.Abs) > 0.8 * bound, $"max |w| {values.Max(Math.Abs)} vs bound {bound}");
        Assert.InRange(values.Average(), -0.2 * bound, 0.2 * bound);
    }
}

public sealed class ModuleTestsCpu() : ModuleTests("cpu");

public sealed class ModuleTestsIlgpuCpu() : ModuleTests("ilgpu-cpu");

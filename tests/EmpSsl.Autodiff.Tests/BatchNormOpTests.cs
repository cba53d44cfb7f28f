namespace EmpSsl.Autodiff.Tests;

/// <summary>BatchNorm in training mode (batch statistics, 2d and 1d) and eval mode (running statistics).</summary>
public abstract class BatchNormOpTests(string backend) : BackendTest(backend)
{
    [Theory]
    [InlineData(new[] { 3, 2, 4, 3 })]
    [InlineData(new[] { 5, 4 })]
    public void Train(int[] shape)
    {
        int n = shape[0];
        int c = shape[1];
        int hw = shape.Skip(2).Aggregate(1, (a, d) => a * d);
        var runningMean = Leaf([c], new double[c], requiresGrad: false);
        var runningVar = Leaf([c], Enumerable.Repeat(1.0, c).ToArray(), requiresGrad: false);
        CheckGradients(
            [new(shape, Random(n * c * hw)), new([c], Random(c, 0.5, 1.5)), new([c], Random(c))],
            (t, v) => t.BatchNorm(v[0], v[1], v[2], runningMean, runningVar, training: true),
            v => F64.BatchNormTrain(v[0], v[1], v[2], n, c, hw),
            Tol.Grad);
    }

    [Fact]
    public void Eval()
    {
        const int n = 2;
        const int c = 3;
        const int hw = 4;
        var mean = Random(c);
        var variance = Random(c, 0.5, 2);
        var runningMean = Leaf([c], mean, requiresGrad: false);
        var runningVar = Leaf([c], variance, requiresGrad: false);
        CheckGradients(
            [new([n, c, 2, 2], Random(n * c * hw)), new([c], Random(c, 0.5, 1.5)), new([c], Random(c))],
            (t, v) => t.BatchNorm(v[0], v[1], v[2], runningMean, runningVar, training: false),
            v => F64.BatchNormEval(v[0], v[1], v[2], mean, variance, n, c, hw),
            Tol.Grad);
    }
}

public sealed class BatchNormOpTestsCpu() : BatchNormOpTests("cpu");

public sealed class BatchNormOpTestsIlgpuCpu() : BatchNormOpTests("ilgpu-cpu");

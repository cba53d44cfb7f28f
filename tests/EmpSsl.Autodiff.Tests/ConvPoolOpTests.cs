using EmpSsl.Kernels;

namespace EmpSsl.Autodiff.Tests;

/// <summary>Conv2d, MaxPool2d and GlobalAvgPool, at the strides and paddings ResNet-18 uses.</summary>
public abstract class ConvPoolOpTests(string backend) : BackendTest(backend)
{
    [Theory]
    [InlineData(3, 1, 1)]
    [InlineData(3, 2, 1)]
    [InlineData(1, 2, 0)]
    [InlineData(7, 2, 3)]
    public void Conv2d(int r, int stride, int pad)
    {
        var s = new Conv2dShape(N: 2, C: 2, H: 6, W: 5, K: 3, R: r, Stride: stride, Pad: pad);
        CheckGradients(
            [new([s.N, s.C, s.H, s.W], Random(s.InputLength)), new([s.K, s.C, r, r], Random(s.WeightLength))],
            (t, v) => t.Conv2d(v[0], v[1], stride, pad),
            v => F64.Conv2d(v[0], v[1], s),
            Tol.Grad);
    }

    [Fact]
    public void Conv2dOnAnInputThatNeedsNoGradientStillGivesTheWeightGradient()
    {
        var s = new Conv2dShape(N: 1, C: 3, H: 4, W: 4, K: 2, R: 3, Stride: 1, Pad: 1);
        CheckGradients(
            [new([1, 3, 4, 4], Random(s.InputLength), RequiresGrad: false), new([2, 3, 3, 3], Random(s.WeightLength))],
            (t, v) => t.Conv2d(v[0], v[1], 1, 1),
            v => F64.Conv2d(v[0], v[1], s),
            Tol.Grad);
    }

    [Fact]
    public void MaxPool2d()
    {
        // Distinct values, so no window has a tie that a finite difference could flip.
        var s = new PoolShape(Planes: 2 * 2, H: 6, W: 5, Kernel: 3, Stride: 2, Pad: 1);
        var x = Enumerable.Range(0, 4 * 30).OrderBy(_ => Random(1)[0]).Select(i => (double)(float)(i * 0.01)).ToArray();
        CheckGradients(
            [new([2, 2, 6, 5], x)],
            (t, v) => t.MaxPool2d(v[0], 3, 2, 1),
            v => F64.MaxPool2d(v[0], s),
            Tol.Grad,
            step: 1e-4);
    }

    [Fact]
    public void GlobalAvgPool()
    {
        CheckGradients(
            [new([2, 3, 4, 5], Random(120))],
            (t, v) => t.GlobalAvgPool(v[0]),
            v => F64.GlobalAvgPool(v[0], 6, 20),
            Tol.Grad);
    }
}

public sealed class ConvPoolOpTestsCpu() : ConvPoolOpTests("cpu");

public sealed class ConvPoolOpTestsIlgpuCpu() : ConvPoolOpTests("ilgpu-cpu");

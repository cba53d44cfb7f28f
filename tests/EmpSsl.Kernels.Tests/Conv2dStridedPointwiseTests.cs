using EmpSsl.Kernels.Cpu;
using EmpSsl.Kernels.Reference;
using EmpSsl.Testing;

namespace EmpSsl.Kernels.Tests;

/// <summary>
/// The cpu backend's 1x1 strided convolutions as the GEMM of the subsampled x (Conv2dStridedPointwise), each pass
/// against the float64 spec: odd sizes (the last row and column are read), rows long enough for the vector
/// subsample and spread plus a scalar tail, stride 3, a one-pixel plane, batch 1, channel counts that are not
/// multiples of the vector width, both register tiles. Backward data both writes (NaN poison) and adds (a random
/// start); dw accumulates onto a random start. Guard bands around every output, tolerance Tol.Gemm.
/// </summary>
public sealed unsafe class Conv2dStridedPointwiseTests : PinnedRuns
{
    public static TheoryData<int, int, int, int, int, int, bool> Shapes()
    {
        var data = new TheoryData<int, int, int, int, int, int, bool>();
        foreach (var (n, c, h, w, k, stride) in ShapeList)
        {
            data.Add(n, c, h, w, k, stride, false);
            data.Add(n, c, h, w, k, stride, true);
        }
        return data;
    }

    private static readonly (int N, int C, int H, int W, int K, int Stride)[] ShapeList =
    [
        // N, C, H, W, K, stride (pad 0, 1x1)
        (1, 3, 7, 5, 5, 2),
        (2, 17, 9, 7, 19, 2),
        // Rows of 32 (the ResNet-18 CIFAR shortcut's) and 35: whole vectors, then a tail.
        (2, 5, 32, 32, 7, 2),
        (2, 6, 33, 35, 4, 2),
        (2, 4, 10, 11, 6, 3),
        (1, 4, 1, 1, 3, 2),
    ];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardMatchesSpec(int n, int c, int h, int w, int k, int stride, bool wide)
    {
        var s = new Conv2dShape(n, c, h, w, k, 1, stride, 0);
        ForwardMatches(s, (y, x, wt) => Conv2dStridedPointwise.Forward(y, x, wt, s, new GemmTiling(wide)), $"strided pointwise forward {s} wide {wide}");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BackwardDataWritesOrAddsSpec(int n, int c, int h, int w, int k, int stride, bool wide)
    {
        var s = new Conv2dShape(n, c, h, w, k, 1, stride, 0);
        BackwardDataMatches(s, (dx, dy, wt) => Conv2dStridedPointwise.BackwardData(dx, dy, wt, s, false, new GemmTiling(wide)), $"strided pointwise backward data {s} wide {wide}");
        BackwardDataMatches(s, (dx, dy, wt) => Conv2dStridedPointwise.BackwardData(dx, dy, wt, s, true, new GemmTiling(wide)), $"strided pointwise backward data, accumulating, {s} wide {wide}", accumulating: true);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BackwardWeightAccumulatesSpec(int n, int c, int h, int w, int k, int stride, bool wide)
    {
        var s = new Conv2dShape(n, c, h, w, k, 1, stride, 0);
        BackwardWeightMatches(s, (dw, dy, x) => Conv2dStridedPointwise.BackwardWeight(dw, dy, x, s, new GemmTiling(wide)), $"strided pointwise backward weight {s} wide {wide}");
    }

    [Fact]
    public void AutoRoutesUnpaddedStridedOneByOnesOnly()
    {
        using var kernels = new CpuKernels();
        Assert.True(kernels.RoutesToStridedPointwise(new Conv2dShape(64, 64, 32, 32, 128, 1, 2, 0)));
        Assert.True(kernels.RoutesToStridedPointwise(new Conv2dShape(2, 4, 10, 11, 6, 1, 3, 0)));
        Assert.False(kernels.RoutesToStridedPointwise(new Conv2dShape(64, 64, 32, 32, 128, 1, 1, 0)));
        Assert.False(kernels.RoutesToStridedPointwise(new Conv2dShape(64, 64, 32, 32, 128, 1, 2, 1)));
        Assert.False(kernels.RoutesToStridedPointwise(new Conv2dShape(64, 64, 32, 32, 128, 3, 2, 1)));
        kernels.Convolution = ConvolutionPath.Winograd;
        Assert.True(kernels.RoutesToStridedPointwise(new Conv2dShape(64, 64, 32, 32, 128, 1, 2, 0)));
        kernels.Convolution = ConvolutionPath.ImplicitGemm;
        Assert.False(kernels.RoutesToStridedPointwise(new Conv2dShape(64, 64, 32, 32, 128, 1, 2, 0)));
        kernels.Convolution = ConvolutionPath.Polyphase;
        Assert.False(kernels.RoutesToStridedPointwise(new Conv2dShape(64, 64, 32, 32, 128, 1, 2, 0)));
    }
}

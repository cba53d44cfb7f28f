using System.Runtime.InteropServices;
using EmpSsl.Kernels.Cpu;
using EmpSsl.Kernels.Reference;
using EmpSsl.Testing;

namespace EmpSsl.Kernels.Tests;

/// <summary>
/// The cpu backend's Winograd F(4x4, 3x3) path on the shapes that take its other branches: more channels than one
/// KC step of the micro-kernel (C > 256), many tile blocks on both sides of the few-channels/many-channels split,
/// a weight gradient summed over several parts and blocks, or over blocks both threads share, planes smaller than
/// one tile, pads 0 and 2, and the AVX-512 register tile (8 x 32, emulated where the CPU lacks it). Each pass against
/// the float64 spec, with NaN poison in written outputs, a random start in the accumulated dw, and guard bands.
/// </summary>
public sealed unsafe class WinogradTests : PinnedRuns
{
    public static TheoryData<int, int, int, int, int, int, bool> Shapes()
    {
        var data = new TheoryData<int, int, int, int, int, int, bool>();
        foreach (var (n, c, h, w, k, pad) in ShapeList)
        {
            data.Add(n, c, h, w, k, pad, false);
            data.Add(n, c, h, w, k, pad, true);
        }
        return data;
    }

    /// <summary>The shapes alone, for backward data, which goes through the backend and so runs the native tile.</summary>
    public static TheoryData<int, int, int, int, int, int> BackendShapes()
    {
        var data = new TheoryData<int, int, int, int, int, int>();
        foreach (var (n, c, h, w, k, pad) in ShapeList)
        {
            data.Add(n, c, h, w, k, pad);
        }
        return data;
    }

    private static readonly (int N, int C, int H, int W, int K, int Pad)[] ShapeList =
    [
        // N, C, H, W, K, pad
        // C over 256: the micro-kernel runs C in two KC steps; K = 7 leaves a part sliver.
        (1, 260, 5, 6, 7, 1),
        // 150 tiles of 4x4 with C + K = 64: several L2-sized blocks, run in parallel.
        (6, 40, 20, 20, 24, 1),
        // C + K over 256: the many-channels blocks, split between the threads.
        (3, 150, 9, 9, 130, 1),
        // 1024 tiles of few channels: the weight gradient's parts each sum several blocks of tiles.
        (4, 4, 64, 64, 5, 1),
        // U over Winograd.StreamedWeightFloats (36 x 420 x 424 floats): the weight transform's non-temporal stores.
        (1, 424, 5, 4, 416, 1),
        // Planes smaller than one tile, one pixel, and pads 0 and 2.
        (2, 9, 2, 3, 11, 1),
        (3, 5, 1, 1, 6, 1),
        (2, 6, 7, 9, 5, 0),
        (2, 6, 5, 6, 5, 2),
    ];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardMatchesSpec(int n, int c, int h, int w, int k, int pad, bool wide)
    {
        var s = new Conv2dShape(n, c, h, w, k, 3, 1, pad);
        ForwardMatches(s, (y, x, wt) => Winograd.Forward(y, x, wt, s, new GemmTiling(wide)), $"Winograd forward {s} wide {wide}");
    }

    [Theory]
    [MemberData(nameof(BackendShapes))]
    public void BackwardDataMatchesSpec(int n, int c, int h, int w, int k, int pad)
    {
        var s = new Conv2dShape(n, c, h, w, k, 3, 1, pad);
        var rng = new Random(s.GetHashCode() + 1);
        float[] dy = CpuCompare.Random(rng, s.OutputLength);
        float[] wt = CpuCompare.Random(rng, s.WeightLength);
        var want = new double[s.InputLength];
        Ref.Conv2dBackwardData(want, CpuCompare.Wide(dy), CpuCompare.Wide(wt), s);

        // Through the backend: backward data is the forward of dy with the kernels swapped and flipped.
        using var kernels = new CpuKernels { Convolution = ConvolutionPath.Winograd };
        Assert.True(kernels.RoutesToWinograd(s));
        var dyBuffer = kernels.Allocate(dy.Length);
        kernels.Upload(dyBuffer.Span, dy);
        var wBuffer = kernels.Allocate(wt.Length);
        kernels.Upload(wBuffer.Span, wt);
        var dx = kernels.Allocate(s.InputLength + 2 * CpuCompare.Guard);
        kernels.Upload(dx.Span, CpuCompare.WithGuards(Poisoned(s.InputLength)));
        kernels.Conv2dBackwardData(dx.Slice(CpuCompare.Guard, s.InputLength), dyBuffer.Span, wBuffer.Span, s);
        var got = new float[dx.Length];
        kernels.Download(dx.Span, got);
        Check(want, got, $"Winograd backward data {s}");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BackwardDataAddsInItsOutputTransform(int n, int c, int h, int w, int k, int pad, bool wide)
    {
        var s = new Conv2dShape(n, c, h, w, k, 3, 1, pad);
        BackwardDataMatches(s, (dx, dy, wt) => Winograd.BackwardData(dx, dy, wt, s, new GemmTiling(wide), accumulate: true), $"Winograd backward data, accumulating, {s} wide {wide}", accumulating: true);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BackwardWeightAccumulatesSpec(int n, int c, int h, int w, int k, int pad, bool wide)
    {
        var s = new Conv2dShape(n, c, h, w, k, 3, 1, pad);
        foreach (bool shared in new[] { false, true })
        {
            BackwardWeightMatches(
                s, (dw, dy, x) => Winograd.BackwardWeight(dw, dy, x, s, new GemmTiling(wide), shared),
                $"Winograd backward weight {s} wide {wide} shared blocks {shared}");
        }
    }

    /// <summary>Training repeats bit for bit only if the weight gradient sums its tiles in the same order every time.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WeightGradientIsTheSameBitForBitOnEveryRun(bool shared)
    {
        var s = new Conv2dShape(4, 4, 64, 64, 5, 3, 1, 1);
        WeightGradientRepeats(s, (dw, dy, x) => Winograd.BackwardWeight(dw, dy, x, s, GemmBlocking.Native, shared), seed: 7);
    }

    [Fact]
    public void AutoTakesThreeByThreeStrideOneWithManyChannelsAndWholeTiles()
    {
        using var kernels = new CpuKernels();
        Assert.True(kernels.RoutesToWinograd(new Conv2dShape(8, 64, 32, 32, 64, 3, 1, 1)));
        Assert.False(kernels.RoutesToWinograd(new Conv2dShape(8, 64, 32, 32, 128, 3, 2, 1)));
        Assert.False(kernels.RoutesToWinograd(new Conv2dShape(8, 64, 32, 32, 128, 1, 1, 0)));
        Assert.False(kernels.RoutesToWinograd(new Conv2dShape(8, 4, 9, 11, 6, 5, 1, 2)));
        Assert.False(kernels.RoutesToWinograd(new Conv2dShape(8, 3, 32, 32, 64, 3, 1, 1)));
        Assert.True(kernels.RoutesToWinograd(new Conv2dShape(8, 512, 4, 4, 512, 3, 1, 1)));
        Assert.False(kernels.RoutesToWinograd(new Conv2dShape(8, 256, 2, 2, 256, 3, 1, 1)));
        kernels.Convolution = ConvolutionPath.Winograd;
        Assert.True(kernels.RoutesToWinograd(new Conv2dShape(8, 3, 32, 32, 64, 3, 1, 1)));
        kernels.Convolution = ConvolutionPath.ImplicitGemm;
        Assert.False(kernels.RoutesToWinograd(new Conv2dShape(8, 64, 32, 32, 64, 3, 1, 1)));
    }

    /// <summary>Winograd sums in a transformed domain; its bound scales with the outputs' rms.</summary>
    protected override Tolerance Band(double[] want) => Tol.Winograd(want);
}

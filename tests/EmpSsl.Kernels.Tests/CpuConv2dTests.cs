using EmpSsl.Kernels.Reference;
using EmpSsl.Kernels.Cpu;

namespace EmpSsl.Kernels.Tests;

/// <summary>
/// The cpu backend's Conv2d passes, on each of its two paths (implicit-GEMM, and direct channels-last), against
/// the float64 spec in Ref. Odd spatial sizes, channel counts that are not multiples of the vector width, batch 1,
/// stride 2 (whose backward data folds the column matrix by phases), 1x1 and 5x5 kernels, and batches big enough to
/// take several im2col chunks. dx is NaN-poisoned before the call (written); dw starts random (accumulated).
/// </summary>
public sealed class CpuConv2dTests
{
    /// <summary>Every shape on both paths; shapes the direct path does not take fall back, and must still be right.</summary>
    public static TheoryData<int, int, int, int, int, int, int, int, bool> Shapes()
    {
        var data = new TheoryData<int, int, int, int, int, int, int, int, bool>();
        foreach (var (n, c, h, w, k, r, stride, pad) in ShapeList)
        {
            data.Add(n, c, h, w, k, r, stride, pad, false);
            data.Add(n, c, h, w, k, r, stride, pad, true);
        }
        return data;
    }

    private static readonly (int N, int C, int H, int W, int K, int R, int Stride, int Pad)[] ShapeList =
    [
        // N, C, H, W, K, R, stride, pad
        (1, 3, 7, 5, 5, 3, 1, 1),
        (2, 17, 7, 5, 19, 3, 1, 1),
        (2, 17, 7, 5, 19, 3, 2, 1),
        (3, 16, 8, 8, 33, 3, 1, 1),
        (2, 5, 6, 7, 7, 3, 1, 0),
        (2, 4, 9, 11, 6, 5, 1, 2),
        (2, 17, 7, 5, 31, 1, 1, 0),
        (2, 20, 9, 9, 12, 1, 2, 0),
        (1, 40, 12, 12, 48, 3, 1, 1),
        (2, 6, 9, 7, 10, 3, 2, 1),
        // Output rows of 8 or 16 take the padded-copy packing; 3x8 leaves half a panel over.
        (1, 5, 3, 8, 7, 3, 1, 1),
        (2, 3, 6, 10, 4, 3, 1, 0),
        (2, 9, 16, 16, 20, 3, 1, 1),
        // One image's columns take 64*9*32*32 floats, so 4 images span two im2col chunks.
        (4, 64, 32, 32, 3, 3, 1, 1),
        // At stride 2 one image's columns take 64*9*16*16 floats: 16 images span two chunks. Stride 2 with a 5x5
        // kernel and pad 2, and with no padding, folds taps of both parities onto each row.
        (16, 64, 32, 32, 3, 3, 2, 1),
        (2, 4, 11, 9, 6, 5, 2, 2),
        (2, 5, 9, 8, 6, 3, 2, 0),
        // Channel counts the direct path takes (K, or C for backward data, multiples of 16): batch 1, 4x4 and 2x2
        // planes, pixel counts that end in a part tile and span several chunks, channels over one channel block,
        // the single-channel stem, stride 2, no padding, a 5x5 kernel.
        (2, 16, 7, 5, 16, 3, 1, 1),
        (1, 32, 4, 4, 16, 3, 1, 1),
        (3, 16, 2, 2, 32, 3, 1, 1),
        (5, 16, 9, 7, 16, 3, 1, 1),
        (2, 48, 6, 6, 40, 3, 1, 1),
        (2, 1, 7, 5, 16, 3, 1, 1),
        (2, 16, 7, 5, 32, 3, 2, 1),
        (2, 16, 9, 9, 16, 3, 1, 0),
        (2, 16, 9, 11, 16, 5, 1, 2),
    ];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardMatchesPlainLoop(int n, int c, int h, int w, int k, int r, int stride, int pad, bool direct)
    {
        var s = new Conv2dShape(n, c, h, w, k, r, stride, pad);
        var rng = new Random(s.GetHashCode());
        float[] x = CpuCompare.Random(rng, s.InputLength);
        float[] wt = CpuCompare.Random(rng, s.WeightLength);
        float[] want = CpuCompare.Spec(new float[s.OutputLength], y => Ref.Conv2dForward(y, CpuCompare.Wide(x), CpuCompare.Wide(wt), s));

        float[] got = Run(direct, s.OutputLength, float.NaN, (kernels, y) => kernels.Conv2dForward(y, CpuCompare.Upload(kernels, x), CpuCompare.Upload(kernels, wt), s));
        CpuCompare.AssertGuards(got, $"Conv2dForward {s}");
        CpuCompare.AssertClose(want, got.AsSpan(CpuCompare.Guard, s.OutputLength), CpuCompare.Tolerance(s.C * s.R * s.R), $"Conv2dForward {s}");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BackwardDataMatchesPlainLoop(int n, int c, int h, int w, int k, int r, int stride, int pad, bool direct)
    {
        var s = new Conv2dShape(n, c, h, w, k, r, stride, pad);
        var rng = new Random(s.GetHashCode() + 1);
        float[] dy = CpuCompare.Random(rng, s.OutputLength);
        float[] wt = CpuCompare.Random(rng, s.WeightLength);
        float[] want = CpuCompare.Spec(new float[s.InputLength], dx => Ref.Conv2dBackwardData(dx, CpuCompare.Wide(dy), CpuCompare.Wide(wt), s));

        float[] got = Run(direct, s.InputLength, float.NaN, (kernels, dx) => kernels.Conv2dBackwardData(dx, CpuCompare.Upload(kernels, dy), CpuCompare.Upload(kernels, wt), s));
        CpuCompare.AssertGuards(got, $"Conv2dBackwardData {s}");
        CpuCompare.AssertClose(want, got.AsSpan(CpuCompare.Guard, s.InputLength), CpuCompare.Tolerance(s.K * s.R * s.R), $"Conv2dBackwardData {s}");

        // Accumulating onto a gradient already there (a shortcut's): each path adds where it stores, or through scratch.
        float[] dx0 = CpuCompare.Random(rng, s.InputLength);
        float[] wantSum = CpuCompare.Spec(new float[s.InputLength], dx =>
        {
            Ref.Conv2dBackwardData(dx, CpuCompare.Wide(dy), CpuCompare.Wide(wt), s);
            for (int i = 0; i < dx.Length; i++)
            {
                dx[i] += dx0[i];
            }
        });
        got = Run(direct, dx0, (kernels, dx) => kernels.Conv2dBackwardData(dx, CpuCompare.Upload(kernels, dy), CpuCompare.Upload(kernels, wt), s, accumulate: true));
        CpuCompare.AssertGuards(got, $"Conv2dBackwardData accumulating {s}");
        CpuCompare.AssertClose(wantSum, got.AsSpan(CpuCompare.Guard, s.InputLength), CpuCompare.Tolerance(s.K * s.R * s.R), $"Conv2dBackwardData accumulating {s}");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BackwardWeightAccumulatesLikePlainLoop(int n, int c, int h, int w, int k, int r, int stride, int pad, bool direct)
    {
        var s = new Conv2dShape(n, c, h, w, k, r, stride, pad);
        var rng = new Random(s.GetHashCode() + 2);
        float[] dy = CpuCompare.Random(rng, s.OutputLength);
        float[] x = CpuCompare.Random(rng, s.InputLength);
        float[] dw0 = CpuCompare.Random(rng, s.WeightLength);
        float[] want = CpuCompare.Spec(dw0, dw => Ref.Conv2dBackwardWeight(dw, CpuCompare.Wide(dy), CpuCompare.Wide(x), s));

        float[] got = Run(direct, dw0, (kernels, dw) => kernels.Conv2dBackwardWeight(dw, CpuCompare.Upload(kernels, dy), CpuCompare.Upload(kernels, x), s));
        CpuCompare.AssertGuards(got, $"Conv2dBackwardWeight {s}");
        CpuCompare.AssertClose(want, got.AsSpan(CpuCompare.Guard, s.WeightLength), CpuCompare.Tolerance(s.N * s.OutH * s.OutW), $"Conv2dBackwardWeight {s}");
    }

    [Fact]
    public void WrongWeightLengthThrowsNamingTheOp()
    {
        using var kernels = new CpuKernels();
        var s = new Conv2dShape(1, 2, 4, 4, 3, 3, 1, 1);
        var x = kernels.Allocate(s.InputLength);
        var w = kernels.Allocate(s.WeightLength - 1);
        var y = kernels.Allocate(s.OutputLength);
        var e = Assert.Throws<ShapeMismatchException>(() => kernels.Conv2dForward(y.Span, x.Span, w.Span, s));
        Assert.Contains("Conv2dForward", e.Message);
        e = Assert.Throws<ShapeMismatchException>(() => kernels.Conv2dBackwardWeight(w.Span, y.Span, x.Span, s));
        Assert.Contains("Conv2dBackwardWeight", e.Message);
    }

    private static float[] Run(bool direct, int length, float fill, Action<CpuKernels, DeviceSpan> op)
    {
        var initial = new float[length];
        Array.Fill(initial, fill);
        return Run(direct, initial, op);
    }

    /// <summary>Runs op on an output that starts as `initial` between guard bands; returns the whole guarded buffer.</summary>
    private static float[] Run(bool direct, float[] initial, Action<CpuKernels, DeviceSpan> op)
    {
        using var kernels = new CpuKernels { Convolution = direct ? ConvolutionPath.Direct : ConvolutionPath.ImplicitGemm };
        var buffer = kernels.Allocate(initial.Length + 2 * CpuCompare.Guard);
        kernels.Upload(buffer.Span, CpuCompare.WithGuards(initial));
        op(kernels, buffer.Slice(CpuCompare.Guard, initial.Length));
        var got = new float[buffer.Length];
        kernels.Download(buffer.Span, got);
        return got;
    }
}

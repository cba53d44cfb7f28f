using System.Runtime.InteropServices;
using EmpSsl.Kernels.Cpu;
using EmpSsl.Kernels.Reference;
using EmpSsl.Testing;

namespace EmpSsl.Kernels.Tests;

/// <summary>
/// The cpu backend's polyphase path for stride-2 convolutions (Conv2dPolyphase), each pass against the float64 spec:
/// odd spatial sizes (whose phases differ in size), planes of one pixel, channel counts that are not multiples of
/// the vector width, batch 1, output rows of 4, 8 and 16 (whole and split half-slivers), reductions over more than
/// one KC step, the ResNet 3x3 pad 1 and other kernels and pads (a 1x1 kernel leaves three phases of dx without a
/// tap), on the native and the AVX-512 register tile (emulated where the CPU lacks it). NaN poison in written
/// outputs, a random start in the accumulated dw, guard bands, tolerance Tol.Gemm.
/// </summary>
public sealed unsafe class Conv2dPolyphaseTests : PinnedRuns
{
    public static TheoryData<int, int, int, int, int, int, int, bool> Shapes()
    {
        var data = new TheoryData<int, int, int, int, int, int, int, bool>();
        foreach (var (n, c, h, w, k, r, pad) in ShapeList)
        {
            data.Add(n, c, h, w, k, r, pad, false);
            data.Add(n, c, h, w, k, r, pad, true);
        }
        return data;
    }

    private static readonly (int N, int C, int H, int W, int K, int R, int Pad)[] ShapeList =
    [
        // N, C, H, W, K, R, pad (stride 2)
        (1, 3, 7, 5, 5, 3, 1),
        (2, 17, 7, 5, 19, 3, 1),
        (2, 6, 9, 7, 10, 3, 1),
        // Output rows of 16, 8 and 4 pixels, as on ResNet-18 CIFAR's stride-2 layers.
        (2, 5, 32, 32, 7, 3, 1),
        (3, 12, 16, 16, 20, 3, 1),
        (2, 20, 8, 8, 24, 3, 1),
        // C * 9 and K * 4 over one KC step of 256.
        (2, 40, 8, 8, 70, 3, 1),
        // One-pixel and one-row planes.
        (2, 4, 1, 1, 3, 3, 1),
        (1, 4, 2, 9, 3, 3, 1),
        // Other kernels and pads: no padding, a 1x1 shortcut, even kernels, a 5x5 with pad 2.
        (2, 5, 9, 8, 6, 3, 0),
        (2, 20, 9, 9, 12, 1, 0),
        (2, 7, 8, 7, 5, 2, 0),
        (2, 6, 10, 9, 5, 4, 1),
        (2, 4, 11, 9, 6, 5, 2),
    ];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardMatchesSpec(int n, int c, int h, int w, int k, int r, int pad, bool wide)
    {
        var s = new Conv2dShape(n, c, h, w, k, r, 2, pad);
        ForwardMatches(s, (y, x, wt) => Conv2dPolyphase.Forward(y, x, wt, s, new GemmTiling(wide)), $"polyphase forward {s} wide {wide}");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BackwardDataMatchesSpec(int n, int c, int h, int w, int k, int r, int pad, bool wide)
    {
        var s = new Conv2dShape(n, c, h, w, k, r, 2, pad);
        BackwardDataMatches(s, (dx, dy, wt) => Conv2dPolyphase.BackwardData(dx, dy, wt, s, new GemmTiling(wide)), $"polyphase backward data {s} wide {wide}");
        BackwardDataMatches(s, (dx, dy, wt) => Conv2dPolyphase.BackwardData(dx, dy, wt, s, new GemmTiling(wide), accumulate: true), $"polyphase backward data, accumulating, {s} wide {wide}", accumulating: true);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BackwardWeightAccumulatesSpec(int n, int c, int h, int w, int k, int r, int pad, bool wide)
    {
        var s = new Conv2dShape(n, c, h, w, k, r, 2, pad);
        BackwardWeightMatches(s, (dw, dy, x) => Conv2dPolyphase.BackwardWeight(dw, dy, x, s, new GemmTiling(wide)), $"polyphase backward weight {s} wide {wide}");
    }

    /// <summary>Through the backend with the path pinned, on a ResNet-18-like stride-2 layer at batch 1 and 2.</summary>
    [Theory]
    [InlineData(1, 32, 16, 16, 48)]
    [InlineData(2, 24, 8, 8, 40)]
    public void BackendRunsAllThreePassesPinned(int n, int c, int h, int w, int k)
    {
        var s = new Conv2dShape(n, c, h, w, k, 3, 2, 1);
        using var kernels = new CpuKernels { Convolution = ConvolutionPath.Polyphase };
        Assert.True(kernels.RoutesToPolyphase(s, ConvolutionPass.Forward));
        Assert.True(kernels.RoutesToPolyphase(s, ConvolutionPass.BackwardData));
        Assert.True(kernels.RoutesToPolyphase(s, ConvolutionPass.BackwardWeight));
        var rng = new Random(s.GetHashCode() + 3);
        float[] x = CpuCompare.Random(rng, s.InputLength);
        float[] wt = CpuCompare.Random(rng, s.WeightLength);
        float[] dy = CpuCompare.Random(rng, s.OutputLength);
        float[] dw0 = CpuCompare.Random(rng, s.WeightLength);

        var want = new double[s.OutputLength];
        Ref.Conv2dForward(want, CpuCompare.Wide(x), CpuCompare.Wide(wt), s);
        Check(want, Through(kernels, Poisoned(s.OutputLength), o => kernels.Conv2dForward(o, CpuCompare.Upload(kernels, x), CpuCompare.Upload(kernels, wt), s)), $"backend forward {s}");

        want = new double[s.InputLength];
        Ref.Conv2dBackwardData(want, CpuCompare.Wide(dy), CpuCompare.Wide(wt), s);
        Check(want, Through(kernels, Poisoned(s.InputLength), o => kernels.Conv2dBackwardData(o, CpuCompare.Upload(kernels, dy), CpuCompare.Upload(kernels, wt), s)), $"backend backward data {s}");

        want = CpuCompare.Wide(dw0);
        Ref.Conv2dBackwardWeight(want, CpuCompare.Wide(dy), CpuCompare.Wide(x), s);
        Check(want, Through(kernels, dw0, o => kernels.Conv2dBackwardWeight(o, CpuCompare.Upload(kernels, dy), CpuCompare.Upload(kernels, x), s)), $"backend backward weight {s}");
    }

    [Fact]
    public void AutoRoutesStrideTwoPassesWherePolyphaseMeasuredFaster()
    {
        using var kernels = new CpuKernels();
        // The stride-2 Winograd takes 64 -> 128 and 128 -> 256 at batch 64 (1024 and 256 tiles), and 256 -> 512's
        // backward data (64 tiles of 4x4), so polyphase keeps that layer's forward and weight gradient and, at fewer
        // channels, the passes where it beat the direct path and the column matrix.
        var first = new Conv2dShape(64, 64, 32, 32, 128, 3, 2, 1);
        var second = new Conv2dShape(64, 128, 16, 16, 256, 3, 2, 1);
        var third = new Conv2dShape(64, 256, 8, 8, 512, 3, 2, 1);
        var few = new Conv2dShape(64, 32, 32, 32, 64, 3, 2, 1);
        foreach (var pass in new[] { ConvolutionPass.Forward, ConvolutionPass.BackwardData, ConvolutionPass.BackwardWeight })
        {
            Assert.False(kernels.RoutesToPolyphase(first, pass));
            Assert.False(kernels.RoutesToPolyphase(second, pass));
        }
        // With fewer channels the rule keeps the direct forward and the folded column matrix for backward data, which
        // beat polyphase at 64 -> 128 before the stride-2 Winograd took that layer.
        Assert.False(kernels.RoutesToPolyphase(few, ConvolutionPass.Forward));
        Assert.False(kernels.RoutesToPolyphase(few, ConvolutionPass.BackwardData));
        Assert.True(kernels.RoutesToPolyphase(few, ConvolutionPass.BackwardWeight));
        // At 64 tiles (64 images of one, 16 of four) the stride-2 Winograd takes backward data only.
        foreach (var s in new[] { third, new Conv2dShape(16, 128, 16, 16, 256, 3, 2, 1) })
        {
            Assert.True(kernels.RoutesToPolyphase(s, ConvolutionPass.Forward));
            Assert.False(kernels.RoutesToPolyphase(s, ConvolutionPass.BackwardData));
            Assert.True(kernels.RoutesToPolyphase(s, ConvolutionPass.BackwardWeight));
        }
        Assert.True(kernels.RoutesToPolyphase(new Conv2dShape(32, 256, 8, 8, 512, 3, 2, 1), ConvolutionPass.BackwardData));
        // Never at stride 1, nor for the 1x1 shortcuts unless pinned, nor when another path is pinned.
        Assert.False(kernels.RoutesToPolyphase(new Conv2dShape(64, 64, 32, 32, 64, 3, 1, 1), ConvolutionPass.BackwardWeight));
        Assert.False(kernels.RoutesToPolyphase(new Conv2dShape(64, 64, 32, 32, 128, 1, 2, 0), ConvolutionPass.BackwardWeight));
        kernels.Convolution = ConvolutionPath.ImplicitGemm;
        Assert.False(kernels.RoutesToPolyphase(third, ConvolutionPass.Forward));
        kernels.Convolution = ConvolutionPath.Polyphase;
        Assert.True(kernels.RoutesToPolyphase(first, ConvolutionPass.Forward));
        Assert.True(kernels.RoutesToPolyphase(new Conv2dShape(2, 20, 9, 9, 12, 1, 2, 0), ConvolutionPass.BackwardData));
        Assert.False(kernels.RoutesToPolyphase(new Conv2dShape(64, 64, 32, 32, 64, 3, 1, 1), ConvolutionPass.Forward));
        Assert.True(ConvolutionPathNames.TryParse("polyphase", out var path));
        Assert.Equal(ConvolutionPath.Polyphase, path);
    }

    private static float[] Through(CpuKernels kernels, float[] initial, Action<DeviceSpan> op)
    {
        var buffer = kernels.Allocate(initial.Length + 2 * CpuCompare.Guard);
        kernels.Upload(buffer.Span, CpuCompare.WithGuards(initial));
        op(buffer.Slice(CpuCompare.Guard, initial.Length));
        var got = new float[buffer.Length];
        kernels.Download(buffer.Span, got);
        return got;
    }
}

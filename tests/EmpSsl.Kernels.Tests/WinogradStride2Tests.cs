using EmpSsl.Kernels.Cpu;
using EmpSsl.Testing;

namespace EmpSsl.Kernels.Tests;

/// <summary>
/// The cpu backend's Winograd path for 3x3 stride-2 convolutions (WinogradStride2: F(4x4, 2x2) over the four phases of
/// x, skipping the products that are zero), each pass against the float64 spec: odd spatial sizes (phases of unequal
/// size, a last tile hanging over the edge), planes of one pixel, channel counts that are not multiples of 4, 8 or 16
/// (so the skipped ranges start inside register slivers), many tile blocks, reductions over several KC steps, a
/// weight gradient with parts of its own and with blocks both threads share, and both register tiles (the AVX-512 one
/// emulated where the CPU lacks it). NaN poison in written outputs, a random start in the accumulated dw and dx, guard
/// bands, tolerance Tol.Winograd.
/// </summary>
public sealed unsafe class WinogradStride2Tests : PinnedRuns
{
    public static TheoryData<int, int, int, int, int, bool> Shapes()
    {
        var data = new TheoryData<int, int, int, int, int, bool>();
        foreach (var (n, c, h, w, k) in ShapeList)
        {
            data.Add(n, c, h, w, k, false);
            data.Add(n, c, h, w, k, true);
        }
        return data;
    }

    private static readonly (int N, int C, int H, int W, int K)[] ShapeList =
    [
        // N, C, H, W, K (3x3, stride 2, pad 1)
        (1, 3, 7, 5, 5),
        (2, 17, 9, 7, 19),
        // ResNet-18 CIFAR's stride-2 planes (outputs 16x16, 8x8, 4x4), fewer channels.
        (2, 10, 32, 32, 13),
        (3, 12, 16, 16, 20),
        (2, 20, 8, 8, 24),
        // 9 tiles per image in blocks of 96: blocks that start inside an image, whose phases are split block by block.
        (12, 10, 24, 24, 13),
        // 4 C = 280 over one KC step of 256, K = 70 over one block of rows.
        (2, 70, 8, 8, 70),
        // C + K over 256: the many-channels blocks; K C over 256 x 256: the weight gradient's shared blocks.
        (2, 100, 6, 10, 300),
        // U over Winograd.StreamedWeightFloats (25 x 276 x 1024 floats, and backward data's 25 x 1026 x 272): the
        // weight transform's non-temporal stores.
        (1, 256, 7, 9, 272),
        // One pixel, one row, and a plane under one tile.
        (2, 4, 1, 1, 3),
        (1, 5, 2, 9, 6),
        (3, 9, 3, 4, 7),
    ];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardMatchesSpec(int n, int c, int h, int w, int k, bool wide)
    {
        var s = new Conv2dShape(n, c, h, w, k, 3, 2, 1);
        ForwardMatches(s, (y, x, wt) => WinogradStride2.Forward(y, x, wt, s, new GemmTiling(wide)), $"stride-2 Winograd forward {s} wide {wide}");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BackwardDataMatchesSpec(int n, int c, int h, int w, int k, bool wide)
    {
        var s = new Conv2dShape(n, c, h, w, k, 3, 2, 1);
        BackwardDataMatches(s, (dx, dy, wt) => WinogradStride2.BackwardData(dx, dy, wt, s, new GemmTiling(wide)), $"stride-2 Winograd backward data {s} wide {wide}");
        BackwardDataMatches(s, (dx, dy, wt) => WinogradStride2.BackwardData(dx, dy, wt, s, new GemmTiling(wide), accumulate: true), $"stride-2 Winograd backward data, accumulating, {s} wide {wide}", accumulating: true);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BackwardWeightAccumulatesSpec(int n, int c, int h, int w, int k, bool wide)
    {
        var s = new Conv2dShape(n, c, h, w, k, 3, 2, 1);
        foreach (bool shared in new[] { false, true })
        {
            BackwardWeightMatches(
                s, (dw, dy, x) => WinogradStride2.BackwardWeight(dw, dy, x, s, new GemmTiling(wide), shared),
                $"stride-2 Winograd backward weight {s} wide {wide} shared blocks {shared}");
        }
    }

    /// <summary>Training repeats bit for bit only if the weight gradient sums its tiles in the same order every time.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WeightGradientIsTheSameBitForBitOnEveryRun(bool shared)
    {
        var s = new Conv2dShape(8, 12, 32, 32, 10, 3, 2, 1);
        WeightGradientRepeats(s, (dw, dy, x) => WinogradStride2.BackwardWeight(dw, dy, x, s, GemmBlocking.Native, shared), seed: 11);
    }

    /// <summary>Each 3x3 tap belongs to exactly one phase's 2x2 kernel, and the skipped cells are those where a phase has one tap.</summary>
    [Fact]
    public void PhasesHoldEachTapOnceAndSkipOnlyEmptyCells()
    {
        var seen = new int[9];
        for (int p = 0; p < 4; p++)
        {
            var (a, b) = WinogradStride2.Parities(p);
            for (int i = 0; i < 2; i++)
            {
                for (int j = 0; j < 2; j++)
                {
                    int ti = WinogradStride2.Tap(a, i);
                    int tj = WinogradStride2.Tap(b, j);
                    if (ti >= 0 && tj >= 0)
                    {
                        seen[(3 * ti) + tj]++;
                    }
                }
            }
        }
        Assert.All(seen, count => Assert.Equal(1, count));
        // A phase is skipped at a zero row (column) exactly when its rows (columns) are even.
        foreach (bool row in new[] { false, true })
        {
            foreach (bool column in new[] { false, true })
            {
                var (first, last) = WinogradStride2.ActivePhases(row, column);
                for (int p = 0; p < 4; p++)
                {
                    var (a, b) = WinogradStride2.Parities(p);
                    bool active = (!row || a == 1) && (!column || b == 1);
                    Assert.Equal(active, p >= first && p < last);
                }
            }
        }
    }

    [Fact]
    public void AutoTakesStrideTwoFromSixtyFourChannelsAndOneHundredTwentyEightTilesOrSixtyFourForBackwardData()
    {
        using var kernels = new CpuKernels();
        foreach (var pass in new[] { ConvolutionPass.Forward, ConvolutionPass.BackwardData, ConvolutionPass.BackwardWeight })
        {
            Assert.True(kernels.RoutesToWinogradStride2(new Conv2dShape(64, 64, 32, 32, 128, 3, 2, 1), pass));
            Assert.True(kernels.RoutesToWinogradStride2(new Conv2dShape(64, 128, 16, 16, 256, 3, 2, 1), pass));
            Assert.True(kernels.RoutesToWinogradStride2(new Conv2dShape(160, 256, 8, 8, 512, 3, 2, 1), pass));
            Assert.True(kernels.RoutesToWinogradStride2(new Conv2dShape(400, 64, 7, 7, 128, 3, 2, 1), pass));
            // Too few tiles (32 images of one tile, 8 of four), planes under one tile, fewer channels, other pads,
            // kernels and strides.
            Assert.False(kernels.RoutesToWinogradStride2(new Conv2dShape(32, 256, 8, 8, 512, 3, 2, 1), pass));
            Assert.False(kernels.RoutesToWinogradStride2(new Conv2dShape(8, 128, 16, 16, 256, 3, 2, 1), pass));
            Assert.False(kernels.RoutesToWinogradStride2(new Conv2dShape(400, 128, 4, 4, 256, 3, 2, 1), pass));
            Assert.False(kernels.RoutesToWinogradStride2(new Conv2dShape(64, 32, 32, 32, 64, 3, 2, 1), pass));
            Assert.False(kernels.RoutesToWinogradStride2(new Conv2dShape(64, 64, 32, 32, 128, 3, 2, 0), pass));
            Assert.False(kernels.RoutesToWinogradStride2(new Conv2dShape(64, 64, 32, 32, 128, 1, 2, 0), pass));
            Assert.False(kernels.RoutesToWinogradStride2(new Conv2dShape(64, 64, 32, 32, 64, 3, 1, 1), pass));
        }
        // 64 tiles (64 images of one, 16 of four): backward data only.
        foreach (var s in new[] { new Conv2dShape(64, 256, 8, 8, 512, 3, 2, 1), new Conv2dShape(16, 128, 16, 16, 256, 3, 2, 1) })
        {
            Assert.False(kernels.RoutesToWinogradStride2(s, ConvolutionPass.Forward));
            Assert.True(kernels.RoutesToWinogradStride2(s, ConvolutionPass.BackwardData));
            Assert.False(kernels.RoutesToWinogradStride2(s, ConvolutionPass.BackwardWeight));
        }
        kernels.Convolution = ConvolutionPath.Winograd;
        Assert.True(kernels.RoutesToWinogradStride2(new Conv2dShape(32, 256, 8, 8, 512, 3, 2, 1), ConvolutionPass.Forward));
        Assert.True(kernels.RoutesToWinogradStride2(new Conv2dShape(2, 3, 7, 5, 5, 3, 2, 1), ConvolutionPass.BackwardWeight));
        kernels.Convolution = ConvolutionPath.Polyphase;
        Assert.False(kernels.RoutesToWinogradStride2(new Conv2dShape(64, 64, 32, 32, 128, 3, 2, 1), ConvolutionPass.BackwardData));
    }

    /// <summary>Winograd sums in a transformed domain; its bound scales with the outputs' rms.</summary>
    protected override Tolerance Band(double[] want) => Tol.Winograd(want);
}

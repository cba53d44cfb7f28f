namespace EmpSsl.Kernels.Cpu;

// Conv2d family. Gradient rule: dx is an activation gradient and is WRITTEN (=); dw is a parameter
// gradient and ACCUMULATES (+=), or adds into dx where the caller asks. Besides Winograd for 3x3 stride 1
// (Winograd.cs) and, over x's phases, 3x3 stride 2 (WinogradStride2.cs), the polyphase implicit GEMM for the other
// stride-2 layers (Conv2dPolyphase.cs) and the subsampled GEMM for the 1x1
// strided shortcuts (Conv2dStridedPointwise.cs), where each measured faster: the direct channels-last convolution
// (Conv2dDirect.cs) where DirectWins says it measured faster (few channels, narrow planes), else the implicit GEMM below.
// The implicit GEMM runs each pass as one packed GEMM over the whole batch, with P = OH*OW
// and CRR = C*R*R, and col the (CRR, N*P) column matrix of x:
//   forward          y (K, N*P)   = w (K, CRR) . col
//   backward weight  dw (K, CRR) += dy (K, N*P) . col^T
//   backward data    stride 1: the forward of dy with w's kernels swapped and flipped;
//                    otherwise dcol (CRR, nb*P) = w^T . dy per chunk of images, then col2im into dx (at stride 2
//                    by phases: each dx row is written once from contiguous runs, Im2Col.cs).
// col is never stored: the GEMM packs its panels straight from x (Im2ColMatrix), or from a zero-padded
// copy of x at stride 1 (Im2ColPaddedMatrix), where each tap of a panel is one vector copy. The NCHW
// tensors enter the GEMM as grouped matrices (one group of P columns per image), so y, dy and dx are
// read and written in place, and a 1x1 stride-1 convolution is a plain GEMM.
// Measured against the im2col-into-memory version on the ResNet-18 CIFAR shapes, the implicit packing
// won, most on the 32x32 layers whose 64 channels reuse each packed element least.
public sealed partial class CpuKernels
{
    /// <summary>How many floats the stride-2 backward-data column matrix of one chunk may take: it should stay in the shared L3.</summary>
    private const int ColumnBudget = 1 << 21;

    // The calling thread's work arrays (Scratch): the stride-2 column matrix, the zero-padded input, flipped weights.
    [ThreadStatic]
    private static float[]? s_columns;

    [ThreadStatic]
    private static float[]? s_padded;

    [ThreadStatic]
    private static float[]? s_flipped;

    /// <param name="y">(N, K, OH, OW), written</param>
    /// <param name="x">(N, C, H, W)</param>
    /// <param name="w">(K, C, R, R)</param>
    public unsafe void Conv2dForward(DeviceSpan y, DeviceSpan x, DeviceSpan w, in Conv2dShape s)
    {
        Checks.Conv2d("Conv2dForward", y, x, w, s);
        var shape = s;
        int p = s.OutH * s.OutW;
        fixed (float* py = S(y), px = S(x), pw = S(w))
        {
            if (IsPointwise(s))
            {
                GemmDriver.Run(
                    s.K, s.N * p, s.C,
                    new GemmMatrix(pw, s.C), false,
                    GemmMatrix.Images(px, s.C, p), false,
                    GemmMatrix.Images(py, s.K, p), 1f, 0f);
                return;
            }
            if (UseStridedPointwise(s))
            {
                Conv2dStridedPointwise.Forward(py, px, pw, shape, GemmBlocking.Native);
                return;
            }
            if (UseWinograd(s))
            {
                Winograd.Forward(py, px, pw, shape, GemmBlocking.Native);
                return;
            }
            if (UseWinogradStride2(s, ConvolutionPass.Forward))
            {
                WinogradStride2.Forward(py, px, pw, shape, GemmBlocking.Native);
                return;
            }
            if (UsePolyphase(s, ConvolutionPass.Forward))
            {
                Conv2dPolyphase.Forward(py, px, pw, shape, GemmBlocking.Native);
                return;
            }
            if (UseDirect(s, Conv2dDirect.SupportsForward(s)))
            {
                Conv2dDirect.Forward(py, px, pw, shape);
                return;
            }
            ForwardImplicit(py, px, pw, shape);
        }
    }

    /// <summary>The gradient an accumulating <see cref="Conv2dBackwardData"/> adds into dx where its path only writes; one per thread, as Scratch asks.</summary>
    [ThreadStatic]
    private static float[]? s_accumulatedDx;

    /// <param name="dx">(N, C, H, W), written, or added to with <paramref name="accumulate"/></param>
    /// <param name="dy">(N, K, OH, OW)</param>
    /// <param name="w">(K, C, R, R)</param>
    public unsafe void Conv2dBackwardData(DeviceSpan dx, DeviceSpan dy, DeviceSpan w, in Conv2dShape s, bool accumulate = false)
    {
        Checks.Conv2d("Conv2dBackwardData", dy, dx, w, s, "dy", "dx", "w");
        fixed (float* pdx = S(dx), pdy = S(dy), pw = S(w))
        {
            BackwardData(pdx, pdy, pw, s, accumulate);
        }
    }

    /// <summary>
    /// dx = the gradient through x, written or, with <paramref name="accumulate"/>, added: the pointwise GEMM (beta 1),
    /// the strided pointwise spread, Winograd's output transform, the polyphase merge and col2im add where they store;
    /// the direct path and the stride-1 GEMM write into scratch that one sweep then adds.
    /// </summary>
    private unsafe void BackwardData(float* pdx, float* pdy, float* pw, in Conv2dShape s, bool accumulate)
    {
        var shape = s;
        int p = s.OutH * s.OutW;
        int crr = s.C * s.R * s.R;
        if (IsPointwise(s))
        {
            GemmDriver.Run(
                s.C, s.N * p, s.K,
                new GemmMatrix(pw, s.C), true,
                GemmMatrix.Images(pdy, s.K, p), false,
                GemmMatrix.Images(pdx, s.C, p), 1f, accumulate ? 1f : 0f);
            return;
        }
        if (UseStridedPointwise(s))
        {
            Conv2dStridedPointwise.BackwardData(pdx, pdy, pw, shape, accumulate, GemmBlocking.Native);
            return;
        }
        if (UseWinograd(s))
        {
            Winograd.BackwardData(pdx, pdy, pw, shape, GemmBlocking.Native, accumulate);
            return;
        }
        if (UseWinogradStride2(s, ConvolutionPass.BackwardData))
        {
            WinogradStride2.BackwardData(pdx, pdy, pw, shape, GemmBlocking.Native, accumulate);
            return;
        }
        if (UsePolyphase(s, ConvolutionPass.BackwardData))
        {
            Conv2dPolyphase.BackwardData(pdx, pdy, pw, shape, GemmBlocking.Native, accumulate);
            return;
        }
        bool direct = UseDirect(s, Conv2dDirect.SupportsBackwardData(s));
        if (direct || (s.Stride == 1 && s.Pad <= s.R - 1))
        {
            float* to = accumulate ? Scratch.Floats(ref s_accumulatedDx, s.InputLength) : pdx;
            if (direct)
            {
                Conv2dDirect.BackwardData(to, pdy, pw, shape);
            }
            else
            {
                BackwardDataAsForward(to, pdy, pw, shape);
            }
            if (accumulate)
            {
                SimdDriver.Map(pdx, pdx, to, s.InputLength, default(AddOp));
            }
            return;
        }
        int nb = ChunkImages(s);
        float* pcol = Scratch.Floats(ref s_columns, (long)crr * nb * p);
        for (int n0 = 0; n0 < s.N; n0 += nb)
        {
            int count = Math.Min(nb, s.N - n0);
            GemmDriver.Run(
                crr, count * p, s.K,
                new GemmMatrix(pw, crr), true,
                GemmMatrix.Images(pdy + (long)n0 * s.K * p, s.K, p), false,
                new GemmMatrix(pcol, (long)count * p), 1f, 0f);
            Im2Col.Unpack(pdx + (long)n0 * s.C * s.H * s.W, pcol, shape, count, accumulate);
        }
    }

    /// <param name="dw">(K, C, R, R), accumulated</param>
    /// <param name="dy">(N, K, OH, OW)</param>
    /// <param name="x">(N, C, H, W)</param>
    public unsafe void Conv2dBackwardWeight(DeviceSpan dw, DeviceSpan dy, DeviceSpan x, in Conv2dShape s)
    {
        Checks.Conv2d("Conv2dBackwardWeight", dy, x, dw, s, "dy", "x", "dw");
        var shape = s;
        int p = s.OutH * s.OutW;
        int crr = s.C * s.R * s.R;
        fixed (float* pdw = S(dw), pdy = S(dy), px = S(x))
        {
            if (IsPointwise(s))
            {
                GemmDriver.Run(
                    s.K, s.C, s.N * p,
                    GemmMatrix.Images(pdy, s.K, p), false,
                    GemmMatrix.Images(px, s.C, p), true,
                    new GemmMatrix(pdw, s.C), 1f, 1f);
                return;
            }
            if (UseStridedPointwise(s))
            {
                Conv2dStridedPointwise.BackwardWeight(pdw, pdy, px, shape, GemmBlocking.Native);
                return;
            }
            if (UseWinograd(s))
            {
                Winograd.BackwardWeight(pdw, pdy, px, shape, GemmBlocking.Native);
                return;
            }
            if (UseWinogradStride2(s, ConvolutionPass.BackwardWeight))
            {
                WinogradStride2.BackwardWeight(pdw, pdy, px, shape, GemmBlocking.Native);
                return;
            }
            if (UsePolyphase(s, ConvolutionPass.BackwardWeight))
            {
                Conv2dPolyphase.BackwardWeight(pdw, pdy, px, shape, GemmBlocking.Native);
                return;
            }
            if (UseDirect(s, Conv2dDirect.SupportsBackwardWeight(s), weightGradient: true))
            {
                Conv2dDirect.BackwardWeight(pdw, pdy, px, shape);
                return;
            }
            var a = GemmMatrix.Images(pdy, s.K, p);
            var c = new GemmMatrix(pdw, crr);
            if (!Im2ColPaddedMatrix.Fits(s, GemmBlocking.Native.NR, trans: true))
            {
                GemmDriver.Run(s.K, crr, s.N * p, a, false, new Im2ColMatrix(px, shape), true, c, 1f, 1f);
                return;
            }
            float* xp = Scratch.Floats(ref s_padded, Im2ColPaddedMatrix.PaddedLength(s));
            Im2ColPaddedMatrix.Pad(xp, px, shape);
            GemmDriver.Run(s.K, crr, s.N * p, a, false, Im2ColPaddedMatrix.Padded(xp, shape), true, c, 1f, 1f);
        }
    }

    /// <summary>
    /// At stride 1, dx is the forward convolution of dy with w's kernels swapped (C, K) and flipped, padded
    /// R-1-pad: one implicit GEMM, with no column matrix and no col2im.
    /// </summary>
    private static unsafe void BackwardDataAsForward(float* dx, float* dy, float* w, in Conv2dShape s)
    {
        int rr = s.R * s.R;
        float* flipped = Scratch.Floats(ref s_flipped, s.WeightLength);
        for (int k = 0; k < s.K; k++)
        {
            for (int c = 0; c < s.C; c++)
            {
                float* from = w + ((long)k * s.C + c) * rr;
                int to = (c * s.K + k) * rr;
                for (int i = 0; i < rr; i++)
                {
                    flipped[to + rr - 1 - i] = from[i];
                }
            }
        }
        var t = new Conv2dShape(s.N, s.K, s.OutH, s.OutW, s.C, s.R, 1, s.R - 1 - s.Pad);
        ForwardImplicit(dx, dy, flipped, t);
    }

    /// <summary>
    /// y = conv(x, w) as one GEMM whose B panels are packed straight from x: from a zero-padded copy
    /// when the panels' halves are whole output rows at stride 1 (a vector copy per tap), else gathered.
    /// </summary>
    private static unsafe void ForwardImplicit(float* y, float* x, float* w, in Conv2dShape s)
    {
        int p = s.OutH * s.OutW;
        int crr = s.C * s.R * s.R;
        var a = new GemmMatrix(w, crr);
        var c = GemmMatrix.Images(y, s.K, p);
        if (!Im2ColPaddedMatrix.Fits(s, GemmBlocking.Native.NR, trans: false))
        {
            GemmDriver.Run(s.K, s.N * p, crr, a, false, new Im2ColMatrix(x, s), false, c, 1f, 0f);
            return;
        }
        float* xp = Scratch.Floats(ref s_padded, Im2ColPaddedMatrix.PaddedLength(s));
        Im2ColPaddedMatrix.Pad(xp, x, s);
        GemmDriver.Run(s.K, s.N * p, crr, a, false, Im2ColPaddedMatrix.Padded(xp, s), false, c, 1f, 0f);
    }

    /// <summary>Which convolution this backend runs: <see cref="ConvolutionPath.Auto"/> picks per shape; tests and benchmarks pin one.</summary>
    public ConvolutionPath Convolution { get; set; } = ConvolutionPath.Auto;

    /// <summary>Whether this backend, as set, runs the shape's three passes by Winograd F(4x4, 3x3).</summary>
    internal bool RoutesToWinograd(in Conv2dShape s) => UseWinograd(s);

    /// <summary>
    /// Winograd F(4x4, 3x3) where it applies (3x3, stride 1, pad at most 2, AVX2 and FMA) and is pinned, or in Auto
    /// where it measured faster.
    /// </summary>
    private bool UseWinograd(in Conv2dShape s) => s.Pad <= 2 && Winograd.Supports(s) && Convolution switch
    {
        ConvolutionPath.Winograd => true,
        ConvolutionPath.Auto => WinogradWins(s),
        _ => false,
    };

    /// <summary>
    /// Where Winograd measured faster (step benches on the 2-core EPYC, docs/BENCHMARKS.md, "Winograd"): with 64
    /// channels or more on both sides and planes of at least one whole 4x4 tile. It beat both other paths on every
    /// ResNet-18 CIFAR 3x3 stride-1 layer (32x32 to 4x4, 64 to 512 channels) in all three passes, and on the
    /// Fashion-MNIST encoder's 7x7 and 4x4 layers. With fewer channels the micro-kernel's reduction (C, or K for
    /// backward data) is too short to pay for the transforms (the 1- and 3-channel stems ran at a third of the other
    /// paths' speed, 16-32 channels no faster than the direct path), and a 2x2 plane computes a 4x4 tile for 4 of its
    /// 16 outputs (256 channels at 2x2: 56-62 GFLOP/s against the direct path's 66-85).
    /// </summary>
    private static bool WinogradWins(in Conv2dShape s) => Math.Min(s.C, s.K) >= 64 && s.OutH >= 4 && s.OutW >= 4;

    /// <summary>Whether this backend, as set, runs the pass of the shape by Winograd F(4x4, 2x2) over x's phases.</summary>
    internal bool RoutesToWinogradStride2(in Conv2dShape s, ConvolutionPass pass) => UseWinogradStride2(s, pass);

    /// <summary>Winograd over the phases of x (WinogradStride2) for 3x3 stride-2 pad-1 convolutions where pinned, or in Auto where it measured faster.</summary>
    private bool UseWinogradStride2(in Conv2dShape s, ConvolutionPass pass) => WinogradStride2.Supports(s) && Convolution switch
    {
        ConvolutionPath.Winograd => true,
        ConvolutionPath.Auto => WinogradStride2Wins(s, pass),
        _ => false,
    };

    /// <summary>
    /// Where the stride-2 Winograd measured faster (docs/BENCHMARKS.md, "Stride-2 Winograd" and "Backward data writes
    /// dx's phases in place"; in-process alternation against the paths it replaces): from 64 channels
    /// on both sides, output planes of at least one whole 4x4 tile, and at least 128 tiles in the call, or 64 for
    /// backward data. Below that the transformed weights (25 K 4C floats: 52 MB at 256 -> 512) and the weight
    /// gradient's accumulators are used for too few tiles: at 256 -> 512 on 4x4 planes (one tile per image) batch 64
    /// lost or tied in the forward and weight gradient (weight gradient 87 against 98 GFLOP/s median), batch 160 and
    /// 500 won (forward 123 against 107, backward data 124-131 against 77-95, weight gradient 100-136 against 89-95).
    /// Backward data, whose output transform writes dx's phases in place, won at batch 64 too (medians 85-99 against
    /// 70-91) and lost at 32 (63 against 81).
    /// </summary>
    private static bool WinogradStride2Wins(in Conv2dShape s, ConvolutionPass pass)
        => Math.Min(s.C, s.K) >= 64 && s.OutH >= 4 && s.OutW >= 4
            && new Winograd.Geometry(s).Tiles >= (pass == ConvolutionPass.BackwardData ? 64 : 128);

    /// <summary>Whether this backend, as set, runs the pass of the shape by polyphase decomposition.</summary>
    internal bool RoutesToPolyphase(in Conv2dShape s, ConvolutionPass pass) => UsePolyphase(s, pass);

    /// <summary>
    /// The polyphase implicit GEMM for stride 2 where it is pinned, or in Auto where it measured faster and the stride-2
    /// Winograd does not take the shape.
    /// </summary>
    private bool UsePolyphase(in Conv2dShape s, ConvolutionPass pass) => Conv2dPolyphase.Supports(s) && Convolution switch
    {
        ConvolutionPath.Polyphase => true,
        ConvolutionPath.Auto => PolyphaseWins(s, pass) && !UseWinogradStride2(s, pass),
        _ => false,
    };

    /// <summary>
    /// Where the polyphase path measured faster (paths bench, in-process alternation, 2-core EPYC, on the three
    /// ResNet-18 CIFAR stride-2 3x3 layers): the weight gradient everywhere; the forward except where the direct path
    /// wins (64 -> 128 channels at 32x32: direct 114 against 92 GFLOP/s), whose column-matrix panels each feed only
    /// 128 output channels; backward data from 256 input channels (8x8: 149 against 138). With fewer, its per-phase
    /// GEMMs have only C rows, and the column matrix (9C rows) folded by phases ran faster (64 channels: 98-107
    /// against 77; 128: equal).
    /// </summary>
    private static bool PolyphaseWins(in Conv2dShape s, ConvolutionPass pass) => s.R == 3 && pass switch
    {
        ConvolutionPass.Forward => !(Conv2dDirect.SupportsForward(s) && DirectWins(s, weightGradient: false)),
        ConvolutionPass.BackwardData => s.C >= 256,
        _ => true,
    };

    private bool UseDirect(in Conv2dShape s, bool supported, bool weightGradient = false) => supported && Convolution switch
    {
        ConvolutionPath.Direct => true,
        ConvolutionPath.ImplicitGemm => false,
        _ => DirectWins(s, weightGradient),
    };

    /// <summary>
    /// Where the direct path measured faster (quick and step benches, 2-core EPYC, docs/BENCHMARKS.md): KxK kernels
    /// with at most 128 channels on either side, or 256 on planes narrower than the padded packing's 8 pixels
    /// (the implicit GEMM's panels then gather); for the weight gradient only where channels are few (at most 32)
    /// or planes are that narrow. The implicit GEMM wins on wide planes from 256 channels up, at 512 channels
    /// everywhere, and on 1x1 shortcuts, whose column matrix is x itself.
    /// </summary>
    private static bool DirectWins(in Conv2dShape s, bool weightGradient)
    {
        int widest = Math.Max(s.C, s.K);
        bool narrow = s.OutW < 8;
        if (s.R == 1 || widest > (narrow ? 256 : 128))
        {
            return false;
        }
        return !weightGradient || Math.Min(s.C, s.K) <= 32 || narrow;
    }

    private static bool IsPointwise(in Conv2dShape s) => s.R == 1 && s.Stride == 1 && s.Pad == 0;

    /// <summary>Whether this backend, as set, runs the shape's three passes as the GEMM of the subsampled x.</summary>
    internal bool RoutesToStridedPointwise(in Conv2dShape s) => UseStridedPointwise(s);

    /// <summary>
    /// A 1x1 strided convolution without padding (the ResNet shortcuts) as the GEMM of the subsampled x, in Auto (and
    /// with Winograd pinned, which leaves other shapes to Auto); the other pins keep their own paths for it. It beat
    /// the implicit GEMM's strided gathers on all three passes (docs/BENCHMARKS.md, "shortcuts as subsampled GEMMs").
    /// </summary>
    private bool UseStridedPointwise(in Conv2dShape s)
        => Conv2dStridedPointwise.Supports(s) && Convolution is ConvolutionPath.Auto or ConvolutionPath.Winograd;

    private static int ChunkImages(in Conv2dShape s)
    {
        long perImage = (long)s.C * s.R * s.R * s.OutH * s.OutW;
        return (int)Math.Clamp(ColumnBudget / perImage, 1, s.N);
    }
}

/// <summary>
/// The cpu backend's ways to run a KxK convolution. 1x1 stride-1 convolutions are always a plain GEMM; 1x1 strided ones
/// without padding, in Auto, the GEMM of the subsampled x (Conv2dStridedPointwise).
/// </summary>
public enum ConvolutionPath
{
    /// <summary>Per shape, whichever measured fastest (see CpuKernels.DirectWins and WinogradWins).</summary>
    Auto,

    /// <summary>One GEMM whose column-matrix panels are packed straight from x.</summary>
    ImplicitGemm,

    /// <summary>The direct channels-last convolution, where it applies (Conv2dDirect).</summary>
    Direct,

    /// <summary>Winograd F(4x4, 3x3) for 3x3 stride-1 convolutions, F(4x4, 2x2) over x's phases for 3x3 stride-2 pad-1 ones; others run as Auto would.</summary>
    Winograd,

    /// <summary>The polyphase implicit GEMM for stride-2 convolutions (Conv2dPolyphase); others run as Auto would.</summary>
    Polyphase,
}

/// <summary>The three passes of a convolution, for routing each to the path that runs it fastest.</summary>
internal enum ConvolutionPass
{
    Forward,
    BackwardData,
    BackwardWeight,
}

/// <summary>The names the command lines (trainer and benchmarks) give the <see cref="ConvolutionPath"/>s.</summary>
public static class ConvolutionPathNames
{
    /// <summary>For error messages: the names <see cref="TryParse"/> takes.</summary>
    public const string All = "auto, gemm, direct, winograd or polyphase";

    public static bool TryParse(string? name, out ConvolutionPath path)
    {
        path = name switch
        {
            "gemm" => ConvolutionPath.ImplicitGemm,
            "direct" => ConvolutionPath.Direct,
            "winograd" => ConvolutionPath.Winograd,
            "polyphase" => ConvolutionPath.Polyphase,
            _ => ConvolutionPath.Auto,
        };
        return name is "auto" or "gemm" or "direct" or "winograd" or "polyphase";
    }
}

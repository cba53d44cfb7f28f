using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// 3x3 stride-2 convolutions with padding 1 by Winograd, on the four phases of x. Row 2 o + r - 1 of x is, for
/// r = 1, row o of the even rows, and for r = 0 and 2, rows o - 1 and o of the odd rows; columns likewise. So with
/// the phases of x stored as 4 C channels, xq (N, 4 C, ceil(H / 2), ceil(W / 2)), the convolution is a stride-1 2x2
/// one over xq, padded one row and column before: a 2x2 kernel per phase holding the 3x3 kernel's taps of that
/// parity (one, two or four of them; <see cref="Tap"/>), and zeros. Winograd F(4x4, 2x2) runs it on the machinery
/// of the stride-1 F(4x4, 3x3) (Winograd.cs). A kernel with one tap per side has a zero transform in one row or
/// column of the 5x5 cells, and the phases are stored in the order (even, even), (odd, even), (odd, odd),
/// (even, odd), so that at every cell the phases whose products are not zero lie together: the GEMMs skip the
/// others, and a tile costs 16 + 20 + 20 + 25 = 81 multiply-adds per (k, c) pair instead of the direct 144.
///   forward          y = the 2x2 convolution of xq with the phases' kernels w' (K, 4 C, 2, 2)
///   backward data    the 2x2 convolution's data gradient (Winograd's backward data: dy with w' swapped and
///                    flipped), whose output transform interleaves the phases into dx as it stores them
///   backward weight  the weight gradient of w' over (dy, xq), each phase's taps added into dw where they came from
/// </summary>
internal static unsafe class WinogradStride2
{
    // The calling thread's work array (Scratch) for w'.
    [ThreadStatic]
    private static float[]? s_kernels;

    /// <summary>3x3, stride 2, padding 1 on AVX2 + FMA, with the phases small enough for Winograd's 32-bit offsets.</summary>
    public static bool Supports(in Conv2dShape s)
        => s.R == 3 && s.Stride == 2 && s.Pad == 1 && Avx2.IsSupported && Fma.IsSupported && s.OutH > 0 && s.OutW > 0
            && (long)s.N * 4 * s.C * Half(s.H) * Half(s.W) < int.MaxValue && (long)s.N * s.K * s.OutH * s.OutW < int.MaxValue;

    /// <summary>y (N, K, OH, OW) = conv(x, w), written.</summary>
    public static void Forward(float* y, float* x, float* w, in Conv2dShape s, GemmTiling tiling)
    {
        float* wq = Kernels(w, s);
        Winograd.Forward<Tile4x4K2>(y, x, wq, Geometry(s), tiling, swapped: false, accumulate: false);
    }

    /// <summary>dx (N, C, H, W) = the gradient through x: written, or added to with <paramref name="accumulate"/>.</summary>
    public static void BackwardData(float* dx, float* dy, float* w, in Conv2dShape s, GemmTiling tiling, bool accumulate = false)
    {
        int hh = Half(s.H);
        int wh = Half(s.W);
        float* wq = Kernels(w, s);
        // The 2x2 convolution's backward data: dy with w' swapped and flipped, padded one row and column after; its
        // output transform interleaves the phases of dx as it stores them.
        var g = new Winograd.Geometry(s.N, s.K, 4 * s.C, s.OutH, s.OutW, 0, hh, wh)
        {
            Phases = PhaseSide.Outputs,
            MergedH = s.H,
            MergedW = s.W,
        };
        Winograd.Forward<Tile4x4K2>(dx, dy, wq, g, tiling, swapped: true, accumulate: accumulate);
    }

    /// <summary>dw (K, C, 3, 3) += the weight gradient.</summary>
    public static void BackwardWeight(float* dw, float* dy, float* x, in Conv2dShape s, GemmTiling tiling)
        => BackwardWeight(dw, dy, x, s, tiling, Winograd.SharesBlocks(Geometry(s)));

    /// <summary>As above, with the blocks of tiles shared between the threads or a fixed share per thread (tests pin both).</summary>
    internal static void BackwardWeight(float* dw, float* dy, float* x, in Conv2dShape s, GemmTiling tiling, bool sharedBlocks)
    {
        Winograd.BackwardWeight<Tile4x4K2>(dw, dy, x, Geometry(s), tiling, sharedBlocks);
    }

    /// <summary>The phases' row and column parities (a, b), in the order their channels are stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (int A, int B) Parities(int phase) => phase switch
    {
        0 => (0, 0),
        1 => (1, 0),
        2 => (1, 1),
        _ => (0, 1),
    };

    /// <summary>
    /// The 3x3 kernel's row (or column) that tap i of the 2x2 kernel of a phase of this parity holds, or -1 for none:
    /// tap 0 reads the phase's row o - 1, tap 1 its row o.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Tap(int parity, int i) => parity == 0 ? (i == 1 ? 1 : -1) : 2 * i;

    /// <summary>taps[4 p + 2 i + j]: the 3x3 tap (3 r + s) that tap (i, j) of phase p's 2x2 kernel holds, or -1.</summary>
    public static void Taps(int* taps)
    {
        for (int p = 0; p < 4; p++)
        {
            var (a, b) = Parities(p);
            for (int t = 0; t < 4; t++)
            {
                int ti = Tap(a, t >> 1);
                int tj = Tap(b, t & 1);
                taps[(4 * p) + t] = ti >= 0 && tj >= 0 ? (3 * ti) + tj : -1;
            }
        }
    }

    /// <summary>
    /// The phases [First, Last) whose kernels' transforms are not zero at a cell in the zero row and/or column: only
    /// odd rows' phases have a tap there on rows, only odd columns' on columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (int First, int Last) ActivePhases(bool zeroRow, bool zeroColumn) => (zeroRow, zeroColumn) switch
    {
        (false, false) => (0, 4),
        (true, false) => (1, 3),
        (false, true) => (2, 4),
        _ => (2, 3),
    };

    /// <summary>
    /// The forward's 2x2 convolution over the phases: padded one row and column before, and zeros after. Its x is s's,
    /// which Winograd splits into phases block by block (<see cref="SplitImages"/>).
    /// </summary>
    private static Winograd.Geometry Geometry(in Conv2dShape s)
        => new(s.N, 4 * s.C, s.K, Half(s.H), Half(s.W), 1, s.OutH, s.OutW) { Phases = PhaseSide.Inputs, Strided = s };

    private static int Half(int n) => (n + 1) / 2;

    /// <summary>w' (K, 4 C, 2, 2) in this thread's work array: each phase's taps of w (Tap), zeros elsewhere; split over the cores by k.</summary>
    private static float* Kernels(float* w, in Conv2dShape s)
    {
        float* wq = Scratch.Floats(ref s_kernels, (long)s.K * 4 * s.C * 4);
        nint wqP = (nint)wq, wP = (nint)w;
        int channels = s.C;
        SimdDriver.ForPlanes(s.K, k =>
        {
            int* taps = stackalloc int[16];
            Taps(taps);
            for (int p = 0; p < 4; p++)
            {
                float* from = (float*)wP + (long)k * channels * 9;
                float* to = (float*)wqP + ((long)k * 4 + p) * channels * 4;
                int* tap = taps + (4 * p);
                for (int c = 0; c < channels; c++, from += 9, to += 4)
                {
                    for (int t = 0; t < 4; t++)
                    {
                        to[t] = tap[t] >= 0 ? from[tap[t]] : 0f;
                    }
                }
            }
        });
        return wq;
    }

    /// <summary>Floats of one image's phases: 4 C planes of Hh x Wh.</summary>
    internal static long ImagePhases(in Conv2dShape s) => 4L * s.C * Half(s.H) * Half(s.W);

    /// <summary>
    /// The phases of images n0 .. n1-1 of x into buffer, laid out as xq (N, 4 C, Hh, Wh) is, phase (a, b) of channel c
    /// holding x's (2 i + a, 2 j + b) and zero past x; split over the cores by plane with <paramref name="parallel"/>,
    /// else on the calling thread. Returns where image 0's phases would start, so that xq's offsets land in buffer.
    /// </summary>
    internal static float* SplitImages(float* buffer, float* x, in Conv2dShape s, int n0, int n1, bool parallel)
    {
        float* xq = buffer - (n0 * ImagePhases(s));
        if (!parallel)
        {
            for (int nc = n0 * s.C; nc < n1 * s.C; nc++)
            {
                SplitPlane(xq, x, s, nc);
            }
            return xq;
        }
        nint xqP = (nint)xq, xP = (nint)x;
        var shape = s;
        int first = n0 * s.C;
        SimdDriver.ForPlanes((n1 - n0) * s.C, i => SplitPlane((float*)xqP, (float*)xP, shape, first + i));
        return xq;
    }

    /// <summary>Plane nc of x (image nc / C, channel nc % C) into its four phases in xq.</summary>
    private static void SplitPlane(float* xq, float* x, in Conv2dShape s, int nc)
    {
        int hh = Half(s.H);
        int wh = Half(s.W);
        float* src = x + (long)nc * s.H * s.W;
        for (int i = 0; i < hh; i++)
        {
            for (int a = 0; a < 2; a++)
            {
                PhaseRows(xq, nc, s, a, i, out float* even, out float* odd);
                int row = (2 * i) + a;
                if (row >= s.H)
                {
                    SimdDriver.FillRange(even, wh, 0f);
                    SimdDriver.FillRange(odd, wh, 0f);
                    continue;
                }
                float* from = src + (long)row * s.W;
                Conv2dPolyphase.Deinterleave(from, even, odd, s.W / 2);
                if ((s.W & 1) == 1)
                {
                    even[wh - 1] = from[s.W - 1];
                    odd[wh - 1] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// Row i of phases (a, 0) and (a, 1) of plane nc (image nc / C, channel nc % C) in the phases' layout
    /// (N, 4 C, Hh, Wh): channels PhaseOf(a, 0) C + c and PhaseOf(a, 1) C + c of image n.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PhaseRows(float* phases, int nc, in Conv2dShape s, int a, int i, out float* even, out float* odd)
    {
        int wh = Half(s.W);
        long plane = (long)Half(s.H) * wh;
        float* at = phases + ((long)(nc / s.C) * 4 * s.C + (nc % s.C)) * plane + (long)i * wh;
        even = at + PhaseOf(a, 0) * s.C * plane;
        odd = at + PhaseOf(a, 1) * s.C * plane;
    }

    /// <summary>Where phase (a, b) stands in <see cref="Parities"/>'s order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static long PhaseOf(int a, int b) => a == 0 ? (b == 0 ? 0 : 3) : (b == 0 ? 1 : 2);
}

/// <summary>Which side's channels are the four phases of a stride-2 convolution (WinogradStride2), a quarter each.</summary>
internal enum PhaseSide
{
    None,

    /// <summary>The inputs' (the forward and the weight gradient).</summary>
    Inputs,

    /// <summary>The outputs' (backward data, whose outputs are the phases of dx).</summary>
    Outputs,
}

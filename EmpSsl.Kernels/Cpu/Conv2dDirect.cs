using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// Direct convolution on channels-last copies of the tensors, for AVX2 + FMA. The register tile is 6 output pixels
/// by 16 output channels, like the GEMM's, but its A operand is read in place: each of the 6 pixels broadcasts
/// x[pixel + tap, c] straight from the zero-padded channels-last input, where a tap's channels are adjacent. No
/// column matrix is built or packed, which is what the implicit GEMM pays most for when channels are few (each
/// packed element then feeds only K multiply-adds) or images are small (4x4 and 2x2 planes break its tiles).
///   forward          y[p, k]       = sum over taps t, channels c of xp[p + t, c] w[k, c, t]
///   backward data    stride 1: the forward of dy with w's kernels swapped and flipped, padded R-1-pad
///   backward weight  dw[k, c, t]  += sum over pixels p of xp[p + t, c] dy[p, k]   (tile: 6 (t, c) rows x 16 k)
/// </summary>
internal static unsafe class Conv2dDirect
{
    private const int MR = 6;
    private const int NR = 16;

    /// <summary>Channels per pass over the taps: 9 taps x 32 channels x 16 floats of weights stay in L1.</summary>
    private const int ChannelBlock = 32;

    /// <summary>Pixel tiles whose inputs stay in L2 while every channel panel runs over them.</summary>
    private const int TilesPerChunk = 16;

    /// <summary>Pixels per pass of the weight gradient: the chunk's dy rows and inputs stay in L2.</summary>
    private const int PixelChunk = 192;

    // The work arrays of the calling thread (Scratch): channels-last input, output or dy, packed weights or the
    // weight gradient's tiles, and the weight gradient's row offsets.
    [ThreadStatic]
    private static float[]? s_input;

    [ThreadStatic]
    private static float[]? s_output;

    [ThreadStatic]
    private static float[]? s_weights;

    [ThreadStatic]
    private static long[]? s_offsets;

    private static bool Available => Avx2.IsSupported && Fma.IsSupported;

    public static bool SupportsForward(in Conv2dShape s) => Available && s.K % NR == 0;

    public static bool SupportsBackwardData(in Conv2dShape s) => Available && s.Stride == 1 && s.Pad <= s.R - 1 && s.C % NR == 0;

    public static bool SupportsBackwardWeight(in Conv2dShape s) => Available && s.K % NR == 0;

    /// <summary>y (N, K, OH, OW) = conv(x (N, C, H, W), w (K, C, R, R)).</summary>
    public static void Forward(float* y, float* x, float* w, in Conv2dShape s)
    {
        int rr = s.R * s.R;
        float* wk = Scratch.Floats(ref s_weights, s.WeightLength);
        for (int k = 0; k < s.K; k++)
        {
            for (int c = 0; c < s.C; c++)
            {
                for (int t = 0; t < rr; t++)
                {
                    wk[PackedAt(k / NR, t, c, s.C, rr) + k % NR] = w[((long)k * s.C + c) * rr + t];
                }
            }
        }
        Convolve(y, x, wk, s);
    }

    /// <summary>dx (N, C, H, W) = the gradient of the forward through x, at stride 1, as a forward convolution of dy.</summary>
    public static void BackwardData(float* dx, float* dy, float* w, in Conv2dShape s)
    {
        int rr = s.R * s.R;
        var t = new Conv2dShape(s.N, s.K, s.OutH, s.OutW, s.C, s.R, 1, s.R - 1 - s.Pad);
        float* wk = Scratch.Floats(ref s_weights, s.WeightLength);
        for (int k = 0; k < s.K; k++)
        {
            for (int c = 0; c < s.C; c++)
            {
                for (int tap = 0; tap < rr; tap++)
                {
                    wk[PackedAt(c / NR, tap, k, s.K, rr) + c % NR] = w[((long)k * s.C + c) * rr + rr - 1 - tap];
                }
            }
        }
        Convolve(dx, dy, wk, t);
    }

    /// <summary>Weights packed as (K / 16, taps, C, 16): a panel's 16 output channels side by side for each tap and input channel.</summary>
    private static long PackedAt(int panel, int tap, int c, int channels, int rr) => (((long)panel * rr + tap) * channels + c) * NR;

    /// <summary>y = conv(x) with weights packed by <see cref="PackedAt"/>; s describes x and y.</summary>
    private static void Convolve(float* y, float* x, float* wk, Conv2dShape s)
    {
        int hp = s.H + 2 * s.Pad;
        int wp = s.W + 2 * s.Pad;
        long pixels = (long)s.N * s.OutH * s.OutW;
        int tiles = checked((int)((pixels + MR - 1) / MR));
        float* xp = Scratch.Floats(ref s_input, (long)s.N * hp * wp * s.C);
        // Rounded up to whole tiles: the last tile's missing pixels write rows that are never read.
        float* yn = Scratch.Floats(ref s_output, (long)tiles * MR * s.K);
        ChannelsLast.FromNchw(xp, x, s.N, s.C, s.H, s.W, s.Pad);
        nint xpP = (nint)xp;
        nint ynP = (nint)yn;
        nint wkP = (nint)wk;
        int threads = s.Flops < GemmBlocking.ParallelFlops ? 1 : Math.Min(Environment.ProcessorCount, tiles);
        Parallel.For(0, threads, t =>
            ForwardTiles((float*)ynP, (float*)xpP, (float*)wkP, s, (int)((long)t * tiles / threads), (int)((long)(t + 1) * tiles / threads)));
        ChannelsLast.ToNchw(y, yn, s.N, s.K, s.OutH * s.OutW);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardTiles(float* yn, float* xp, float* wk, in Conv2dShape s, int tile0, int tile1)
    {
        int rr = s.R * s.R;
        long* taps = stackalloc long[rr];
        Taps(taps, s);
        long* bases = stackalloc long[TilesPerChunk * MR];
        long pixels = (long)s.N * s.OutH * s.OutW;
        for (int chunk = tile0; chunk < tile1; chunk += TilesPerChunk)
        {
            int count = Math.Min(TilesPerChunk, tile1 - chunk);
            long first = (long)chunk * MR;
            int valid = (int)Math.Min(count * MR, pixels - first);
            Bases(bases, first, valid, s);
            // The last tile's missing pixels repeat the last pixel: their reads stay inside xp.
            for (int i = valid; i < count * MR; i++)
            {
                bases[i] = bases[valid - 1];
            }
            // Tiles innermost: one panel's block of weights (9 taps x 32 channels x 16, 18 KB) stays in L1 while
            // the chunk's tiles run past it. Panels innermost (the tile's windows in L1, weights streaming from L2)
            // measured slower: 1.26 against 1.03 s for the width-1/2 Fashion-MNIST step.
            for (int panel = 0; panel < s.K / NR; panel++)
            {
                for (int c0 = 0; c0 < s.C; c0 += ChannelBlock)
                {
                    int cb = Math.Min(ChannelBlock, s.C - c0);
                    float* w = wk + PackedAt(panel, 0, c0, s.C, rr);
                    for (int tl = 0; tl < count; tl++)
                    {
                        float* y = yn + (first + (long)tl * MR) * s.K + panel * NR;
                        ForwardTile(xp + c0, bases + tl * MR, taps, rr, cb, (long)s.C * NR, w, y, s.K, c0 > 0);
                    }
                }
            }
        }
    }

    /// <summary>Where each kernel tap (r, s) reads, relative to its output pixel's first tap, in the padded channels-last input.</summary>
    private static void Taps(long* taps, in Conv2dShape s)
    {
        int wp = s.W + 2 * s.Pad;
        for (int r = 0; r < s.R; r++)
        {
            for (int q = 0; q < s.R; q++)
            {
                taps[r * s.R + q] = ((long)r * wp + q) * s.C;
            }
        }
    }

    /// <summary>bases[i] = where output pixel first + i (image, oh, ow) reads its first tap, for i &lt; count.</summary>
    private static void Bases(long* bases, long first, int count, in Conv2dShape s)
    {
        int hp = s.H + 2 * s.Pad;
        int wp = s.W + 2 * s.Pad;
        int p = s.OutH * s.OutW;
        long n = first / p;
        int oh = (int)(first % p / s.OutW);
        int ow = (int)(first % s.OutW);
        for (int i = 0; i < count; i++)
        {
            bases[i] = ((n * hp + (long)oh * s.Stride) * wp + (long)ow * s.Stride) * s.C;
            if (++ow == s.OutW)
            {
                ow = 0;
                if (++oh == s.OutH)
                {
                    oh = 0;
                    n++;
                }
            }
        }
    }

    /// <summary>
    /// y[i, 0..16] (+)= sum over taps and cb channels of x[bases[i] + tap + c] w[tap, c, 0..16] for the tile's 6
    /// pixels: per channel, two weight vectors and six broadcasts feed twelve FMAs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardTile(float* x, long* bases, long* taps, int rr, int cb, long wTapStride, float* w, float* y, long ldy, bool accumulate)
    {
        var c00 = Vector256<float>.Zero;
        var c01 = c00;
        var c10 = c00;
        var c11 = c00;
        var c20 = c00;
        var c21 = c00;
        var c30 = c00;
        var c31 = c00;
        var c40 = c00;
        var c41 = c00;
        var c50 = c00;
        var c51 = c00;
        for (int t = 0; t < rr; t++)
        {
            long off = taps[t];
            float* a0 = x + bases[0] + off;
            float* a1 = x + bases[1] + off;
            float* a2 = x + bases[2] + off;
            float* a3 = x + bases[3] + off;
            float* a4 = x + bases[4] + off;
            float* a5 = x + bases[5] + off;
            float* b = w + t * wTapStride;
            for (int c = 0; c < cb; c++)
            {
                var b0 = Vector256.Load(b);
                var b1 = Vector256.Load(b + 8);
                b += NR;
                var a = Vector256.Create(a0[c]);
                c00 = Vector256.FusedMultiplyAdd(a, b0, c00);
                c01 = Vector256.FusedMultiplyAdd(a, b1, c01);
                a = Vector256.Create(a1[c]);
                c10 = Vector256.FusedMultiplyAdd(a, b0, c10);
                c11 = Vector256.FusedMultiplyAdd(a, b1, c11);
                a = Vector256.Create(a2[c]);
                c20 = Vector256.FusedMultiplyAdd(a, b0, c20);
                c21 = Vector256.FusedMultiplyAdd(a, b1, c21);
                a = Vector256.Create(a3[c]);
                c30 = Vector256.FusedMultiplyAdd(a, b0, c30);
                c31 = Vector256.FusedMultiplyAdd(a, b1, c31);
                a = Vector256.Create(a4[c]);
                c40 = Vector256.FusedMultiplyAdd(a, b0, c40);
                c41 = Vector256.FusedMultiplyAdd(a, b1, c41);
                a = Vector256.Create(a5[c]);
                c50 = Vector256.FusedMultiplyAdd(a, b0, c50);
                c51 = Vector256.FusedMultiplyAdd(a, b1, c51);
            }
        }
        StoreRow(y, c00, c01, accumulate);
        StoreRow(y + ldy, c10, c11, accumulate);
        StoreRow(y + 2 * ldy, c20, c21, accumulate);
        StoreRow(y + 3 * ldy, c30, c31, accumulate);
        StoreRow(y + 4 * ldy, c40, c41, accumulate);
        StoreRow(y + 5 * ldy, c50, c51, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* y, Vector256<float> lo, Vector256<float> hi, bool accumulate)
    {
        if (accumulate)
        {
            lo += Vector256.Load(y);
            hi += Vector256.Load(y + 8);
        }
        Vector256.Store(lo, y);
        Vector256.Store(hi, y + 8);
    }

    /// <summary>dw (K, C, R, R) += the weight gradient of the forward convolution.</summary>
    public static void BackwardWeight(float* dw, float* dy, float* x, in Conv2dShape s)
    {
        int rr = s.R * s.R;
        int hp = s.H + 2 * s.Pad;
        int wp = s.W + 2 * s.Pad;
        int pixels = checked(s.N * s.OutH * s.OutW);
        int rows = s.C * rr;
        int rowTiles = (rows + MR - 1) / MR;
        int panels = s.K / NR;
        int items = rowTiles * panels;
        float* xp = Scratch.Floats(ref s_input, (long)s.N * hp * wp * s.C);
        float* dyn = Scratch.Floats(ref s_output, (long)pixels * s.K);
        // (taps * C rounded up to whole tiles, K): rows past taps * C repeat the last one and are never read.
        float* dwt = Scratch.Floats(ref s_weights, (long)rowTiles * MR * s.K);
        long* offsets = Scratch.Longs(ref s_offsets, rowTiles * MR);
        ChannelsLast.FromNchw(xp, x, s.N, s.C, s.H, s.W, s.Pad);
        ChannelsLast.FromNchw(dyn, dy, s.N, s.K, s.OutH, s.OutW, 0);
        new Span<float>(dwt, rowTiles * MR * s.K).Clear();
        long* taps = stackalloc long[rr];
        Taps(taps, s);
        for (int q = 0; q < rowTiles * MR; q++)
        {
            int row = Math.Min(q, rows - 1);
            offsets[q] = taps[row / s.C] + row % s.C;
        }
        nint xpP = (nint)xp;
        nint dynP = (nint)dyn;
        nint dwtP = (nint)dwt;
        nint offP = (nint)offsets;
        var shape = s;
        int threads = s.Flops < GemmBlocking.ParallelFlops ? 1 : Math.Min(Environment.ProcessorCount, items);
        Parallel.For(0, threads, t =>
            WeightItems((float*)dwtP, (float*)dynP, (float*)xpP, (long*)offP, shape, rowTiles,
                (int)((long)t * items / threads), (int)((long)(t + 1) * items / threads)));
        for (int k = 0; k < s.K; k++)
        {
            for (int c = 0; c < s.C; c++)
            {
                for (int t = 0; t < rr; t++)
                {
                    dw[((long)k * s.C + c) * rr + t] += dwt[((long)t * s.C + c) * s.K + k];
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightItems(float* dwt, float* dyn, float* xp, long* offsets, in Conv2dShape s, int rowTiles, int item0, int item1)
    {
        long* bases = stackalloc long[PixelChunk];
        long pixels = (long)s.N * s.OutH * s.OutW;
        for (long j0 = 0; j0 < pixels; j0 += PixelChunk)
        {
            int count = (int)Math.Min(PixelChunk, pixels - j0);
            Bases(bases, j0, count, s);
            // Panel-major: the chunk's dy columns of one panel stay in L1 while every (tap, channel) tile runs over them.
            for (int item = item0; item < item1; item++)
            {
                int panel = item / rowTiles;
                int tile = item % rowTiles;
                WeightTile(xp, bases, count, offsets + tile * MR, dyn + j0 * s.K + panel * NR, s.K, dwt + (long)tile * MR * s.K + panel * NR, s.K);
            }
        }
    }

    /// <summary>
    /// c[i, 0..16] += sum over the chunk's pixels j of x[bases[j] + offsets[i]] dy[j, 0..16] for the tile's 6
    /// (tap, channel) rows: per pixel, two dy vectors and six broadcasts feed twelve FMAs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightTile(float* x, long* bases, int count, long* offsets, float* dy, long ldy, float* c, long ldc)
    {
        long o0 = offsets[0];
        long o1 = offsets[1];
        long o2 = offsets[2];
        long o3 = offsets[3];
        long o4 = offsets[4];
        long o5 = offsets[5];
        var c00 = Vector256.Load(c);
        var c01 = Vector256.Load(c + 8);
        var c10 = Vector256.Load(c + ldc);
        var c11 = Vector256.Load(c + ldc + 8);
        var c20 = Vector256.Load(c + 2 * ldc);
        var c21 = Vector256.Load(c + 2 * ldc + 8);
        var c30 = Vector256.Load(c + 3 * ldc);
        var c31 = Vector256.Load(c + 3 * ldc + 8);
        var c40 = Vector256.Load(c + 4 * ldc);
        var c41 = Vector256.Load(c + 4 * ldc + 8);
        var c50 = Vector256.Load(c + 5 * ldc);
        var c51 = Vector256.Load(c + 5 * ldc + 8);
        for (int j = 0; j < count; j++)
        {
            float* a = x + bases[j];
            var b0 = Vector256.Load(dy);
            var b1 = Vector256.Load(dy + 8);
            dy += ldy;
            var v = Vector256.Create(a[o0]);
            c00 = Vector256.FusedMultiplyAdd(v, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(v, b1, c01);
            v = Vector256.Create(a[o1]);
            c10 = Vector256.FusedMultiplyAdd(v, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(v, b1, c11);
            v = Vector256.Create(a[o2]);
            c20 = Vector256.FusedMultiplyAdd(v, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(v, b1, c21);
            v = Vector256.Create(a[o3]);
            c30 = Vector256.FusedMultiplyAdd(v, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(v, b1, c31);
            v = Vector256.Create(a[o4]);
            c40 = Vector256.FusedMultiplyAdd(v, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(v, b1, c41);
            v = Vector256.Create(a[o5]);
            c50 = Vector256.FusedMultiplyAdd(v, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(v, b1, c51);
        }
        StoreRow(c, c00, c01, false);
        StoreRow(c + ldc, c10, c11, false);
        StoreRow(c + 2 * ldc, c20, c21, false);
        StoreRow(c + 3 * ldc, c30, c31, false);
        StoreRow(c + 4 * ldc, c40, c41, false);
        StoreRow(c + 5 * ldc, c50, c51, false);
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// The column matrix of a stride-1 convolution, read from a zero-padded copy xp (N, C, H+2pad, W+2pad)
/// of the batch. With no padding to test for, every half-sliver of a panel (8 or 16 pixels of one output
/// row) at kernel tap (c, r, s) is one unaligned vector load from xp: packing costs a copy, not a gather.
/// As op(B) = col it needs OW to be a multiple of the half-sliver, so that no half crosses an output row.
/// As op(B) = col^T (k runs over pixels, the sliver's columns are taps), 8 taps x 8 pixels of a row
/// go through one register transpose.
/// </summary>
internal readonly unsafe struct Im2ColPaddedMatrix : IGemmOperandB
{
    private readonly float* _xp;
    private readonly Conv2dShape _s;

    /// <param name="xp">(N, C, H + 2 pad, W + 2 pad), filled by <see cref="Pad"/></param>
    public Im2ColPaddedMatrix(float* xp, Conv2dShape s)
    {
        _xp = xp;
        _s = s;
    }

    public static bool Fits(in Conv2dShape s, int nr, bool trans) => s.Stride == 1 && (trans || s.OutW % (nr / 2) == 0);

    public static long PaddedLength(in Conv2dShape s) => (long)s.N * s.C * (s.H + 2 * s.Pad) * (s.W + 2 * s.Pad);

    /// <summary>xp (N, C, H+2pad, W+2pad) = x (N, C, H, W) with a zero border, split over the cores by plane.</summary>
    public static void Pad(float* xp, float* x, Conv2dShape s)
    {
        nint xpP = (nint)xp;
        nint xP = (nint)x;
        int planes = s.N * s.C;
        int threads = Math.Min(Environment.ProcessorCount, planes);
        Parallel.For(0, threads, t =>
        {
            int end = (int)((long)(t + 1) * planes / threads);
            for (int p = (int)((long)t * planes / threads); p < end; p++)
            {
                PadPlane((float*)xpP, (float*)xP, s, p);
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PadPlane(float* xp, float* x, in Conv2dShape s, int plane)
    {
        int wp = s.W + 2 * s.Pad;
        int hp = s.H + 2 * s.Pad;
        float* dst = xp + (long)plane * hp * wp;
        float* src = x + (long)plane * s.H * s.W;
        new Span<float>(dst, s.Pad * wp).Clear();
        for (int i = 0; i < s.H; i++)
        {
            float* row = dst + (long)(i + s.Pad) * wp;
            new Span<float>(row, s.Pad).Clear();
            new ReadOnlySpan<float>(src + (long)i * s.W, s.W).CopyTo(new Span<float>(row + s.Pad, s.W));
            new Span<float>(row + s.Pad + s.W, s.Pad).Clear();
        }
        new Span<float>(dst + (long)(s.Pad + s.H) * wp, s.Pad * wp).Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void PackB(float* dst, bool trans, int k0, int kc, int j0, int nc, int nr)
    {
        var s = _s;
        int wp = s.W + 2 * s.Pad;
        long plane = (long)(s.H + 2 * s.Pad) * wp;
        int pixels = s.OutH * s.OutW;
        if (trans)
        {
            PackTransposed(dst, k0, kc, j0, nc, nr, plane, wp, pixels);
            return;
        }
        int half = nr / 2;
        long* offsets = stackalloc long[GemmBlocking.KC];
        for (int k = 0; k < kc; k++)
        {
            int q = k0 + k;
            offsets[k] = q / (s.R * s.R) * plane + q / s.R % s.R * wp + q % s.R;
        }
        for (int sl = 0; sl * nr < nc; sl++)
        {
            for (int h = 0; h < 2; h++)
            {
                int j = j0 + sl * nr + h * half;
                int cols = Math.Clamp(nc - sl * nr - h * half, 0, half);
                float* d = dst + (long)sl * nr * kc + h * half;
                if (cols == half)
                {
                    float* b = Pixel(j, pixels, plane, wp);
                    for (int k = 0; k < kc; k++)
                    {
                        GemmPacking.CopyHalf(b + offsets[k], d + (long)k * nr, half);
                    }
                    continue;
                }
                for (int c = 0; c < half; c++)
                {
                    float* b = c < cols ? Pixel(j + c, pixels, plane, wp) : null;
                    for (int k = 0; k < kc; k++)
                    {
                        d[(long)k * nr + c] = b != null ? b[offsets[k]] : 0f;
                    }
                }
            }
        }
    }

    private void PackTransposed(float* dst, int k0, int kc, int j0, int nc, int nr, long plane, int wp, int pixels)
    {
        var s = _s;
        long* taps = stackalloc long[32];
        for (int sl = 0; sl * nr < nc; sl++)
        {
            int cols = Math.Min(nr, nc - sl * nr);
            float* d = dst + (long)sl * nr * kc;
            if (cols < nr)
            {
                new Span<float>(d, nr * kc).Clear();
            }
            for (int c = 0; c < cols; c++)
            {
                int q = j0 + sl * nr + c;
                taps[c] = q / (s.R * s.R) * plane + q / s.R % s.R * wp + q % s.R;
            }
            for (int k = 0; k < kc;)
            {
                int o = (k0 + k) % s.OutW;
                int run = Math.Min(s.OutW - o, kc - k);
                float* b = Pixel(k0 + k, pixels, plane, wp);
                int t = 0;
                if (cols == nr && Avx.IsSupported)
                {
                    for (; t + 8 <= run; t += 8)
                    {
                        for (int g = 0; g < nr; g += 8)
                        {
                            Transpose8x8.Gather(b + t, taps + g, d + (long)(k + t) * nr + g, nr);
                        }
                    }
                }
                for (int c = 0; c < cols; c++)
                {
                    for (int tt = t; tt < run; tt++)
                    {
                        d[(long)(k + tt) * nr + c] = b[taps[c] + tt];
                    }
                }
                k += run;
            }
        }
    }

    /// <summary>Where output pixel j (image, oh, ow) reads tap (0, 0, 0) in xp.</summary>
    private float* Pixel(int j, int pixels, long plane, int wp)
    {
        int n = j / pixels;
        int i = j % pixels / _s.OutW;
        int o = j % _s.OutW;
        return _xp + (long)n * _s.C * plane + (long)i * wp + o;
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// The column matrix of a convolution read as a stride-1 window over a zero-padded source, so that packing copies
/// runs of pixels instead of testing each for padding. Row q of the column matrix is channel q / taps at tap
/// q % taps, which sits tapOffsets[q % taps] floats past the window's origin; column j is output pixel
/// (image, oh, ow), whose origin is src + image * imageStride + oh * rowStride + ow. Two sources give this form:
///   stride 1   xp (N, C, H + 2 pad, W + 2 pad), a zero-padded copy of x (<see cref="Pad"/>), taps r * wp + s;
///   stride 2   the four phases of the padded x (Conv2dPolyphase), where tap (r, s) is phase (r % 2, s % 2) at
///              (r / 2, s / 2): a strided window becomes a stride-1 one, and its pixels sit side by side again;
///   and the polyphase backward data reads dy through the same form, one sub-kernel per phase of dx.
/// As op(B) = col, each half-sliver of a panel (8 or 16 pixels) at a tap is one vector copy where it lies in one
/// output row, else a copy per row segment (4-pixel rows: two 128-bit copies). As op(B) = col^T (k runs over
/// pixels, the sliver's columns are taps), 8 taps x 8 (or 4) pixels of a row go through one register transpose.
/// </summary>
internal readonly unsafe struct Im2ColPaddedMatrix : IGemmOperandB
{
    /// <summary>The most taps per channel a window may have.</summary>
    public const int MaxTaps = 64;

    private readonly float* _src;
    private readonly long _imageStride;
    private readonly long _channelStride;
    private readonly int _rowStride;
    private readonly int _outH;
    private readonly int _outW;
    private readonly int _taps;
    private readonly TapOffsets _tapOffsets;

    /// <param name="tapOffsets">Where each tap of a channel sits relative to the window's origin (at most <see cref="MaxTaps"/>).</param>
    public Im2ColPaddedMatrix(float* src, long imageStride, long channelStride, int rowStride, int outH, int outW, ReadOnlySpan<long> tapOffsets)
    {
        if (tapOffsets.Length is 0 or > MaxTaps)
        {
            throw new ArgumentOutOfRangeException(nameof(tapOffsets), tapOffsets.Length, $"a window has 1 to {MaxTaps} taps");
        }
        _src = src;
        _imageStride = imageStride;
        _channelStride = channelStride;
        _rowStride = rowStride;
        _outH = outH;
        _outW = outW;
        _taps = tapOffsets.Length;
        tapOffsets.CopyTo(_tapOffsets);
    }

    /// <summary>The column matrix of a stride-1 convolution over xp, a zero-padded copy of x filled by <see cref="Pad"/>.</summary>
    public static Im2ColPaddedMatrix Padded(float* xp, in Conv2dShape s)
    {
        int wp = s.W + 2 * s.Pad;
        long plane = (long)(s.H + 2 * s.Pad) * wp;
        Span<long> taps = stackalloc long[s.R * s.R];
        for (int t = 0; t < taps.Length; t++)
        {
            taps[t] = t / s.R * wp + t % s.R;
        }
        return new Im2ColPaddedMatrix(xp, s.C * plane, plane, wp, s.OutH, s.OutW, taps);
    }

    public static bool Fits(in Conv2dShape s, int nr, bool trans)
        => s.Stride == 1 && s.R * s.R <= MaxTaps && (trans || s.OutW % (nr / 2) == 0);

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

    /// <summary>Where row q of the column matrix reads, relative to its pixel's window origin.</summary>
    private long Offset(int q) => q / _taps * _channelStride + _tapOffsets[q % _taps];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void PackB(float* dst, bool trans, int k0, int kc, int j0, int nc, int nr)
    {
        int pixels = _outH * _outW;
        if (trans)
        {
            PackTransposed(dst, k0, kc, j0, nc, nr, pixels);
            return;
        }
        int half = nr / 2;
        long* offsets = stackalloc long[GemmBlocking.KC];
        for (int k = 0; k < kc; k++)
        {
            offsets[k] = Offset(k0 + k);
        }
        // A half-sliver's pixels as runs along output rows: where each starts in the source, and how long it is.
        float** starts = stackalloc float*[16];
        int* lengths = stackalloc int[16];
        for (int sl = 0; sl * nr < nc; sl++)
        {
            for (int h = 0; h < 2; h++)
            {
                int j = j0 + sl * nr + h * half;
                int cols = Math.Clamp(nc - sl * nr - h * half, 0, half);
                float* d = dst + (long)sl * nr * kc + h * half;
                int runs = 0;
                for (int c = 0; c < cols; runs++)
                {
                    int o = (j + c) % _outW;
                    starts[runs] = Pixel(j + c, pixels);
                    lengths[runs] = Math.Min(_outW - o, cols - c);
                    c += lengths[runs];
                }
                if (runs == 1 && cols == half)
                {
                    float* b = starts[0];
                    for (int k = 0; k < kc; k++)
                    {
                        GemmPacking.CopyHalf(b + offsets[k], d + (long)k * nr, half);
                    }
                    continue;
                }
                for (int k = 0; k < kc; k++)
                {
                    long off = offsets[k];
                    float* to = d + (long)k * nr;
                    for (int run = 0; run < runs; run++)
                    {
                        to += CopyRun(starts[run] + off, to, lengths[run]);
                    }
                    for (int c = cols; c < half; c++)
                    {
                        d[(long)k * nr + c] = 0f;
                    }
                }
            }
        }
    }

    /// <summary>Copies n (under one half-sliver) floats; returns n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CopyRun(float* src, float* dst, int n)
    {
        int t = 0;
        for (; t + 8 <= n; t += 8)
        {
            Vector256.Store(Vector256.Load(src + t), dst + t);
        }
        if (t + 4 <= n)
        {
            Vector128.Store(Vector128.Load(src + t), dst + t);
            t += 4;
        }
        for (; t < n; t++)
        {
            dst[t] = src[t];
        }
        return n;
    }

    private void PackTransposed(float* dst, int k0, int kc, int j0, int nc, int nr, int pixels)
    {
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
                taps[c] = Offset(j0 + sl * nr + c);
            }
            for (int k = 0; k < kc;)
            {
                int o = (k0 + k) % _outW;
                int run = Math.Min(_outW - o, kc - k);
                float* b = Pixel(k0 + k, pixels);
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
                    if (t + 4 <= run)
                    {
                        for (int g = 0; g < nr; g += 8)
                        {
                            Transpose8x8.Gather4(b + t, taps + g, d + (long)(k + t) * nr + g, nr);
                        }
                        t += 4;
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

    /// <summary>The window origin of output pixel j (image, oh, ow).</summary>
    private float* Pixel(int j, int pixels)
    {
        int n = j / pixels;
        int i = j % pixels / _outW;
        int o = j % _outW;
        return _src + n * _imageStride + (long)i * _rowStride + o;
    }

    [InlineArray(MaxTaps)]
    private struct TapOffsets
    {
        private long _first;
    }
}

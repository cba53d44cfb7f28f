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
        SimdDriver.FillRange(dst, s.Pad * wp, 0f);
        for (int i = 0; i < s.H; i++)
        {
            float* row = dst + (long)(i + s.Pad) * wp;
            SimdDriver.FillRange(row, s.Pad, 0f);
            ShortRows.Copy(row + s.Pad, src + (long)i * s.W, s.W);
            SimdDriver.FillRange(row + s.Pad + s.W, s.Pad, 0f);
        }
        SimdDriver.FillRange(dst + (long)(s.Pad + s.H) * wp, s.Pad * wp, 0f);
    }

    /// <summary>offsets[k] = where row k0 + k of the column matrix reads, relative to its pixel's window origin, for k &lt; kc.</summary>
    private void Offsets(long* offsets, int k0, int kc)
    {
        long channel = k0 / _taps * _channelStride;
        int t = k0 % _taps;
        for (int k = 0; k < kc; k++)
        {
            offsets[k] = channel + _tapOffsets[t];
            if (++t == _taps)
            {
                t = 0;
                channel += _channelStride;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void PackB(float* dst, bool trans, int k0, int kc, int j0, int nc, int nr)
    {
        if (trans)
        {
            PackTransposed(dst, k0, kc, j0, nc, nr);
            return;
        }
        int half = nr / 2;
        long* offsets = stackalloc long[kc];
        Offsets(offsets, k0, kc);
        // A half-sliver's pixels as runs along output rows: where each starts in the source, and how long it is.
        float** starts = stackalloc float*[16];
        int* lengths = stackalloc int[16];
        var pixel = new Cursor(this, j0);
        for (int sl = 0; sl * nr < nc; sl++)
        {
            for (int h = 0; h < 2; h++)
            {
                int cols = Math.Clamp(nc - sl * nr - h * half, 0, half);
                float* d = dst + (long)sl * nr * kc + h * half;
                int runs = 0;
                for (int c = 0; c < cols; runs++)
                {
                    starts[runs] = pixel.Origin;
                    lengths[runs] = pixel.Take(cols - c);
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
                        ShortRows.Copy(to, starts[run] + off, lengths[run]);
                        to += lengths[run];
                    }
                    for (int c = cols; c < half; c++)
                    {
                        d[(long)k * nr + c] = 0f;
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PackTransposed(float* dst, int k0, int kc, int j0, int nc, int nr)
    {
        long* taps = stackalloc long[nc + 32];
        Offsets(taps, j0, nc);
        for (int sl = 0; sl * nr < nc; sl++)
        {
            int cols = Math.Min(nr, nc - sl * nr);
            float* d = dst + (long)sl * nr * kc;
            long* slTaps = taps + sl * nr;
            if (cols < nr)
            {
                SimdDriver.FillRange(d, nr * kc, 0f);
            }
            var pixel = new Cursor(this, k0);
            for (int k = 0; k < kc;)
            {
                float* b = pixel.Origin;
                int run = pixel.Take(kc - k);
                int t = 0;
                if (cols == nr && Avx.IsSupported)
                {
                    for (; t + 8 <= run; t += 8)
                    {
                        for (int g = 0; g < nr; g += 8)
                        {
                            Transpose8x8.Gather(b + t, slTaps + g, d + (long)(k + t) * nr + g, nr);
                        }
                    }
                    if (t + 4 <= run)
                    {
                        for (int g = 0; g < nr; g += 8)
                        {
                            Transpose8x8.Gather4(b + t, slTaps + g, d + (long)(k + t) * nr + g, nr);
                        }
                        t += 4;
                    }
                }
                for (int c = 0; c < cols; c++)
                {
                    for (int tt = t; tt < run; tt++)
                    {
                        d[(long)(k + tt) * nr + c] = b[slTaps[c] + tt];
                    }
                }
                k += run;
            }
        }
    }

    /// <summary>
    /// Walks the output pixels (image, oh, ow) from a starting column of the matrix, one run along an output row at a
    /// time, so that packing divides once per block rather than once per run.
    /// </summary>
    private struct Cursor
    {
        private readonly float* _src;
        private readonly long _imageStride;
        private readonly int _rowStride;
        private readonly int _outH;
        private readonly int _outW;
        private long _image;
        private int _row;
        private int _col;

        public Cursor(in Im2ColPaddedMatrix m, int j)
        {
            _src = m._src;
            _imageStride = m._imageStride;
            _rowStride = m._rowStride;
            _outH = m._outH;
            _outW = m._outW;
            int pixels = _outH * _outW;
            _image = j / pixels;
            _row = j % pixels / _outW;
            _col = j % _outW;
        }

        /// <summary>The window origin of the current pixel.</summary>
        public readonly float* Origin => _src + _image * _imageStride + (long)_row * _rowStride + _col;

        /// <summary>Moves past at most most pixels, up to the end of the current output row; returns how many.</summary>
        public int Take(int most)
        {
            int n = Math.Min(_outW - _col, most);
            _col += n;
            if (_col == _outW)
            {
                _col = 0;
                if (++_row == _outH)
                {
                    _row = 0;
                    _image++;
                }
            }
            return n;
        }
    }

    [InlineArray(MaxTaps)]
    private struct TapOffsets
    {
        private long _first;
    }
}

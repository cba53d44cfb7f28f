using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// col2im for a chunk of images: folds a column matrix col (C*R*R, nb*OH*OW) (row (c*R + r)*R + s, column
/// image*OH*OW + oh*OW + ow, the gradient for x[image, c, oh*stride - pad + r, ow*stride - pad + s]) back
/// onto the images, summing where windows overlap and dropping the padding. Splits the (image, channel)
/// planes over all cores. The forward direction is never stored: see <see cref="Im2ColMatrix"/>.
/// </summary>
internal static unsafe class Im2Col
{
    /// <summary>dx (nb, C, H, W) = col2im(col (C*R*R, nb*OH*OW)): written, or added to dx with <paramref name="accumulate"/>.</summary>
    public static void Unpack(float* dx, float* col, Conv2dShape s, int nb, bool accumulate = false)
    {
        nint dxP = (nint)dx;
        nint colP = (nint)col;
        if (s.Stride == 2)
        {
            SimdDriver.ForPlanes(nb * s.C, plane => UnpackPlaneStride2((float*)dxP, (float*)colP, s, nb, plane, accumulate));
            return;
        }
        SimdDriver.ForPlanes(nb * s.C, plane => UnpackPlane((float*)dxP, (float*)colP, s, nb, plane, accumulate));
    }

    /// <summary>
    /// col2im of one plane at stride 2, a row of dx at a time and each element written once. A row's even and odd
    /// columns (its two phases) each sum the column matrix's rows of the taps of that parity, shifted: for each phase
    /// the taps add contiguous runs (vector adds, not a scatter to every other float), and one interleave writes the row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void UnpackPlaneStride2(float* dx, float* col, in Conv2dShape s, int nb, int plane, bool accumulate)
    {
        int image = plane / s.C;
        int c = plane % s.C;
        int oh = s.OutH;
        int ow = s.OutW;
        long ld = (long)nb * oh * ow;
        float* dst = dx + (long)plane * s.H * s.W;
        int evens = (s.W + 1) / 2;
        float* even = stackalloc float[2 * evens + 8];
        float* odd = even + evens + 4;
        for (int ih = 0; ih < s.H; ih++)
        {
            for (int b = 0; b < 2; b++)
            {
                float* phase = b == 0 ? even : odd;
                int length = (s.W - b + 1) / 2;
                SimdDriver.FillRange(phase, length, 0f);
                // Kernel row r lands on dx row ih from output row (ih + pad - r) / 2 where that is whole and inside.
                for (int r = (ih + s.Pad) & 1; r < s.R; r += 2)
                {
                    int i = (ih + s.Pad - r) >> 1;
                    if (i < 0 || i >= oh)
                    {
                        continue;
                    }
                    // Likewise column tap q lands on column 2 l + b from output column l + (b + pad - q) / 2.
                    for (int q = (b + s.Pad) & 1; q < s.R; q += 2)
                    {
                        int shift = (b + s.Pad - q) >> 1;
                        int lo = Math.Max(0, -shift);
                        int hi = Math.Min(length, ow - shift);
                        if (lo < hi)
                        {
                            float* src = col + ((long)(c * s.R + r) * s.R + q) * ld + (long)image * oh * ow + (long)i * ow + shift;
                            AddTo(phase + lo, src + lo, hi - lo);
                        }
                    }
                }
            }
            Interleave(dst + (long)ih * s.W, even, odd, s.W, accumulate);
        }
    }

    /// <summary>
    /// dst[2 l] = even[l], dst[2 l + 1] = odd[l] for the n floats of dst; with <paramref name="add"/>, added to dst
    /// instead (an accumulating backward-data adds its merged rows into the gradient already there).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Interleave(float* dst, float* even, float* odd, int n, bool add = false)
    {
        int l = 0;
        if (Avx.IsSupported)
        {
            for (; 2 * l + 16 <= n; l += 8)
            {
                var e = Avx.LoadVector256(even + l);
                var o = Avx.LoadVector256(odd + l);
                var lo = Avx.UnpackLow(e, o);
                var hi = Avx.UnpackHigh(e, o);
                var first = Avx.Permute2x128(lo, hi, 0x20);
                var second = Avx.Permute2x128(lo, hi, 0x31);
                if (add)
                {
                    first = Avx.Add(first, Avx.LoadVector256(dst + 2 * l));
                    second = Avx.Add(second, Avx.LoadVector256(dst + 2 * l + 8));
                }
                Avx.Store(dst + 2 * l, first);
                Avx.Store(dst + 2 * l + 8, second);
            }
        }
        for (int i = 2 * l; i < n; i++)
        {
            float v = (i & 1) == 0 ? even[i >> 1] : odd[i >> 1];
            dst[i] = add ? dst[i] + v : v;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void UnpackPlane(float* dx, float* col, in Conv2dShape s, int nb, int plane, bool accumulate)
    {
        int image = plane / s.C;
        int c = plane % s.C;
        int oh = s.OutH;
        int ow = s.OutW;
        long ld = (long)nb * oh * ow;
        float* dst = dx + (long)plane * s.H * s.W;
        if (!accumulate)
        {
            SimdDriver.FillRange(dst, s.H * s.W, 0f);
        }
        for (int r = 0; r < s.R; r++)
        {
            for (int q = 0; q < s.R; q++)
            {
                float* src = col + ((long)(c * s.R + r) * s.R + q) * ld + (long)image * oh * ow;
                var (lo, hi) = ValidColumns(s, q);
                for (int i = 0; i < oh; i++)
                {
                    int ih = i * s.Stride - s.Pad + r;
                    if (ih < 0 || ih >= s.H)
                    {
                        continue;
                    }
                    float* row = dst + (long)ih * s.W - s.Pad + q;
                    float* from = src + (long)i * ow;
                    if (s.Stride == 1)
                    {
                        AddTo(row + lo, from + lo, hi - lo);
                    }
                    else
                    {
                        for (int j = lo; j < hi; j++)
                        {
                            row[j * s.Stride] += from[j];
                        }
                    }
                }
            }
        }
    }

    /// <summary>The output columns [lo, hi) whose kernel column q lands inside the image.</summary>
    internal static (int Lo, int Hi) ValidColumns(in Conv2dShape s, int q)
    {
        // iw = ow * stride - pad + q must satisfy 0 <= iw < W.
        int lo = Math.Max(0, (s.Pad - q + s.Stride - 1) / s.Stride);
        int hi = Math.Min(s.OutW, (s.W - 1 + s.Pad - q) / s.Stride + 1);
        if (s.W - 1 + s.Pad - q < 0)
        {
            hi = 0;
        }
        return (Math.Min(lo, s.OutW), Math.Max(hi, Math.Min(lo, s.OutW)));
    }

    /// <summary>dst[i] += src[i] for i &lt; n.</summary>
    private static void AddTo(float* dst, float* src, int n)
    {
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            Vector256.Store(Vector256.Load(dst + i) + Vector256.Load(src + i), dst + i);
        }
        for (; i < n; i++)
        {
            dst[i] += src[i];
        }
    }
}

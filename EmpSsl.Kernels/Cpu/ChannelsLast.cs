using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// Moves a batch between NCHW, the layout of the kernel interface, and channels-last (N, H, W, C), the layout
/// the direct convolution reads: there a pixel's channels are adjacent, so one output pixel's taps are runs of
/// floats and no column matrix is ever built. Blocks of 8 channels x 8 pixels go through a register transpose.
/// </summary>
internal static unsafe class ChannelsLast
{
    /// <summary>dst (N, H + 2 pad, W + 2 pad, C) = src (N, C, H, W) with a zero border, split over the cores by image.</summary>
    public static void FromNchw(float* dst, float* src, int n, int c, int h, int w, int pad)
    {
        nint d = (nint)dst;
        nint s = (nint)src;
        Parallel.For(0, n, Threads(n, (long)c * h * w), i => FromImage((float*)d, (float*)s, i, c, h, w, pad));
    }

    /// <summary>dst (N, C, P) = src (N * P, C): one image's pixels are P consecutive rows of C.</summary>
    public static void ToNchw(float* dst, float* src, int n, int c, int p)
    {
        nint d = (nint)dst;
        nint s = (nint)src;
        Parallel.For(0, n, Threads(n, (long)c * p), i => ToImage((float*)d + (long)i * c * p, (float*)s + (long)i * c * p, c, p));
    }

    private static ParallelOptions Threads(int images, long perImage)
        => new() { MaxDegreeOfParallelism = images * perImage < SimdDriver.ParallelChunk ? 1 : Environment.ProcessorCount };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FromImage(float* dst, float* src, int image, int c, int h, int w, int pad)
    {
        int hp = h + 2 * pad;
        int wp = w + 2 * pad;
        int p = h * w;
        float* d = dst + (long)image * hp * wp * c;
        float* s = src + (long)image * c * p;
        if (pad > 0)
        {
            SimdDriver.FillRange(d, (long)pad * wp * c, 0f);
            SimdDriver.FillRange(d + (long)(pad + h) * wp * c, (long)pad * wp * c, 0f);
            for (int i = 0; i < h; i++)
            {
                float* row = d + (long)(i + pad) * wp * c;
                SimdDriver.FillRange(row, pad * c, 0f);
                SimdDriver.FillRange(row + (long)(pad + w) * c, pad * c, 0f);
            }
        }
        long* offsets = stackalloc long[8];
        int q = 0;
        if (c % 8 == 0 && Avx.IsSupported)
        {
            for (; q + 8 <= p; q += 8)
            {
                for (int t = 0; t < 8; t++)
                {
                    offsets[t] = Where(q + t, w, wp, pad, c);
                }
                for (int ch = 0; ch < c; ch += 8)
                {
                    Transpose8x8.Scatter(s + (long)ch * p + q, p, d + ch, offsets);
                }
            }
        }
        for (; q < p; q++)
        {
            float* to = d + Where(q, w, wp, pad, c);
            for (int ch = 0; ch < c; ch++)
            {
                to[ch] = s[(long)ch * p + q];
            }
        }
    }

    /// <summary>Where pixel q of the unpadded image starts in the padded channels-last one.</summary>
    private static long Where(int q, int w, int wp, int pad, int c) => ((long)(q / w + pad) * wp + q % w + pad) * c;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ToImage(float* dst, float* src, int c, int p)
    {
        int q = 0;
        if (c % 8 == 0 && Avx.IsSupported)
        {
            for (; q + 8 <= p; q += 8)
            {
                for (int ch = 0; ch < c; ch += 8)
                {
                    Transpose8x8.Rows(src + (long)q * c + ch, c, 8, dst + (long)ch * p + q, p);
                }
            }
        }
        for (; q < p; q++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                dst[(long)ch * p + q] = src[(long)q * c + ch];
            }
        }
    }
}

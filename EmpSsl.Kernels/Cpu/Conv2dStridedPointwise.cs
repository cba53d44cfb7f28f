using System.Runtime.CompilerServices;

namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// 1x1 convolutions at stride S &gt; 1 with no padding (ResNet's downsampling shortcuts): only the pixels (S i, S j)
/// of x are read, so the convolution is the pointwise GEMM of the subsampled x, xs (N, C, OH, OW).
///   forward          y (K, N*P)   = w (K, C) . xs
///   backward weight  dw (K, C)   += dy (K, N*P) . xs^T
///   backward data    dxs (C, N*P) = w^T . dy, spread back to x's pixels (S i, S j), zeros between
/// The implicit GEMM gathered every packed element from a strided x instead; the subsample is one pass over the
/// rows it reads, and the GEMM then packs contiguous rows.
/// </summary>
internal static unsafe class Conv2dStridedPointwise
{
    // The calling thread's work array (Scratch): xs, or dxs for backward data.
    [ThreadStatic]
    private static float[]? s_subsampled;

    public static bool Supports(in Conv2dShape s) => s.R == 1 && s.Stride > 1 && s.Pad == 0 && s.OutH > 0 && s.OutW > 0;

    /// <summary>y (N, K, OH, OW) = conv(x, w), written.</summary>
    public static void Forward(float* y, float* x, float* w, in Conv2dShape s, GemmTiling tiling)
    {
        int p = s.OutH * s.OutW;
        float* xs = Subsample(x, s);
        GemmDriver.Run(
            s.K, s.N * p, s.C,
            new GemmMatrix(w, s.C), false,
            GemmMatrix.Images(xs, s.C, p), false,
            GemmMatrix.Images(y, s.K, p), 1f, 0f, tiling);
    }

    /// <summary>dw (K, C, 1, 1) += the weight gradient.</summary>
    public static void BackwardWeight(float* dw, float* dy, float* x, in Conv2dShape s, GemmTiling tiling)
    {
        int p = s.OutH * s.OutW;
        float* xs = Subsample(x, s);
        GemmDriver.Run(
            s.K, s.C, s.N * p,
            GemmMatrix.Images(dy, s.K, p), false,
            GemmMatrix.Images(xs, s.C, p), true,
            new GemmMatrix(dw, s.C), 1f, 1f, tiling);
    }

    /// <summary>dx (N, C, H, W) = the gradient through x: written, or added to with <paramref name="accumulate"/>.</summary>
    public static void BackwardData(float* dx, float* dy, float* w, in Conv2dShape s, bool accumulate, GemmTiling tiling)
    {
        int p = s.OutH * s.OutW;
        float* dxs = Scratch.Floats(ref s_subsampled, (long)s.N * s.C * p);
        GemmDriver.Run(
            s.C, s.N * p, s.K,
            new GemmMatrix(w, s.C), true,
            GemmMatrix.Images(dy, s.K, p), false,
            GemmMatrix.Images(dxs, s.C, p), 1f, 0f, tiling);
        nint dxP = (nint)dx, dxsP = (nint)dxs;
        var shape = s;
        SimdDriver.ForPlanes(s.N * s.C, plane => SpreadPlane(
            (float*)dxP + (long)plane * shape.H * shape.W, (float*)dxsP + (long)plane * shape.OutH * shape.OutW, shape, accumulate));
    }

    /// <summary>xs (N, C, OH, OW) = x at (S i, S j), in this thread's work array; split over the cores by plane.</summary>
    private static float* Subsample(float* x, in Conv2dShape s)
    {
        float* xs = Scratch.Floats(ref s_subsampled, (long)s.N * s.C * s.OutH * s.OutW);
        nint xP = (nint)x, xsP = (nint)xs;
        var shape = s;
        SimdDriver.ForPlanes(s.N * s.C, plane => SubsamplePlane(
            (float*)xsP + (long)plane * shape.OutH * shape.OutW, (float*)xP + (long)plane * shape.H * shape.W, shape));
        return xs;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SubsamplePlane(float* dst, float* src, in Conv2dShape s)
    {
        // At stride 2 a kept row is the even half of the polyphase split's deinterleave over its whole pairs (an odd
        // W leaves one last even float); the odd half goes to a throwaway row.
        int pairs = s.W / 2;
        float* odd = stackalloc float[pairs + 1];
        for (int i = 0; i < s.OutH; i++)
        {
            float* from = src + (long)i * s.Stride * s.W;
            float* to = dst + (long)i * s.OutW;
            if (s.Stride == 2)
            {
                Conv2dPolyphase.Deinterleave(from, to, odd, pairs);
                if (pairs < s.OutW)
                {
                    to[pairs] = from[2 * pairs];
                }
                continue;
            }
            for (int j = 0; j < s.OutW; j++)
            {
                to[j] = from[(long)j * s.Stride];
            }
        }
    }

    /// <summary>One plane of dx from dxs: dxs[i, j] at (S i, S j), the other pixels zero (or left as they are, accumulating).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SpreadPlane(float* dst, float* src, in Conv2dShape s, bool accumulate)
    {
        // At stride 2 a row is the polyphase merge's interleave of dxs's row with zeros, added in place when accumulating.
        float* zeros = stackalloc float[s.OutW];
        SimdDriver.FillRange(zeros, s.OutW, 0f);
        for (int h = 0; h < s.H; h++)
        {
            float* to = dst + (long)h * s.W;
            if (h % s.Stride != 0)
            {
                if (!accumulate)
                {
                    SimdDriver.FillRange(to, s.W, 0f);
                }
                continue;
            }
            float* from = src + (long)(h / s.Stride) * s.OutW;
            if (s.Stride == 2)
            {
                Im2Col.Interleave(to, from, zeros, s.W, accumulate);
            }
            else if (accumulate)
            {
                for (int w = 0; w < s.W; w += s.Stride)
                {
                    to[w] += from[w / s.Stride];
                }
            }
            else
            {
                for (int w = 0; w < s.W; w++)
                {
                    to[w] = w % s.Stride == 0 ? from[w / s.Stride] : 0f;
                }
            }
        }
    }
}

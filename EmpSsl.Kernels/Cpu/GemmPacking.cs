using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// Copies blocks of op(A) and op(B) into the layout the micro-kernel streams: A as slivers of
/// MR rows stored k-major (MR floats per k), B as slivers of NR columns stored k-major (NR floats per k). Rows or columns past the
/// matrix edge are zero, so the micro-kernel never branches on the edge. Transposed operands go
/// through 8x8 register transposes.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// dst gets ceil(mc / MR) slivers of op(a)[i0 .. i0+mc, k0 .. k0+kc], each MR * kc floats.
    /// op(a) is a (M x K) or, when trans, a stored (K x M).
    /// </summary>
    public static void PackA(float* dst, in GemmMatrix a, bool trans, int i0, int mc, int k0, int kc, int mr)
    {
        for (int s = 0; s * mr < mc; s++)
        {
            int rows = Math.Min(mr, mc - s * mr);
            float* d = dst + (long)s * mr * kc;
            if (trans)
            {
                PackAT(d, a, i0 + s * mr, rows, k0, kc, mr);
            }
            else
            {
                PackAN(d, a, i0 + s * mr, rows, k0, kc, mr);
            }
        }
    }

    /// <summary>
    /// dst gets ceil(nc / NR) slivers of op(b)[k0 .. k0+kc, j0 .. j0+nc], each kc * NR floats.
    /// op(b) is b (K x N) or, when trans, b stored (N x K).
    /// </summary>
    public static void PackB(float* dst, in GemmMatrix b, bool trans, int k0, int kc, int j0, int nc, int nr)
    {
        for (int s = 0; s * nr < nc; s++)
        {
            int cols = Math.Min(nr, nc - s * nr);
            float* d = dst + (long)s * nr * kc;
            if (trans)
            {
                PackBT(d, b, k0, kc, j0 + s * nr, cols, nr);
            }
            else
            {
                PackBN(d, b, k0, kc, j0 + s * nr, cols, nr);
            }
        }
    }

    // A stored (M x K): each sliver row is a run along k, so 8 rows x 8 k go through one transpose.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackAN(float* d, in GemmMatrix a, int i, int rows, int k0, int kc, int mr)
    {
        if (rows < mr)
        {
            SimdDriver.FillRange(d, mr * kc, 0f);
        }
        for (int k = 0; k < kc;)
        {
            int run = Math.Min(a.Run(k0 + k), kc - k);
            float* src = a.At(i, k0 + k);
            int t = 0;
            if (rows == mr && Avx.IsSupported)
            {
                for (; t + 8 <= run; t += 8)
                {
                    // With MR = 6 each 8-wide store spills 2 floats into the next k, which a later store overwrites.
                    Transpose8x8.Rows(src + t, a.Ld, mr, d + (long)(k + t) * mr, mr);
                }
            }
            for (int r = 0; r < rows; r++)
            {
                float* row = src + r * a.Ld;
                for (int tt = t; tt < run; tt++)
                {
                    d[(long)(k + tt) * mr + r] = row[tt];
                }
            }
            k += run;
        }
    }

    // A stored (K x M): each k holds MR adjacent floats of the sliver, unless a group edge splits them.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackAT(float* d, in GemmMatrix a, int i, int rows, int k0, int kc, int mr)
    {
        if (rows == mr && a.Run(i) >= mr)
        {
            float* src = a.At(k0, i);
            for (int k = 0; k < kc; k++)
            {
                if (mr == 8)
                {
                    Vector256.Store(Vector256.Load(src + k * a.Ld), d + (long)k * mr);
                }
                else
                {
                    float* from = src + k * a.Ld;
                    float* to = d + (long)k * mr;
                    Vector128.Store(Vector128.Load(from), to);
                    to[4] = from[4];
                    to[5] = from[5];
                }
            }
            return;
        }
        long* offsets = stackalloc long[8];
        for (int r = 0; r < rows; r++)
        {
            offsets[r] = a.At(k0, i + r) - a.P;
        }
        for (int k = 0; k < kc; k++)
        {
            float* row = a.P + (long)k * a.Ld;
            for (int r = 0; r < mr; r++)
            {
                d[(long)k * mr + r] = r < rows ? row[offsets[r]] : 0f;
            }
        }
    }

    // B stored (K x N): each k copies the sliver's columns, one vector per half-sliver that is contiguous.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackBN(float* d, in GemmMatrix b, int k0, int kc, int j, int cols, int nr)
    {
        int half = nr / 2;
        long* offsets = stackalloc long[half];
        for (int h = 0; h < 2; h++)
        {
            int j1 = j + h * half;
            int n1 = Math.Clamp(cols - h * half, 0, half);
            float* dh = d + h * half;
            if (n1 == half && b.Run(j1) >= half)
            {
                float* src = b.At(k0, j1);
                for (int k = 0; k < kc; k++)
                {
                    CopyHalf(src + k * b.Ld, dh + (long)k * nr, half);
                }
                continue;
            }
            for (int c = 0; c < n1; c++)
            {
                offsets[c] = b.At(k0, j1 + c) - b.P;
            }
            for (int k = 0; k < kc; k++)
            {
                float* row = b.P + (long)k * b.Ld;
                float* dk = dh + (long)k * nr;
                for (int c = 0; c < half; c++)
                {
                    dk[c] = c < n1 ? row[offsets[c]] : 0f;
                }
            }
        }
    }

    /// <summary>One sliver of op(b), b stored (N x K): its columns j .. j+cols are rows of b.</summary>
    // The sliver's columns are rows of b, so 8 of them x 8 k go through one transpose.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackBT(float* d, in GemmMatrix b, int k0, int kc, int j, int cols, int nr)
    {
        if (cols < nr)
        {
            SimdDriver.FillRange(d, nr * kc, 0f);
        }
        for (int k = 0; k < kc;)
        {
            int run = Math.Min(b.Run(k0 + k), kc - k);
            float* src = b.At(j, k0 + k);
            int t = 0;
            if (cols == nr && Avx.IsSupported)
            {
                for (; t + 8 <= run; t += 8)
                {
                    for (int g = 0; g < nr; g += 8)
                    {
                        Transpose8x8.Rows(src + g * b.Ld + t, b.Ld, 8, d + (long)(k + t) * nr + g, nr);
                    }
                }
            }
            for (int c = 0; c < cols; c++)
            {
                float* row = src + c * b.Ld;
                for (int tt = t; tt < run; tt++)
                {
                    d[(long)(k + tt) * nr + c] = row[tt];
                }
            }
            k += run;
        }
    }

    /// <summary>One half-sliver (8 or 16 floats) from src to dst: a single vector load and store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void CopyHalf(float* src, float* dst, int half)
    {
        if (half == 16)
        {
            Vector512.Store(Vector512.Load(src), dst);
        }
        else
        {
            Vector256.Store(Vector256.Load(src), dst);
        }
    }
}

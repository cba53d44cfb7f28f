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
            new Span<float>(d, mr * kc).Clear();
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
                    Transpose8x8(src + t, a.Ld, mr, d + (long)(k + t) * mr, mr);
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
            new Span<float>(d, nr * kc).Clear();
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
                        Transpose8x8(src + g * b.Ld + t, b.Ld, 8, d + (long)(k + t) * nr + g, nr);
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyHalf(float* src, float* dst, int half)
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

    /// <summary>
    /// dst[c * dstLd + r] = src[r * srcLd + c] for 8 columns of the first `rows` (6 or 8) rows; lanes
    /// past `rows` repeat the last row, and each store is 8 wide, in increasing c.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, long srcLd, int rows, float* dst, long dstLd)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + srcLd);
        var r2 = Avx.LoadVector256(src + 2 * srcLd);
        var r3 = Avx.LoadVector256(src + 3 * srcLd);
        var r4 = Avx.LoadVector256(src + 4 * srcLd);
        var r5 = Avx.LoadVector256(src + 5 * srcLd);
        var r6 = Avx.LoadVector256(src + Math.Min(6, rows - 1) * srcLd);
        var r7 = Avx.LoadVector256(src + Math.Min(7, rows - 1) * srcLd);

        Transpose8x8(r0, r1, r2, r3, r4, r5, r6, r7, dst, dstLd);
    }

    /// <summary>dst[c * dstLd + r] = src[offsets[r] + c] for 8 rows at arbitrary offsets.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(float* src, long* offsets, float* dst, long dstLd)
    {
        Transpose8x8(
            Avx.LoadVector256(src + offsets[0]), Avx.LoadVector256(src + offsets[1]),
            Avx.LoadVector256(src + offsets[2]), Avx.LoadVector256(src + offsets[3]),
            Avx.LoadVector256(src + offsets[4]), Avx.LoadVector256(src + offsets[5]),
            Avx.LoadVector256(src + offsets[6]), Avx.LoadVector256(src + offsets[7]),
            dst, dstLd);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(
        Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7, float* dst, long dstLd)
    {
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);

        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);

        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + dstLd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * dstLd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * dstLd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * dstLd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * dstLd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * dstLd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * dstLd, Avx.Permute2x128(u3, u7, 0x31));
    }
}

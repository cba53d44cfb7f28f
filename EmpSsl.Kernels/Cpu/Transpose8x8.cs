using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// 8x8 register transposes (AVX): GEMM packing turns rows into columns with them, and the layout changes between
/// NCHW and channels-last move 8 channels of 8 pixels at a time. Callers check Avx.IsSupported.
/// </summary>
internal static unsafe class Transpose8x8
{
    /// <summary>
    /// dst[c * dstLd + r] = src[r * srcLd + c] for 8 columns of the first `rows` (6 or 8) rows; lanes
    /// past `rows` repeat the last row, and each store is 8 wide, in increasing c.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Rows(float* src, long srcLd, int rows, float* dst, long dstLd)
    {
        Core(
            Avx.LoadVector256(src), Avx.LoadVector256(src + srcLd),
            Avx.LoadVector256(src + 2 * srcLd), Avx.LoadVector256(src + 3 * srcLd),
            Avx.LoadVector256(src + 4 * srcLd), Avx.LoadVector256(src + 5 * srcLd),
            Avx.LoadVector256(src + Math.Min(6, rows - 1) * srcLd), Avx.LoadVector256(src + Math.Min(7, rows - 1) * srcLd),
            out var o0, out var o1, out var o2, out var o3, out var o4, out var o5, out var o6, out var o7);
        StoreRows(dst, dstLd, o0, o1, o2, o3, o4, o5, o6, o7);
    }

    /// <summary>dst[c * dstLd + r] = src[offsets[r] + c] for 8 rows at arbitrary offsets.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Gather(float* src, long* offsets, float* dst, long dstLd)
    {
        Core(
            Avx.LoadVector256(src + offsets[0]), Avx.LoadVector256(src + offsets[1]),
            Avx.LoadVector256(src + offsets[2]), Avx.LoadVector256(src + offsets[3]),
            Avx.LoadVector256(src + offsets[4]), Avx.LoadVector256(src + offsets[5]),
            Avx.LoadVector256(src + offsets[6]), Avx.LoadVector256(src + offsets[7]),
            out var o0, out var o1, out var o2, out var o3, out var o4, out var o5, out var o6, out var o7);
        StoreRows(dst, dstLd, o0, o1, o2, o3, o4, o5, o6, o7);
    }

    /// <summary>
    /// dst[c * dstLd + r] = src[offsets[r] + c] for 4 columns of 8 rows at arbitrary offsets: the gather of
    /// <see cref="Gather"/> where runs are 4 floats long (4-pixel output rows).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Gather4(float* src, long* offsets, float* dst, long dstLd)
    {
        // Rows r and r + 4 share a register, one per 128-bit lane; a 4x4 transpose within the lanes then leaves
        // column c of rows 0-3 in the low lane and of rows 4-7 in the high one.
        var v0 = Vector256.Create(Sse.LoadVector128(src + offsets[0]), Sse.LoadVector128(src + offsets[4]));
        var v1 = Vector256.Create(Sse.LoadVector128(src + offsets[1]), Sse.LoadVector128(src + offsets[5]));
        var v2 = Vector256.Create(Sse.LoadVector128(src + offsets[2]), Sse.LoadVector128(src + offsets[6]));
        var v3 = Vector256.Create(Sse.LoadVector128(src + offsets[3]), Sse.LoadVector128(src + offsets[7]));
        var t0 = Avx.UnpackLow(v0, v1);
        var t1 = Avx.UnpackHigh(v0, v1);
        var t2 = Avx.UnpackLow(v2, v3);
        var t3 = Avx.UnpackHigh(v2, v3);
        Avx.Store(dst, Avx.Shuffle(t0, t2, 0x44));
        Avx.Store(dst + dstLd, Avx.Shuffle(t0, t2, 0xEE));
        Avx.Store(dst + 2 * dstLd, Avx.Shuffle(t1, t3, 0x44));
        Avx.Store(dst + 3 * dstLd, Avx.Shuffle(t1, t3, 0xEE));
    }

    /// <summary>dst[offsets[c] + r] = src[r * srcLd + c]: 8 rows in, 8 columns out to arbitrary places.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scatter(float* src, long srcLd, float* dst, long* offsets)
    {
        Core(
            Avx.LoadVector256(src), Avx.LoadVector256(src + srcLd),
            Avx.LoadVector256(src + 2 * srcLd), Avx.LoadVector256(src + 3 * srcLd),
            Avx.LoadVector256(src + 4 * srcLd), Avx.LoadVector256(src + 5 * srcLd),
            Avx.LoadVector256(src + 6 * srcLd), Avx.LoadVector256(src + 7 * srcLd),
            out var o0, out var o1, out var o2, out var o3, out var o4, out var o5, out var o6, out var o7);
        Avx.Store(dst + offsets[0], o0);
        Avx.Store(dst + offsets[1], o1);
        Avx.Store(dst + offsets[2], o2);
        Avx.Store(dst + offsets[3], o3);
        Avx.Store(dst + offsets[4], o4);
        Avx.Store(dst + offsets[5], o5);
        Avx.Store(dst + offsets[6], o6);
        Avx.Store(dst + offsets[7], o7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRows(
        float* dst, long dstLd, Vector256<float> o0, Vector256<float> o1, Vector256<float> o2, Vector256<float> o3,
        Vector256<float> o4, Vector256<float> o5, Vector256<float> o6, Vector256<float> o7)
    {
        Avx.Store(dst, o0);
        Avx.Store(dst + dstLd, o1);
        Avx.Store(dst + 2 * dstLd, o2);
        Avx.Store(dst + 3 * dstLd, o3);
        Avx.Store(dst + 4 * dstLd, o4);
        Avx.Store(dst + 5 * dstLd, o5);
        Avx.Store(dst + 6 * dstLd, o6);
        Avx.Store(dst + 7 * dstLd, o7);
    }

    /// <summary>The 8x8 transpose in registers: o_c holds lane c of every r_i.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Core(
        Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7,
        out Vector256<float> o0, out Vector256<float> o1, out Vector256<float> o2, out Vector256<float> o3,
        out Vector256<float> o4, out Vector256<float> o5, out Vector256<float> o6, out Vector256<float> o7)
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

        o0 = Avx.Permute2x128(u0, u4, 0x20);
        o1 = Avx.Permute2x128(u1, u5, 0x20);
        o2 = Avx.Permute2x128(u2, u6, 0x20);
        o3 = Avx.Permute2x128(u3, u7, 0x20);
        o4 = Avx.Permute2x128(u0, u4, 0x31);
        o5 = Avx.Permute2x128(u1, u5, 0x31);
        o6 = Avx.Permute2x128(u2, u6, 0x31);
        o7 = Avx.Permute2x128(u3, u7, 0x31);
    }
}

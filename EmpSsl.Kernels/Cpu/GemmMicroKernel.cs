using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// The register block: an MR x NR tile of C held in 16 vector accumulators while k runs over packed
/// slivers of A (MR floats per k, broadcast) and B (NR floats per k, two vectors). The tile's two
/// column halves are stored through separate pointers, so a half may start a new image of a batch.
/// </summary>
internal static unsafe class GemmMicroKernel
{
    /// <summary>
    /// c = alpha * (a sliver . b sliver) + beta * c over an MR x NR tile (8 x 32 with AVX-512's 32
    /// registers, 6 x 16 with AVX2's 16); rows are ldc apart and
    /// columns NR/2 .. NR-1 live at c1. With beta == 0, c is not read.
    /// </summary>
    public static void Run(float* a, float* b, int kc, float* c0, float* c1, long ldc, float alpha, float beta, bool wide)
    {
        if (wide)
        {
            Run512(a, b, kc, c0, c1, ldc, alpha, beta);
        }
        else
        {
            Run256(a, b, kc, c0, c1, ldc, alpha, beta);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run512(float* a, float* b, int kc, float* c0, float* c1, long ldc, float alpha, float beta)
    {
        var c00 = Vector512<float>.Zero;
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
        var c60 = c00;
        var c61 = c00;
        var c70 = c00;
        var c71 = c00;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var ak = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(ak, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(ak, b1, c01);
            ak = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(ak, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(ak, b1, c11);
            ak = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(ak, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(ak, b1, c21);
            ak = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(ak, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(ak, b1, c31);
            ak = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(ak, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(ak, b1, c41);
            ak = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(ak, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(ak, b1, c51);
            ak = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(ak, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(ak, b1, c61);
            ak = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(ak, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(ak, b1, c71);
            a += 8;
            b += 32;
        }
        Store(c0, c00, alpha, beta);
        Store(c1, c01, alpha, beta);
        Store(c0 + ldc, c10, alpha, beta);
        Store(c1 + ldc, c11, alpha, beta);
        Store(c0 + 2 * ldc, c20, alpha, beta);
        Store(c1 + 2 * ldc, c21, alpha, beta);
        Store(c0 + 3 * ldc, c30, alpha, beta);
        Store(c1 + 3 * ldc, c31, alpha, beta);
        Store(c0 + 4 * ldc, c40, alpha, beta);
        Store(c1 + 4 * ldc, c41, alpha, beta);
        Store(c0 + 5 * ldc, c50, alpha, beta);
        Store(c1 + 5 * ldc, c51, alpha, beta);
        Store(c0 + 6 * ldc, c60, alpha, beta);
        Store(c1 + 6 * ldc, c61, alpha, beta);
        Store(c0 + 7 * ldc, c70, alpha, beta);
        Store(c1 + 7 * ldc, c71, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run256(float* a, float* b, int kc, float* c0, float* c1, long ldc, float alpha, float beta)
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
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var ak = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(ak, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(ak, b1, c01);
            ak = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(ak, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(ak, b1, c11);
            ak = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(ak, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(ak, b1, c21);
            ak = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(ak, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(ak, b1, c31);
            ak = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(ak, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(ak, b1, c41);
            ak = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(ak, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(ak, b1, c51);
            a += 6;
            b += 16;
        }
        Store(c0, c00, alpha, beta);
        Store(c1, c01, alpha, beta);
        Store(c0 + ldc, c10, alpha, beta);
        Store(c1 + ldc, c11, alpha, beta);
        Store(c0 + 2 * ldc, c20, alpha, beta);
        Store(c1 + 2 * ldc, c21, alpha, beta);
        Store(c0 + 3 * ldc, c30, alpha, beta);
        Store(c1 + 3 * ldc, c31, alpha, beta);
        Store(c0 + 4 * ldc, c40, alpha, beta);
        Store(c1 + 4 * ldc, c41, alpha, beta);
        Store(c0 + 5 * ldc, c50, alpha, beta);
        Store(c1 + 5 * ldc, c51, alpha, beta);
    }

    /// <summary>
    /// The bottom tile of an M that MR = 6 does not divide (64, 128, 256 and 512 channels leave 2 or 4 rows):
    /// 4 rows of 8 accumulators, enough to cover the FMA latency, storing only the first `rows` rows.
    /// Reads the 6-row packed sliver.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run256Rows4(float* a, float* b, int kc, float* c0, float* c1, long ldc, float alpha, float beta, int rows)
    {
        var c00 = Vector256<float>.Zero;
        var c01 = c00;
        var c10 = c00;
        var c11 = c00;
        var c20 = c00;
        var c21 = c00;
        var c30 = c00;
        var c31 = c00;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var ak = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(ak, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(ak, b1, c01);
            ak = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(ak, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(ak, b1, c11);
            ak = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(ak, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(ak, b1, c21);
            ak = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(ak, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(ak, b1, c31);
            a += 6;
            b += 16;
        }
        Store(c0, c00, alpha, beta);
        Store(c1, c01, alpha, beta);
        if (rows > 1)
        {
            Store(c0 + ldc, c10, alpha, beta);
            Store(c1 + ldc, c11, alpha, beta);
        }
        if (rows > 2)
        {
            Store(c0 + 2 * ldc, c20, alpha, beta);
            Store(c1 + 2 * ldc, c21, alpha, beta);
        }
        if (rows > 3)
        {
            Store(c0 + 3 * ldc, c30, alpha, beta);
            Store(c1 + 3 * ldc, c31, alpha, beta);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector512<float> acc, float alpha, float beta)
    {
        acc *= alpha;
        if (beta == 0f)
        {
            Vector512.Store(acc, c);
        }
        else if (beta == 1f)
        {
            Vector512.Store(acc + Vector512.Load(c), c);
        }
        else
        {
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c), Vector512.Create(beta), acc), c);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector256<float> acc, float alpha, float beta)
    {
        acc *= alpha;
        if (beta == 0f)
        {
            Vector256.Store(acc, c);
        }
        else if (beta == 1f)
        {
            Vector256.Store(acc + Vector256.Load(c), c);
        }
        else
        {
            Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(c), Vector256.Create(beta), acc), c);
        }
    }
}

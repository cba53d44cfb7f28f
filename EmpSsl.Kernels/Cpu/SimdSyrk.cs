using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// The register tiles of Cholesky's trailing update C -= A B, where A is rows of the factor (broadcast one
/// float at a time) and B is the transposed panel (vector loads). Six rows by two vectors keeps twelve
/// accumulators in registers: 16 ymm on AVX2, and the 512-bit tile has room to spare in 32 zmm.
/// B's rows must be readable for a whole tile past the last column: the caller pads them with zeros.
/// </summary>
internal static unsafe class SimdSyrk
{
    public const int Rows = 6;

    /// <summary>Columns of one 256-bit tile.</summary>
    public const int Cols256 = 16;

    /// <summary>Columns of one 512-bit tile.</summary>
    public const int Cols512 = 32;

    /// <summary>
    /// C (rows, cols) -= A (rows, depth) B (depth, cols) for one row tile across [0, cols) columns.
    /// a: row r at a + r * lda; b: row p at b + p * ldb; c: row r at c + r * ldc.
    /// </summary>
    public static void Update(float* c, long ldc, float* a, long lda, float* b, long ldb, int depth, int rows, int cols)
    {
        int j = 0;
        if (SimdDriver.Use512)
        {
            for (; j + Cols512 <= cols; j += Cols512)
            {
                if (rows == Rows)
                {
                    Tile512(c + j, ldc, a, lda, b + j, ldb, depth);
                }
                else
                {
                    for (int r = 0; r < rows; r++)
                    {
                        Tile1(c + r * ldc + j, a + r * lda, b + j, ldb, depth, Cols256);
                        Tile1(c + r * ldc + j + Cols256, a + r * lda, b + j + Cols256, ldb, depth, Cols256);
                    }
                }
            }
        }
        for (; j < cols; j += Cols256)
        {
            int width = Math.Min(Cols256, cols - j);
            if (rows == Rows)
            {
                Tile256(c + j, ldc, a, lda, b + j, ldb, depth, width);
            }
            else
            {
                for (int r = 0; r < rows; r++)
                {
                    Tile1(c + r * ldc + j, a + r * lda, b + j, ldb, depth, width);
                }
            }
        }
    }

    private static void Tile256(float* c, long ldc, float* a, long lda, float* b, long ldb, int depth, int width)
    {
        var c00 = Vector256<float>.Zero;
        var c01 = Vector256<float>.Zero;
        var c10 = Vector256<float>.Zero;
        var c11 = Vector256<float>.Zero;
        var c20 = Vector256<float>.Zero;
        var c21 = Vector256<float>.Zero;
        var c30 = Vector256<float>.Zero;
        var c31 = Vector256<float>.Zero;
        var c40 = Vector256<float>.Zero;
        var c41 = Vector256<float>.Zero;
        var c50 = Vector256<float>.Zero;
        var c51 = Vector256<float>.Zero;
        float* a0 = a;
        float* a1 = a + lda;
        float* a2 = a + 2 * lda;
        float* a3 = a + 3 * lda;
        float* a4 = a + 4 * lda;
        float* a5 = a + 5 * lda;
        for (int p = 0; p < depth; p++)
        {
            float* bp = b + p * ldb;
            var b0 = Vector256.Load(bp);
            var b1 = Vector256.Load(bp + 8);
            var x = Vector256.Create(a0[p]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a1[p]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a2[p]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[p]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(a4[p]);
            c40 = Vector256.FusedMultiplyAdd(x, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(a5[p]);
            c50 = Vector256.FusedMultiplyAdd(x, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
        }
        Subtract(c, width, c00, c01);
        Subtract(c + ldc, width, c10, c11);
        Subtract(c + 2 * ldc, width, c20, c21);
        Subtract(c + 3 * ldc, width, c30, c31);
        Subtract(c + 4 * ldc, width, c40, c41);
        Subtract(c + 5 * ldc, width, c50, c51);
    }

    private static void Tile512(float* c, long ldc, float* a, long lda, float* b, long ldb, int depth)
    {
        var c00 = Vector512<float>.Zero;
        var c01 = Vector512<float>.Zero;
        var c10 = Vector512<float>.Zero;
        var c11 = Vector512<float>.Zero;
        var c20 = Vector512<float>.Zero;
        var c21 = Vector512<float>.Zero;
        var c30 = Vector512<float>.Zero;
        var c31 = Vector512<float>.Zero;
        var c40 = Vector512<float>.Zero;
        var c41 = Vector512<float>.Zero;
        var c50 = Vector512<float>.Zero;
        var c51 = Vector512<float>.Zero;
        float* a0 = a;
        float* a1 = a + lda;
        float* a2 = a + 2 * lda;
        float* a3 = a + 3 * lda;
        float* a4 = a + 4 * lda;
        float* a5 = a + 5 * lda;
        for (int p = 0; p < depth; p++)
        {
            float* bp = b + p * ldb;
            var b0 = Vector512.Load(bp);
            var b1 = Vector512.Load(bp + 16);
            var x = Vector512.Create(a0[p]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a1[p]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a2[p]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a3[p]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a4[p]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a5[p]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
        }
        Subtract(c, c00, c01);
        Subtract(c + ldc, c10, c11);
        Subtract(c + 2 * ldc, c20, c21);
        Subtract(c + 3 * ldc, c30, c31);
        Subtract(c + 4 * ldc, c40, c41);
        Subtract(c + 5 * ldc, c50, c51);
    }

    /// <summary>One row: the leftover rows below the last full six-row tile.</summary>
    private static void Tile1(float* c, float* a, float* b, long ldb, int depth, int width)
    {
        var c0 = Vector256<float>.Zero;
        var c1 = Vector256<float>.Zero;
        for (int p = 0; p < depth; p++)
        {
            float* bp = b + p * ldb;
            var x = Vector256.Create(a[p]);
            c0 = Vector256.FusedMultiplyAdd(x, Vector256.Load(bp), c0);
            c1 = Vector256.FusedMultiplyAdd(x, Vector256.Load(bp + 8), c1);
        }
        Subtract(c, width, c0, c1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Subtract(float* c, int width, Vector256<float> v0, Vector256<float> v1)
    {
        if (width == Cols256)
        {
            (Vector256.Load(c) - v0).Store(c);
            (Vector256.Load(c + 8) - v1).Store(c + 8);
            return;
        }
        int k0 = Math.Min(width, 8);
        SimdDriver.StoreTail(c, k0, SimdDriver.LoadTail(c, k0) - v0);
        if (width > 8)
        {
            SimdDriver.StoreTail(c + 8, width - 8, SimdDriver.LoadTail(c + 8, width - 8) - v1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Subtract(float* c, Vector512<float> v0, Vector512<float> v1)
    {
        (Vector512.Load(c) - v0).Store(c);
        (Vector512.Load(c + 16) - v1).Store(c + 16);
    }
}

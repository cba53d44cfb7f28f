using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Util;

namespace EmpSsl.Kernels.Ilgpu;

/// <summary>
/// Batched Cholesky for the coding rate's SPD matrices (n up to about 1024), one thread group per matrix, and the
/// solves that use the factor. The factorization is right-looking and blocked by GemmTileK = 16 columns: factor the
/// 16 x 16 diagonal block in shared memory, solve the rows below it against that block, then subtract the panel's
/// outer product from the trailing lower triangle with the tiled product of <see cref="GemmBlock"/> (one k-step
/// per tile). A pivot that is not positive (or NaN) is recorded per matrix on the device, and the host turns the
/// first one into <see cref="MatrixNotPositiveDefiniteException"/> after the kernel; that read synchronizes.
/// </summary>
public sealed partial class IlgpuKernels
{
    /// <summary>Row stride of the shared diagonal block: one float of padding against bank conflicts.</summary>
    private const int CholeskyDiagStride = GemmTileK + 1;

    /// <summary>Room for one partial sum per thread of the largest group (16 x 16).</summary>
    private const int CholeskyMaxThreads = 256;

    public void AddDiagonal(DeviceSpan a, float value, int n, int batch)
    {
        Checks.SquareBatch("AddDiagonal", a, n, batch);
        Load("AddDiagonal", acc => acc.LoadAutoGroupedStreamKernel<Index2D, ArrayView<float>, float, int>(AddDiagonalKernel))(
            new Index2D(n, batch), V(a), value, n);
    }

    public void Cholesky(DeviceSpan l, DeviceSpan logdet, DeviceSpan a, int n, int batch)
    {
        Checks.SquareBatch("Cholesky", a, n, batch);
        Checks.SquareBatch("Cholesky", l, n, batch, "l");
        Checks.Vector("Cholesky", logdet, batch, "logdet");
        using var failedPivot = Accelerator.Allocate1D<int>(batch);
        using var failedValue = Accelerator.Allocate1D<float>(batch);
        failedPivot.MemSetToZero();
        int side = GemmGroupSide;
        var config = new KernelConfig(new Index3D(batch, 1, 1), new Index3D(side, side, 1));
        Load("Cholesky", acc => acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int>(CholeskyKernel))(
            config, V(l), V(logdet), failedPivot.View.AsContiguous(), failedValue.View.AsContiguous(), V(a), n);
        Accelerator.Synchronize();
        int[] pivots = failedPivot.GetAsArray1D();
        int matrix = Array.FindIndex(pivots, p => p != 0);
        if (matrix >= 0)
        {
            float[] values = failedValue.GetAsArray1D();
            throw new MatrixNotPositiveDefiniteException(matrix, pivots[matrix] - 1, values[matrix]);
        }
    }

    public void CholeskySolve(DeviceSpan x, DeviceSpan l, DeviceSpan b, int n, int nrhs, int batch)
    {
        Checks.SquareBatch("CholeskySolve", l, n, batch, "l");
        Checks.Positive("CholeskySolve", $"n={n}, nrhs={nrhs}, batch={batch}", nrhs);
        string shape = $"n={n}, nrhs={nrhs}, batch={batch}";
        string expected = $"batch x n x nrhs = {batch}x{n}x{nrhs}";
        Checks.Need("CholeskySolve", "b", b, (long)batch * n * nrhs, expected, shape);
        Checks.Need("CholeskySolve", "x", x, (long)batch * n * nrhs, expected, shape);
        int side = GemmGroupSide;
        int edge = 4 * side;
        var config = new KernelConfig(new Index3D((nrhs + edge - 1) / edge, batch, 1), new Index3D(side, side, 1));
        Load("CholeskySolve", acc => acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(CholeskySolveKernel))(
            config, V(x), V(l), V(b), n, nrhs);
    }

    /// <param name="index">(diagonal position, matrix)</param>
    /// <param name="a">(batch, n, n)</param>
    internal static void AddDiagonalKernel(Index2D index, ArrayView<float> a, float value, int n)
        => a[(index.Y * n + index.X) * n + index.X] += value;

    /// <summary>One group per matrix (grid x); every loop below is uniform across the group around its barriers.</summary>
    /// <param name="l">(batch, n, n): the factor, built in place</param>
    /// <param name="logdet">(batch)</param>
    /// <param name="failedPivot">(batch): 0, or 1 + the first pivot that was not positive; zeroed by the host</param>
    /// <param name="failedValue">(batch): that pivot's value</param>
    /// <param name="a">(batch, n, n), only the lower triangle read</param>
    internal static void CholeskyKernel(
        ArrayView<float> l, ArrayView<float> logdet, ArrayView<int> failedPivot, ArrayView<float> failedValue, ArrayView<float> a, int n)
    {
        var sa = SharedMemory.Allocate<Float4>(GemmSharedLength);
        var sb = SharedMemory.Allocate<Float4>(GemmSharedLength);
        var diag = SharedMemory.Allocate<float>(GemmTileK * CholeskyDiagStride);
        var partial = SharedMemory.Allocate<float>(CholeskyMaxThreads);
        int matrix = Grid.IdxX;
        int side = Group.DimX;
        int edge = 4 * side;
        int tid = Group.IdxY * side + Group.IdxX;
        int threads = side * Group.DimY;
        int nn = n * n;
        var lm = l.SubView(matrix * nn, nn);
        var am = a.SubView(matrix * nn, nn);

        for (int row = 0; row < n; row++)
        {
            for (int col = tid; col < n; col += threads)
            {
                lm[row * n + col] = col <= row ? am[row * n + col] : 0f;
            }
        }
        Group.Barrier();

        for (int j0 = 0; j0 < n; j0 += GemmTileK)
        {
            int nb = n - j0 < GemmTileK ? n - j0 : GemmTileK;
            int j1 = j0 + nb;

            CholeskyLoadDiagonal(diag, lm, n, j0, nb, tid, threads);
            Group.Barrier();

            // Unblocked Cholesky of the diagonal block: update with the unscaled column j, then scale it.
            for (int j = 0; j < nb; j++)
            {
                float pivot = diag[j * CholeskyDiagStride + j];
                for (int e = tid; e < GemmTileK * GemmTileK; e += threads)
                {
                    int r = e / GemmTileK;
                    int c = e - r * GemmTileK;
                    if (c > j && c <= r && r < nb)
                    {
                        diag[r * CholeskyDiagStride + c] -= diag[r * CholeskyDiagStride + j] * diag[c * CholeskyDiagStride + j] / pivot;
                    }
                }
                Group.Barrier();
                float root = XMath.Sqrt(pivot);
                for (int i = j + tid; i < nb; i += threads)
                {
                    diag[i * CholeskyDiagStride + j] = i == j ? root : diag[i * CholeskyDiagStride + j] / root;
                }
                // NaN fails this test too; the factor then fills with NaN, and the host throws.
                if (tid == 0 && !(pivot > 0f) && failedPivot[matrix] == 0)
                {
                    failedPivot[matrix] = j0 + j + 1;
                    failedValue[matrix] = pivot;
                }
                Group.Barrier();
            }

            for (int e = tid; e < GemmTileK * GemmTileK; e += threads)
            {
                int r = e / GemmTileK;
                int c = e - r * GemmTileK;
                if (r < nb && c <= r)
                {
                    lm[(j0 + r) * n + j0 + c] = diag[r * CholeskyDiagStride + c];
                }
            }

            // Rows below the block: l[i, panel] = a[i, panel] diag^-T, one row per thread.
            for (int i = j1 + tid; i < n; i += threads)
            {
                int row = i * n + j0;
                for (int j = 0; j < nb; j++)
                {
                    float s = lm[row + j];
                    for (int t = 0; t < j; t++)
                    {
                        s -= lm[row + t] * diag[j * CholeskyDiagStride + t];
                    }
                    lm[row + j] = s / diag[j * CholeskyDiagStride + j];
                }
            }
            Group.Barrier();

            // Trailing lower triangle -= panel panel^T, block by block (blocks above the diagonal skipped).
            var panelRows = new CholeskyPanelRows(lm, n, j0);
            var panelColumns = new CholeskyPanelColumns(lm, n, j0);
            var trailing = new CholeskyLowerSubtract(lm, n);
            int blocks = (n - j1 + edge - 1) / edge;
            for (int bi = 0; bi < blocks; bi++)
            {
                for (int bj = 0; bj <= bi; bj++)
                {
                    GemmBlock(panelRows, panelColumns, trailing, default(LoadAfter), default(Fp32Fma), sa, sb, n, n, j1 + bi * edge, j1 + bj * edge, 0, nb);
                }
            }
            Group.Barrier();
        }

        float sum = 0f;
        for (int i = tid; i < n; i += threads)
        {
            sum += XMath.Log(lm[i * n + i]);
        }
        partial[tid] = sum;
        Group.Barrier();
        if (tid == 0)
        {
            float total = 0f;
            for (int t = 0; t < threads; t++)
            {
                total += partial[t];
            }
            logdet[matrix] = 2f * total;
        }
    }

    /// <summary>
    /// Blocked triangular solves, one group per (strip of 4T right-hand side columns, matrix): forward substitution
    /// with l, then back substitution with l^T, 16 rows at a time. Each step solves a 16-row block of the strip
    /// against l's diagonal block in shared memory (one thread per column), then removes it from the unsolved rows
    /// with the tiled product of <see cref="GemmBlock"/>, so nearly all the work runs at GEMM speed. b is copied into
    /// x first, each element by the thread that reads it, so x may alias b.
    /// </summary>
    /// <param name="x">(batch, n, nrhs)</param>
    /// <param name="l">(batch, n, n), lower factor</param>
    /// <param name="b">(batch, n, nrhs)</param>
    internal static void CholeskySolveKernel(ArrayView<float> x, ArrayView<float> l, ArrayView<float> b, int n, int nrhs)
    {
        var sa = SharedMemory.Allocate<Float4>(GemmSharedLength);
        var sb = SharedMemory.Allocate<Float4>(GemmSharedLength);
        var diag = SharedMemory.Allocate<float>(GemmTileK * CholeskyDiagStride);
        int matrix = Grid.IdxY;
        int side = Group.DimX;
        int edge = 4 * side;
        int tid = Group.IdxY * side + Group.IdxX;
        int threads = side * Group.DimY;
        int col0 = Grid.IdxX * edge;
        var lm = l.SubView(matrix * n * n, n * n);
        var xm = x.SubView(matrix * n * nrhs, n * nrhs);
        var bm = b.SubView(matrix * n * nrhs, n * nrhs);
        var rest = new CholeskySolveSubtract(xm, nrhs);
        // Threads [0, edge) own one column of the strip each in the block solves (edge <= threads for T >= 4).
        int col = col0 + tid;
        bool solver = tid < edge && col < nrhs;

        if (solver)
        {
            for (int i = 0; i < n; i++)
            {
                xm[i * nrhs + col] = bm[i * nrhs + col];
            }
        }
        Group.Barrier();

        int blocks = (n + GemmTileK - 1) / GemmTileK;
        for (int ib = 0; ib < blocks; ib++)
        {
            int i0 = ib * GemmTileK;
            int nb = n - i0 < GemmTileK ? n - i0 : GemmTileK;
            CholeskyLoadDiagonal(diag, lm, n, i0, nb, tid, threads);
            Group.Barrier();
            if (solver)
            {
                for (int j = 0; j < nb; j++)
                {
                    float s = xm[(i0 + j) * nrhs + col];
                    for (int t = 0; t < j; t++)
                    {
                        s -= diag[j * CholeskyDiagStride + t] * xm[(i0 + t) * nrhs + col];
                    }
                    xm[(i0 + j) * nrhs + col] = s / diag[j * CholeskyDiagStride + j];
                }
            }
            Group.Barrier();
            var panel = new CholeskyPanelRows(lm, n, i0);
            var solved = new CholeskySolvedRows(xm, nrhs, i0);
            for (int row0 = i0 + nb; row0 < n; row0 += edge)
            {
                GemmBlock(panel, solved, rest, default(LoadAfter), default(Fp32Fma), sa, sb, n, nrhs, row0, col0, 0, nb);
            }
            Group.Barrier();
        }

        for (int ib = blocks - 1; ib >= 0; ib--)
        {
            int i0 = ib * GemmTileK;
            int nb = n - i0 < GemmTileK ? n - i0 : GemmTileK;
            CholeskyLoadDiagonal(diag, lm, n, i0, nb, tid, threads);
            Group.Barrier();
            if (solver)
            {
                for (int j = nb - 1; j >= 0; j--)
                {
                    float s = xm[(i0 + j) * nrhs + col];
                    for (int t = j + 1; t < nb; t++)
                    {
                        s -= diag[t * CholeskyDiagStride + j] * xm[(i0 + t) * nrhs + col];
                    }
                    xm[(i0 + j) * nrhs + col] = s / diag[j * CholeskyDiagStride + j];
                }
            }
            Group.Barrier();
            var panel = new CholeskyBlockTransposed(lm, n, i0);
            var solved = new CholeskySolvedRows(xm, nrhs, i0);
            for (int row0 = 0; row0 < i0; row0 += edge)
            {
                GemmBlock(panel, solved, rest, default(LoadAfter), default(Fp32Fma), sa, sb, i0, nrhs, row0, col0, 0, nb);
            }
            Group.Barrier();
        }
    }

    /// <summary>Stages l's diagonal block [i0, i0 + nb)^2 (lower triangle, zeros elsewhere) in shared memory.</summary>
    private static void CholeskyLoadDiagonal(ArrayView<float> diag, ArrayView<float> lm, int n, int i0, int nb, int tid, int threads)
    {
        for (int e = tid; e < GemmTileK * GemmTileK; e += threads)
        {
            int r = e / GemmTileK;
            int c = e - r * GemmTileK;
            diag[r * CholeskyDiagStride + c] = r < nb && c <= r ? lm[(i0 + r) * n + i0 + c] : 0f;
        }
    }
}

using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EmpSsl.Kernels.Cpu;

// Small SPD matrices for the coding rate: a (batch, n, n). No gradients here: the autodiff layer
// differentiates logdet through CholeskySolve.
public sealed unsafe partial class CpuKernels
{
    /// <summary>Panel width of the blocked factorization: the transposed panel (64 x n) stays in L2.</summary>
    private const int CholeskyPanel = 64;

    /// <summary>Blocks up to this size factor unblocked; it is also the inner panel width of the diagonal blocks.</summary>
    private const int CholeskyLeaf = 16;

    /// <summary>A panel width that overrides <see cref="CholeskyPanel"/> when positive (benchmarks tune with it).</summary>
    internal static int CholeskyPanelOverride { get; set; }

    /// <summary>From this n up, one matrix is worth splitting over the cores (below it the batch is split instead).</summary>
    private const int CholeskySplitMinN = 192;

    /// <summary>Right-hand-side columns per solve task: four 8-float vectors.</summary>
    private const int SolveChunk = 32;

    /// <param name="a">(batch, n, n) += value * I</param>
    public void AddDiagonal(DeviceSpan a, float value, int n, int batch)
    {
        Checks.SquareBatch("AddDiagonal", a, n, batch);
        float* p = SimdDriver.P(a);
        for (long m = 0; m < batch; m++)
        {
            float* am = p + m * n * n;
            for (int i = 0; i < n; i++)
            {
                am[(long)i * n + i] += value;
            }
        }
    }

    /// <param name="l">(batch, n, n), written: the lower factors, upper triangles zero; may be a itself</param>
    /// <param name="logdet">(batch), written: 2 sum log diag(l)</param>
    /// <param name="a">(batch, n, n) SPD; only the lower triangle is read</param>
    public void Cholesky(DeviceSpan l, DeviceSpan logdet, DeviceSpan a, int n, int batch)
    {
        Checks.SquareBatch("Cholesky", a, n, batch);
        Checks.SquareBatch("Cholesky", l, n, batch, "l");
        Checks.Vector("Cholesky", logdet, batch, "logdet");
        nint pl = (nint)SimdDriver.P(l);
        nint pa = (nint)SimdDriver.P(a);
        nint pd = (nint)SimdDriver.P(logdet);
        long size = (long)n * n;
        var failures = new (int Pivot, double Value)?[batch];
        bool split = n >= CholeskySplitMinN && batch < Environment.ProcessorCount;
        int panel = CholeskyPanelOverride > 0 ? CholeskyPanelOverride : n > 2 * CholeskyPanel ? CholeskyPanel : CholeskyLeaf;

        void One(int m)
        {
            float* lm = (float*)pl + m * size;
            CopyLower(lm, (float*)pa + m * size, n);
            int bad = CholeskyFactor(lm, n, n, panel, split, out double value);
            if (bad >= 0)
            {
                failures[m] = (bad, value);
                ((float*)pd)[m] = float.NaN;
                return;
            }
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                sum += Math.Log(lm[(long)i * n + i]);
                SimdDriver.FillRange(lm + (long)i * n + i + 1, n - i - 1, 0f);
            }
            ((float*)pd)[m] = (float)(2 * sum);
        }

        if (split)
        {
            for (int m = 0; m < batch; m++)
            {
                One(m);
            }
        }
        else
        {
            SimdDriver.ForItems(batch, size * n / 3, (first, count) =>
            {
                for (int m = first; m < first + count; m++)
                {
                    One(m);
                }
            });
        }
        for (int m = 0; m < batch; m++)
        {
            if (failures[m] is var (pivot, value))
            {
                throw new MatrixNotPositiveDefiniteException(m, pivot, value);
            }
        }
    }

    /// <param name="x">(batch, n, nrhs), written; may be b itself</param>
    /// <param name="l">(batch, n, n) lower factors from <see cref="Cholesky"/></param>
    /// <param name="b">(batch, n, nrhs)</param>
    public void CholeskySolve(DeviceSpan x, DeviceSpan l, DeviceSpan b, int n, int nrhs, int batch)
    {
        string shape = $"n={n}, nrhs={nrhs}, batch={batch}";
        Checks.Positive("CholeskySolve", shape, n, nrhs, batch);
        Checks.SquareBatch("CholeskySolve", l, n, batch, "l");
        Checks.Need("CholeskySolve", "b", b, (long)batch * n * nrhs, $"batch x n x nrhs = {batch}x{n}x{nrhs}", shape);
        Checks.Need("CholeskySolve", "x", x, (long)batch * n * nrhs, $"batch x n x nrhs = {batch}x{n}x{nrhs}", shape);
        if (!ReferenceEquals(x.Buffer, b.Buffer) || x.Offset != b.Offset)
        {
            S(b).CopyTo(S(x));
        }
        nint px = (nint)SimdDriver.P(x);
        nint pl = (nint)SimdDriver.P(l);
        // The backward sweep walks the columns of L: a transposed copy makes them contiguous rows.
        long size = (long)n * n;
        nint pu = (nint)NativeMemory.AlignedAlloc((nuint)(batch * size) * sizeof(float), 64);
        try
        {
            SimdDriver.ForItems(batch, size, (first, count) =>
            {
                for (int m = first; m < first + count; m++)
                {
                    TransposeLower((float*)pu + m * size, (float*)pl + m * size, n);
                }
            });
            SolveChunks(px, pl, pu, n, nrhs, batch);
        }
        finally
        {
            NativeMemory.AlignedFree((void*)pu);
        }
    }

    /// <summary>u (n, n) = the lower triangle of l transposed; u's lower triangle is left unwritten.</summary>
    private static void TransposeLower(float* u, float* l, int n)
    {
        const int tile = 32;
        for (int i0 = 0; i0 < n; i0 += tile)
        {
            for (int j0 = 0; j0 <= i0; j0 += tile)
            {
                for (int i = i0; i < Math.Min(i0 + tile, n); i++)
                {
                    for (int j = j0; j <= Math.Min(Math.Min(j0 + tile - 1, i), n - 1); j++)
                    {
                        u[(long)j * n + i] = l[(long)i * n + j];
                    }
                }
            }
        }
    }

    /// <summary>Solves x in place, in independent tasks of one matrix and up to 32 right-hand-side columns each.</summary>
    private static void SolveChunks(nint px, nint pl, nint pu, int n, int nrhs, int batch)
    {
        int width = nrhs <= 8 ? 8 : SolveChunk;
        int chunks = (nrhs + width - 1) / width;
        SimdDriver.ForItems(batch * chunks, 2L * n * n * width, (first, count) =>
        {
            float* t = (float*)NativeMemory.AlignedAlloc((nuint)n * (nuint)width * sizeof(float), 64);
            try
            {
                for (int item = first; item < first + count; item++)
                {
                    int m = item / chunks;
                    int c0 = item % chunks * width;
                    float* xm = (float*)px + (long)m * n * nrhs + c0;
                    int w = Math.Min(width, nrhs - c0);
                    // Solve a zero-padded copy so that every row is whole vectors, then copy the columns back.
                    for (int i = 0; i < n; i++)
                    {
                        ShortRows.Copy(t + (long)i * width, xm + (long)i * nrhs, w);
                        SimdDriver.FillRange(t + (long)i * width + w, width - w, 0f);
                    }
                    if (width == SolveChunk)
                    {
                        SolveColumns32((float*)pl + (long)m * n * n, (float*)pu + (long)m * n * n, t, n);
                    }
                    else
                    {
                        SolveColumns8((float*)pl + (long)m * n * n, (float*)pu + (long)m * n * n, t, n);
                    }
                    for (int i = 0; i < n; i++)
                    {
                        ShortRows.Copy(xm + (long)i * nrhs, t + (long)i * width, w);
                    }
                }
            }
            finally
            {
                NativeMemory.AlignedFree(t);
            }
        });
    }

    private static void CopyLower(float* l, float* a, int n)
    {
        if (l == a)
        {
            return;
        }
        for (int i = 0; i < n; i++)
        {
            ShortRows.Copy(l + (long)i * n, a + (long)i * n, i + 1);
        }
    }

    /// <summary>
    /// Blocked right-looking Cholesky in place on the lower triangle of the (n, n) matrix at l, rows
    /// <paramref name="stride"/> apart. Per panel of nb columns: factor the diagonal block, solve the panel
    /// below it, both on a transposed copy so that they run along vectors, then update the trailing lower
    /// triangle with the register tiles of <see cref="SimdSyrk"/>. Panels of 64 factor their diagonal block
    /// recursively with panels of 16, which factor the block and solve the rows below it in one sweep.
    /// The upper triangle collects junk from the diagonal tiles. Returns the failing pivot, or -1.
    /// </summary>
    private static int CholeskyFactor(float* l, long stride, int n, int nb, bool split, out double badValue)
    {
        badValue = 0;
        bool leaf = nb <= CholeskyLeaf || nb >= n;
        nb = leaf ? Math.Min(nb, CholeskyLeaf) : nb;
        // The panel holds rows [k, n) transposed, and every row must stay readable for a whole tile past its end.
        long pld = (n + 2L * SimdSyrk.Cols512 - 1) & ~(long)(SimdSyrk.Cols512 - 1);
        float* panel = (float*)NativeMemory.AlignedAlloc((nuint)(nb * pld) * sizeof(float), 64);
        try
        {
            for (int k = 0; k < n; k += nb)
            {
                int b = Math.Min(nb, n - k);
                int m = n - k - b;
                var step = new PanelStep(l, stride, k, b, m, panel, pld);
                if (leaf)
                {
                    int bad = step.FactorAndSolve(out badValue);
                    if (bad >= 0)
                    {
                        return k + bad;
                    }
                }
                else
                {
                    int bad = CholeskyFactor(l + k * stride + k, stride, b, CholeskyLeaf, false, out badValue);
                    if (bad >= 0)
                    {
                        return k + bad;
                    }
                    if (split)
                    {
                        SimdDriver.For(m, 256, step.Solve);
                    }
                    else
                    {
                        step.Solve(0, m);
                    }
                }
                if (m == 0)
                {
                    break;
                }
                int tiles = (m + SimdSyrk.Rows - 1) / SimdSyrk.Rows;
                if (split)
                {
                    // The bottom tiles are the longest: hand them out first.
                    Parallel.For(0, tiles, t => step.Update(tiles - 1 - t, leaf));
                }
                else
                {
                    for (int t = 0; t < tiles; t++)
                    {
                        step.Update(t, leaf);
                    }
                }
            }
            return -1;
        }
        finally
        {
            NativeMemory.AlignedFree(panel);
        }
    }

    /// <summary>
    /// One panel step at column k: the diagonal block [k, k + b) and the m rows below it. The panel buffer
    /// holds the panel transposed, P[p, i] = l[k + i, k + p] (leaf steps, rows [k, n)) or
    /// P[p, i] = l[k + b + i, k + p] (wide steps, rows below the block, whose block is already factored).
    /// </summary>
    private readonly struct PanelStep(float* l, long stride, int k, int b, int m, float* panel, long pld)
    {
        /// <summary>Factors the diagonal block and solves the rows below it, in one sweep over P; returns the failing pivot or -1.</summary>
        public int FactorAndSolve(out double badValue)
        {
            badValue = 0;
            int rows = b + m;
            long width = pld;
            float* top = l + k * stride + k;
            for (int p = 0; p < b; p++)
            {
                float* row = panel + p * pld;
                for (int i = p; i < rows; i++)
                {
                    row[i] = top[i * stride + p];
                }
                SimdDriver.FillRange(row + rows, width - rows, 0f);
            }
            for (int j = 0; j < b; j++)
            {
                float* rj = panel + j * pld;
                float d = rj[j];
                if (!(d > 0))
                {
                    badValue = d;
                    return j;
                }
                float pivot = MathF.Sqrt(d);
                rj[j] = pivot;
                SimdDriver.MapRange(rj + j + 1, rj + j + 1, rows - j - 1, new DivideOp(pivot));
                for (int q = j + 1; q < b; q++)
                {
                    float* rq = panel + q * pld;
                    SimdDriver.MapRange(rq + q, rq + q, rj + q, rows - q, new AxpyOp(-rj[q]));
                }
            }
            for (int i = 0; i < rows; i++)
            {
                float* dst = top + i * stride;
                for (int p = 0; p <= Math.Min(i, b - 1); p++)
                {
                    dst[p] = panel[p * pld + i];
                }
            }
            return -1;
        }

        /// <summary>Rows [r0, r0 + count) below the factored block: pack into P, solve X L_kk^T = A along P's rows, write back.</summary>
        public void Solve(long r0, long count)
        {
            float* below = l + (k + b + r0) * stride + k;
            long end = r0 + count == m ? pld : r0 + count;
            for (int p = 0; p < b; p++)
            {
                float* row = panel + p * pld;
                for (long i = 0; i < count; i++)
                {
                    row[r0 + i] = below[i * stride + p];
                }
                // The last piece also zeroes the padding that the update tiles read past m.
                SimdDriver.FillRange(row + r0 + count, end - r0 - count, 0f);
            }
            float* diagonal = l + k * stride + k;
            for (int j = 0; j < b; j++)
            {
                float* rj = panel + j * pld + r0;
                SimdDriver.MapRange(rj, rj, count, new DivideOp(diagonal[j * stride + j]));
                for (int q = j + 1; q < b; q++)
                {
                    float* rq = panel + q * pld + r0;
                    SimdDriver.MapRange(rq, rq, rj, count, new AxpyOp(-diagonal[q * stride + j]));
                }
            }
            for (long i = 0; i < count; i++)
            {
                for (int p = 0; p < b; p++)
                {
                    below[i * stride + p] = panel[p * pld + r0 + i];
                }
            }
        }

        /// <summary>Row tile t of the trailing matrix: its lower part (through the diagonal) -= its panel rows times P.</summary>
        public void Update(int t, bool leaf)
        {
            int i0 = t * SimdSyrk.Rows;
            int rows = Math.Min(SimdSyrk.Rows, m - i0);
            float* rowStart = l + (k + b + i0) * stride;
            float* p = leaf ? panel + b : panel;
            SimdSyrk.Update(rowStart + k + b, stride, rowStart + k, stride, p, pld, b, rows, Math.Min(i0 + rows, m));
        }
    }

    /// <summary>Forward then backward substitution on t (n, 32): L y = t, then U x = y with U = L^T, in place.</summary>
    private static void SolveColumns32(float* l, float* u, float* t, int n)
    {
        for (int i = 0; i < n; i++)
        {
            float* ti = t + (long)i * SolveChunk;
            float* li = l + (long)i * n;
            var a0 = Vector256.Load(ti);
            var a1 = Vector256.Load(ti + 8);
            var a2 = Vector256.Load(ti + 16);
            var a3 = Vector256.Load(ti + 24);
            for (int p = 0; p < i; p++)
            {
                float* tp = t + (long)p * SolveChunk;
                var s = Vector256.Create(-li[p]);
                a0 = Vector256.FusedMultiplyAdd(s, Vector256.Load(tp), a0);
                a1 = Vector256.FusedMultiplyAdd(s, Vector256.Load(tp + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(s, Vector256.Load(tp + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(s, Vector256.Load(tp + 24), a3);
            }
            var d = Vector256.Create(li[i]);
            (a0 / d).Store(ti);
            (a1 / d).Store(ti + 8);
            (a2 / d).Store(ti + 16);
            (a3 / d).Store(ti + 24);
        }
        for (int i = n - 1; i >= 0; i--)
        {
            float* ti = t + (long)i * SolveChunk;
            float* ui = u + (long)i * n;
            var a0 = Vector256.Load(ti);
            var a1 = Vector256.Load(ti + 8);
            var a2 = Vector256.Load(ti + 16);
            var a3 = Vector256.Load(ti + 24);
            for (int p = i + 1; p < n; p++)
            {
                float* tp = t + (long)p * SolveChunk;
                var s = Vector256.Create(-ui[p]);
                a0 = Vector256.FusedMultiplyAdd(s, Vector256.Load(tp), a0);
                a1 = Vector256.FusedMultiplyAdd(s, Vector256.Load(tp + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(s, Vector256.Load(tp + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(s, Vector256.Load(tp + 24), a3);
            }
            var d = Vector256.Create(ui[i]);
            (a0 / d).Store(ti);
            (a1 / d).Store(ti + 8);
            (a2 / d).Store(ti + 16);
            (a3 / d).Store(ti + 24);
        }
    }

    /// <summary>As <see cref="SolveColumns32"/> on t (n, 8), for a few right-hand sides.</summary>
    private static void SolveColumns8(float* l, float* u, float* t, int n)
    {
        for (int i = 0; i < n; i++)
        {
            float* li = l + (long)i * n;
            var a = Vector256.Load(t + (long)i * 8);
            for (int p = 0; p < i; p++)
            {
                a = Vector256.FusedMultiplyAdd(Vector256.Create(-li[p]), Vector256.Load(t + (long)p * 8), a);
            }
            (a / Vector256.Create(li[i])).Store(t + (long)i * 8);
        }
        for (int i = n - 1; i >= 0; i--)
        {
            float* ui = u + (long)i * n;
            var a = Vector256.Load(t + (long)i * 8);
            for (int p = i + 1; p < n; p++)
            {
                a = Vector256.FusedMultiplyAdd(Vector256.Create(-ui[p]), Vector256.Load(t + (long)p * 8), a);
            }
            (a / Vector256.Create(ui[i])).Store(t + (long)i * 8);
        }
    }
}

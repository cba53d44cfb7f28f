using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EmpSsl.Kernels.Cpu;

// Small SPD matrices for the coding rate: a (batch, n, n). No gradients here: the autodiff layer
// differentiates logdet through CholeskySolve.
public sealed unsafe partial class CpuKernels
{
    /// <summary>Panel width of the blocked factorization: the transposed panel (64 x n) stays in L2.</summary>
    private const int CholeskyPanel = 64;

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

        void One(int m)
        {
            float* lm = (float*)pl + m * size;
            CopyLower(lm, (float*)pa + m * size, n);
            int bad = CholeskyFactor(lm, n, split, out double value);
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
                        new Span<float>(xm + (long)i * nrhs, w).CopyTo(new Span<float>(t + (long)i * width, width));
                        new Span<float>(t + (long)i * width + w, width - w).Clear();
                    }
                    if (width == SolveChunk)
                    {
                        SolveColumns32((float*)pl + (long)m * n * n, t, n);
                    }
                    else
                    {
                        SolveColumns8((float*)pl + (long)m * n * n, t, n);
                    }
                    for (int i = 0; i < n; i++)
                    {
                        new Span<float>(t + (long)i * width, w).CopyTo(new Span<float>(xm + (long)i * nrhs, w));
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
            new Span<float>(a + (long)i * n, i + 1).CopyTo(new Span<float>(l + (long)i * n, i + 1));
        }
    }

    /// <summary>
    /// Blocked right-looking Cholesky in place on the lower triangle of l (n, n): per panel of 64 columns,
    /// factor the diagonal block, solve the panel below it (transposed, so the solve runs along vectors),
    /// then update the trailing lower triangle with the register tiles of <see cref="SimdSyrk"/>.
    /// The upper triangle collects junk from the diagonal tiles. Returns the failing pivot, or -1.
    /// </summary>
    private static int CholeskyFactor(float* l, int n, bool split, out double badValue)
    {
        badValue = 0;
        long panelLd = (n + SimdSyrk.Cols512 - 1) & ~(long)(SimdSyrk.Cols512 - 1);
        float* panel = (float*)NativeMemory.AlignedAlloc((nuint)(CholeskyPanel * panelLd) * sizeof(float), 64);
        try
        {
            for (int k = 0; k < n; k += CholeskyPanel)
            {
                int b = Math.Min(CholeskyPanel, n - k);
                int bad = FactorDiagonalBlock(l, n, k, b, out badValue);
                if (bad >= 0)
                {
                    return bad;
                }
                int m = n - k - b;
                if (m == 0)
                {
                    break;
                }
                long ld = (m + SimdSyrk.Cols512 - 1) & ~(long)(SimdSyrk.Cols512 - 1);
                nint pl = (nint)l;
                nint pp = (nint)panel;
                if (split)
                {
                    SimdDriver.For(ld, 256, (c0, width) => SolvePanel((float*)pl, n, k, b, m, (float*)pp, ld, c0, width));
                    int tiles = (m + SimdSyrk.Rows - 1) / SimdSyrk.Rows;
                    // The bottom tiles are the longest: hand them out first.
                    Parallel.For(0, tiles, t => UpdateTrailing((float*)pl, n, k, b, m, (float*)pp, ld, tiles - 1 - t));
                }
                else
                {
                    SolvePanel(l, n, k, b, m, panel, ld, 0, ld);
                    for (int t = 0; t * SimdSyrk.Rows < m; t++)
                    {
                        UpdateTrailing(l, n, k, b, m, panel, ld, t);
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

    /// <summary>Unblocked left-looking Cholesky of the diagonal block [k, k + b), whose earlier columns are already subtracted.</summary>
    private static int FactorDiagonalBlock(float* l, int n, int k, int b, out double badValue)
    {
        badValue = 0;
        for (int j = k; j < k + b; j++)
        {
            float* lj = l + (long)j * n;
            double d = lj[j] - SimdReduce.Dot(lj + k, lj + k, j - k);
            if (!(d > 0))
            {
                badValue = d;
                return j;
            }
            double ljj = Math.Sqrt(d);
            lj[j] = (float)ljj;
            for (int i = j + 1; i < k + b; i++)
            {
                float* li = l + (long)i * n;
                li[j] = (float)((li[j] - SimdReduce.Dot(li + k, lj + k, j - k)) / ljj);
            }
        }
        return -1;
    }

    /// <summary>
    /// Columns [c0, c0 + width) of the transposed panel P (b, ld), P[p, i] = l[k + b + i, k + p]: packs them
    /// (zeros past m), solves X L_kk^T = A along the rows of P, and writes the solved columns back into l.
    /// </summary>
    private static void SolvePanel(float* l, int n, int k, int b, int m, float* panel, long ld, long c0, long width)
    {
        long live = Math.Max(0, Math.Min(width, m - c0));
        for (int p = 0; p < b; p++)
        {
            float* row = panel + p * ld + c0;
            for (long i = 0; i < live; i++)
            {
                row[i] = l[(k + b + c0 + i) * n + k + p];
            }
            new Span<float>(row + live, (int)(width - live)).Clear();
        }
        for (int j = 0; j < b; j++)
        {
            float* rj = panel + j * ld + c0;
            SimdDriver.MapRange(rj, rj, width, new DivideOp(l[(long)(k + j) * n + k + j]));
            for (int q = j + 1; q < b; q++)
            {
                float* rq = panel + q * ld + c0;
                SimdDriver.MapRange(rq, rq, rj, width, new AxpyOp(-l[(long)(k + q) * n + k + j]));
            }
        }
        for (long i = 0; i < live; i++)
        {
            float* dst = l + (k + b + c0 + i) * n + k;
            for (int p = 0; p < b; p++)
            {
                dst[p] = panel[p * ld + c0 + i];
            }
        }
    }

    /// <summary>Row tile t of the trailing matrix: its lower part (through the diagonal) -= its panel rows times the panel.</summary>
    private static void UpdateTrailing(float* l, int n, int k, int b, int m, float* panel, long ld, int t)
    {
        int i0 = t * SimdSyrk.Rows;
        int rows = Math.Min(SimdSyrk.Rows, m - i0);
        float* rowStart = l + (long)(k + b + i0) * n;
        SimdSyrk.Update(rowStart + k + b, n, rowStart + k, n, panel, ld, b, rows, Math.Min(i0 + rows, m));
    }

    /// <summary>Forward then backward substitution on t (n, 32): L y = t, then L^T x = y, in place.</summary>
    private static void SolveColumns32(float* l, float* t, int n)
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
            var a0 = Vector256.Load(ti);
            var a1 = Vector256.Load(ti + 8);
            var a2 = Vector256.Load(ti + 16);
            var a3 = Vector256.Load(ti + 24);
            for (int p = i + 1; p < n; p++)
            {
                float* tp = t + (long)p * SolveChunk;
                var s = Vector256.Create(-l[(long)p * n + i]);
                a0 = Vector256.FusedMultiplyAdd(s, Vector256.Load(tp), a0);
                a1 = Vector256.FusedMultiplyAdd(s, Vector256.Load(tp + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(s, Vector256.Load(tp + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(s, Vector256.Load(tp + 24), a3);
            }
            var d = Vector256.Create(l[(long)i * n + i]);
            (a0 / d).Store(ti);
            (a1 / d).Store(ti + 8);
            (a2 / d).Store(ti + 16);
            (a3 / d).Store(ti + 24);
        }
    }

    /// <summary>As <see cref="SolveColumns32"/> on t (n, 8), for a few right-hand sides.</summary>
    private static void SolveColumns8(float* l, float* t, int n)
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
            var a = Vector256.Load(t + (long)i * 8);
            for (int p = i + 1; p < n; p++)
            {
                a = Vector256.FusedMultiplyAdd(Vector256.Create(-l[(long)p * n + i]), Vector256.Load(t + (long)p * 8), a);
            }
            (a / Vector256.Create(l[(long)i * n + i])).Store(t + (long)i * 8);
        }
    }
}

namespace EmpSsl.Kernels.Reference;

public static partial class Ref
{
    /// <summary>a (batch, n, n) += value * I for each matrix.</summary>
    public static void AddDiagonal(Span<double> a, double value, int n, int batch)
    {
        Need("AddDiagonal", "a", a.Length, (long)batch * n * n);
        for (int b = 0; b < batch; b++)
        {
            for (int i = 0; i < n; i++)
            {
                a[b * n * n + i * n + i] += value;
            }
        }
    }

    /// <summary>
    /// l (batch, n, n) = lower Cholesky factor of each SPD a (batch, n, n), by the Cholesky-Banachiewicz rows,
    /// reading only a's lower triangle; the upper triangle of l is zeroed. logdet (batch) = 2 sum log diag(l).
    /// Throws <see cref="MatrixNotPositiveDefiniteException"/> at the first pivot that is not positive (or NaN).
    /// </summary>
    public static void Cholesky(Span<double> l, Span<double> logdet, ReadOnlySpan<double> a, int n, int batch)
    {
        Need("Cholesky", "a", a.Length, (long)batch * n * n);
        Need("Cholesky", "l", l.Length, (long)batch * n * n);
        Need("Cholesky", "logdet", logdet.Length, batch);
        for (int b = 0; b < batch; b++)
        {
            int o = b * n * n;
            double sumLog = 0;
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    double acc = a[o + i * n + j];
                    for (int k = 0; k < j; k++)
                    {
                        acc -= l[o + i * n + k] * l[o + j * n + k];
                    }
                    if (i == j)
                    {
                        if (!(acc > 0))
                        {
                            throw new MatrixNotPositiveDefiniteException(b, i, acc);
                        }
                        l[o + i * n + i] = Math.Sqrt(acc);
                        sumLog += Math.Log(l[o + i * n + i]);
                    }
                    else
                    {
                        l[o + i * n + j] = acc / l[o + j * n + j];
                    }
                }
                for (int j = i + 1; j < n; j++)
                {
                    l[o + i * n + j] = 0;
                }
            }
            logdet[b] = 2 * sumLog;
        }
    }

    /// <summary>
    /// x (batch, n, nrhs) solves (l l^T) x = b (batch, n, nrhs): forward substitution with l, then back substitution
    /// with l^T, each column on its own. x may alias b: each row of b is read before that row of x is written.
    /// </summary>
    public static void CholeskySolve(Span<double> x, ReadOnlySpan<double> l, ReadOnlySpan<double> b, int n, int nrhs, int batch)
    {
        Need("CholeskySolve", "l", l.Length, (long)batch * n * n);
        Need("CholeskySolve", "b", b.Length, (long)batch * n * nrhs);
        Need("CholeskySolve", "x", x.Length, (long)batch * n * nrhs);
        var z = new double[n];
        for (int m = 0; m < batch; m++)
        {
            int lo = m * n * n;
            int bo = m * n * nrhs;
            for (int col = 0; col < nrhs; col++)
            {
                for (int i = 0; i < n; i++)
                {
                    double acc = b[bo + i * nrhs + col];
                    for (int k = 0; k < i; k++)
                    {
                        acc -= l[lo + i * n + k] * z[k];
                    }
                    z[i] = acc / l[lo + i * n + i];
                }
                for (int i = n - 1; i >= 0; i--)
                {
                    double acc = z[i];
                    for (int k = i + 1; k < n; k++)
                    {
                        acc -= l[lo + k * n + i] * z[k];
                    }
                    z[i] = acc / l[lo + i * n + i];
                }
                for (int i = 0; i < n; i++)
                {
                    x[bo + i * nrhs + col] = z[i];
                }
            }
        }
    }
}

namespace EmpSsl.Testing;

/// <summary>Batches of symmetric positive definite test matrices (batch, n, n), row-major, as float32.</summary>
public static class Matrices
{
    /// <summary>
    /// I + Z Z^T / (2n) with Z (n, 2n) standard normal: the coding rate's shape, with eigenvalues in about
    /// [1.09, 3.9] (Marchenko-Pastur), so the condition number stays below 4.
    /// </summary>
    public static float[] WellConditioned(int seed, int n, int batch)
    {
        int m = 2 * n;
        var result = new float[batch * n * n];
        for (int b = 0; b < batch; b++)
        {
            var z = Seeded.Normal(seed + b, n * m);
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    double acc = 0;
                    for (int k = 0; k < m; k++)
                    {
                        acc += (double)z[i * m + k] * z[j * m + k];
                    }
                    float v = (float)(acc / m + (i == j ? 1 : 0));
                    result[b * n * n + i * n + j] = v;
                    result[b * n * n + j * n + i] = v;
                }
            }
        }
        return result;
    }

    /// <summary>
    /// Q diag(lambda) Q^T with Q a random orthogonal matrix (Gram-Schmidt in float64) and lambda log-spaced from 1
    /// down to 1 / condition, rounded to float32 once at the end (symmetrically).
    /// </summary>
    public static float[] WithCondition(int seed, int n, double condition)
    {
        var rng = new Random(seed);
        var q = new double[n * n];
        for (int i = 0; i < q.Length; i++)
        {
            q[i] = 2 * rng.NextDouble() - 1;
        }
        for (int j = 0; j < n; j++)
        {
            for (int k = 0; k < j; k++)
            {
                double dot = 0;
                for (int i = 0; i < n; i++)
                {
                    dot += q[i * n + j] * q[i * n + k];
                }
                for (int i = 0; i < n; i++)
                {
                    q[i * n + j] -= dot * q[i * n + k];
                }
            }
            double norm = 0;
            for (int i = 0; i < n; i++)
            {
                norm += q[i * n + j] * q[i * n + j];
            }
            norm = Math.Sqrt(norm);
            for (int i = 0; i < n; i++)
            {
                q[i * n + j] /= norm;
            }
        }
        var lambda = Eigenvalues(n, condition);
        var a = new float[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double acc = 0;
                for (int k = 0; k < n; k++)
                {
                    acc += q[i * n + k] * lambda[k] * q[j * n + k];
                }
                a[i * n + j] = (float)acc;
                a[j * n + i] = (float)acc;
            }
        }
        return a;
    }

    /// <summary>The spectrum <see cref="WithCondition"/> uses: 10^(-log10(condition) i / (n - 1)).</summary>
    public static double[] Eigenvalues(int n, double condition)
    {
        var lambda = new double[n];
        for (int i = 0; i < n; i++)
        {
            lambda[i] = n == 1 ? 1 : Math.Pow(condition, -(double)i / (n - 1));
        }
        return lambda;
    }
}

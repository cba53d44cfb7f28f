namespace EmpSsl.Kernels.Reference;

public static partial class Ref
{
    /// <summary>
    /// c (M, N) = alpha op(a) op(b) + beta c. a is (M, K), or (K, M) when TransA; b is (K, N), or (N, K) when TransB.
    /// With beta == 0, c is never read, so NaN in c does not reach the result.
    /// </summary>
    public static void Gemm(Span<double> c, ReadOnlySpan<double> a, ReadOnlySpan<double> b, in GemmShape s)
    {
        Need("Gemm", "a", a.Length, (long)s.M * s.K);
        Need("Gemm", "b", b.Length, (long)s.K * s.N);
        Need("Gemm", "c", c.Length, (long)s.M * s.N);
        for (int i = 0; i < s.M; i++)
        {
            for (int j = 0; j < s.N; j++)
            {
                double acc = 0;
                for (int k = 0; k < s.K; k++)
                {
                    double aik = s.TransA ? a[k * s.M + i] : a[i * s.K + k];
                    double bkj = s.TransB ? b[j * s.K + k] : b[k * s.N + j];
                    acc += aik * bkj;
                }
                double prior = s.Beta == 0 ? 0 : (double)s.Beta * c[i * s.N + j];
                c[i * s.N + j] = (double)s.Alpha * acc + prior;
            }
        }
    }
}

namespace EmpSsl.Kernels.Cpu;

// Gemm family. C is an output: written (beta == 0, never read) or blended (beta != 0), no gradient rule applies.
public sealed partial class CpuKernels
{
    /// <summary>c (M, N) = alpha op(a) op(b) + beta c; a (M, K) or (K, M) when TransA; b (K, N) or (N, K) when TransB.</summary>
    public unsafe void Gemm(DeviceSpan c, DeviceSpan a, DeviceSpan b, in GemmShape s)
    {
        Checks.Gemm(c, a, b, s);
        var (ca, co) = A(c);
        var (aa, ao) = A(a);
        var (ba, bo) = A(b);
        fixed (float* pc = &ca[co], pa = &aa[ao], pb = &ba[bo])
        {
            var cm = new GemmMatrix(pc, s.N);
            if (s.Alpha == 0f)
            {
                ScaleMatrix(cm, s.M, s.N, s.Beta);
                return;
            }
            GemmDriver.Run(
                s.M, s.N, s.K,
                new GemmMatrix(pa, s.TransA ? s.M : s.K), s.TransA,
                new GemmMatrix(pb, s.TransB ? s.K : s.N), s.TransB,
                cm, s.Alpha, s.Beta);
        }
    }

    // alpha == 0 leaves only beta c; A and B are not read, as in BLAS.
    private static unsafe void ScaleMatrix(in GemmMatrix c, int m, int n, float beta)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c.At(i, 0), n);
            if (beta == 0f)
            {
                row.Clear();
            }
            else
            {
                for (int j = 0; j < n; j++)
                {
                    row[j] *= beta;
                }
            }
        }
    }
}

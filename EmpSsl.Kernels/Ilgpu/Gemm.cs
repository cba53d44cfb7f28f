using ILGPU;
using ILGPU.Runtime;

namespace EmpSsl.Kernels.Ilgpu;

/// <summary>
/// Row-major c (M, N) = alpha op(a) op(b) + beta c on the shared-memory tiling of <see cref="GemmBlock"/>.
/// One entry point per transpose combination, so each operand's addressing and load order are fixed at compile time.
/// They prefetch (<see cref="PrefetchNext"/>): on the H100 that took GEMM 1024^3 from 11.7 to 19.5-20.8 TFLOP/s.
/// </summary>
public sealed partial class IlgpuKernels
{
    public void Gemm(DeviceSpan c, DeviceSpan a, DeviceSpan b, in GemmShape s)
    {
        Checks.Gemm(c, a, b, s);
        var config = GemmConfig(s.M, s.N);
        var output = new GemmScaledOutput(V(c), s.N, s.Alpha, s.Beta);
        // Stored A is (M, K), or (K, M) when transposed; stored B is (K, N), or (N, K) when transposed.
        switch (s.TransA, s.TransB)
        {
            case (false, false):
                Load("GemmNN", acc => acc.LoadStreamKernel<GemmRowMajor, GemmRowMajor, GemmScaledOutput, int, int, int>(GemmNNKernel))(
                    config, new GemmRowMajor(V(a), s.K), new GemmRowMajor(V(b), s.N), output, s.M, s.N, s.K);
                break;
            case (false, true):
                Load("GemmNT", acc => acc.LoadStreamKernel<GemmRowMajor, GemmColMajor, GemmScaledOutput, int, int, int>(GemmNTKernel))(
                    config, new GemmRowMajor(V(a), s.K), new GemmColMajor(V(b), s.K), output, s.M, s.N, s.K);
                break;
            case (true, false):
                Load("GemmTN", acc => acc.LoadStreamKernel<GemmColMajor, GemmRowMajor, GemmScaledOutput, int, int, int>(GemmTNKernel))(
                    config, new GemmColMajor(V(a), s.M), new GemmRowMajor(V(b), s.N), output, s.M, s.N, s.K);
                break;
            case (true, true):
                Load("GemmTT", acc => acc.LoadStreamKernel<GemmColMajor, GemmColMajor, GemmScaledOutput, int, int, int>(GemmTTKernel))(
                    config, new GemmColMajor(V(a), s.M), new GemmColMajor(V(b), s.K), output, s.M, s.N, s.K);
                break;
        }
    }

    /// <param name="a">(M, K)</param>
    /// <param name="b">(K, N)</param>
    /// <param name="c">(M, N)</param>
    internal static void GemmNNKernel(GemmRowMajor a, GemmRowMajor b, GemmScaledOutput c, int m, int n, int k)
        => GemmGridBlock(a, b, c, default(PrefetchNext), default(Fp32Fma), m, n, k, k);

    /// <param name="a">(M, K)</param>
    /// <param name="b">(N, K)</param>
    /// <param name="c">(M, N)</param>
    internal static void GemmNTKernel(GemmRowMajor a, GemmColMajor b, GemmScaledOutput c, int m, int n, int k)
        => GemmGridBlock(a, b, c, default(PrefetchNext), default(Fp32Fma), m, n, k, k);

    /// <param name="a">(K, M)</param>
    /// <param name="b">(K, N)</param>
    /// <param name="c">(M, N)</param>
    internal static void GemmTNKernel(GemmColMajor a, GemmRowMajor b, GemmScaledOutput c, int m, int n, int k)
        => GemmGridBlock(a, b, c, default(PrefetchNext), default(Fp32Fma), m, n, k, k);

    /// <param name="a">(K, M)</param>
    /// <param name="b">(N, K)</param>
    /// <param name="c">(M, N)</param>
    internal static void GemmTTKernel(GemmColMajor a, GemmColMajor b, GemmScaledOutput c, int m, int n, int k)
        => GemmGridBlock(a, b, c, default(PrefetchNext), default(Fp32Fma), m, n, k, k);
}

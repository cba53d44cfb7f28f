using EmpSsl.Kernels.Ilgpu;
using EmpSsl.Kernels.Reference;
using EmpSsl.Testing;

namespace EmpSsl.Kernels.Tests;

/// <summary>
/// The TF32 switch is refused where there are no tensor cores.
/// </summary>
[Collection(Backends.IlgpuCpu)]
public sealed class Tf32RefusedTests
{
    [Fact]
    public void RefusedWithoutTensorCores()
    {
        var k = (IlgpuKernels)Backends.Open(Backends.IlgpuCpu);
        var e = Assert.Throws<NotSupportedException>(() => k.Tf32Convolutions = true);
        Assert.Contains("TF32", e.Message, StringComparison.Ordinal);
        Assert.Contains("ilgpu-cpu", e.Message, StringComparison.Ordinal);
        Assert.False(k.Tf32Convolutions);
    }
}

/// <summary>
/// On CUDA the TF32 switch really gives a different (rounded) product than fp32, within TF32's bound of the float64
/// spec. The per-case conformance runs in Conv2dConformanceCudaTf32.
/// </summary>
[Collection(Backends.Cuda)]
public sealed class Tf32CudaTests
{
    [SkippableFact]
    public void CudaForwardIsRoundedButWithinTf32Bound()
    {
        var k = (IlgpuKernels)Backends.Open(Backends.Cuda);
        var s = new Conv2dShape(N: 4, C: 64, H: 16, W: 16, K: 64, R: 3, Stride: 1, Pad: 1);
        // Factors that TF32 cannot hold exactly, so its rounding must show.
        var x = Seeded.Uniform(31, s.InputLength);
        var w = Seeded.Uniform(32, s.WeightLength);
        using var dx = GuardedBuffer.Upload(k, x);
        using var dw = GuardedBuffer.Upload(k, w);
        using var fp32 = GuardedBuffer.Poisoned(k, s.OutputLength);
        using var tf32 = GuardedBuffer.Poisoned(k, s.OutputLength);
        try
        {
            k.Tf32Convolutions = false;
            k.Conv2dForward(fp32.Span, dx.Span, dw.Span, s);
            k.Tf32Convolutions = true;
            k.Conv2dForward(tf32.Span, dx.Span, dw.Span, s);
        }
        finally
        {
            k.Tf32Convolutions = false;
        }
        var expected = new double[s.OutputLength];
        Ref.Conv2dForward(expected, Seeded.Widen(x), Seeded.Widen(w), s);
        var a = fp32.Download();
        var b = tf32.Download();
        Compare.AssertClose("cuda fp32 forward", expected, a, Tol.Gemm);
        Compare.AssertClose("cuda TF32 forward", expected, b, Tol.Tf32);
        double fp32Err = 0, tf32Err = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            fp32Err = Math.Max(fp32Err, Math.Abs(a[i] - expected[i]));
            tf32Err = Math.Max(tf32Err, Math.Abs(b[i] - expected[i]));
        }
        // TF32 keeps 10 of fp32's 23 mantissa bits: if its error were not far above fp32's, the fp32 path ran.
        Assert.True(tf32Err > 20 * fp32Err, $"TF32 max error {tf32Err:G3} is not far above fp32's {fp32Err:G3}");
    }
}

using EmpSsl.Kernels;

namespace EmpSsl.Bench.Tests;

public class QuickBenchTests
{
    // --only narrows GEMM shapes as well as convolutions: the tiny (ilgpu-cpu) list has one GEMM and one
    // convolution, and each filter must keep exactly its own case, validated.
    [Theory]
    [InlineData("64x64x64", "gemm")]
    [InlineData("_r3_s1", "conv2d_fwd")]
    public void OnlyKeepsTheMatchingShapes(string only, string firstOp)
    {
        using var k = Devices.Open("ilgpu-cpu");
        var log = new StringWriter();
        var results = new QuickBench(k, log, only).Run();
        Assert.NotEmpty(results);
        Assert.Equal(firstOp, results[0].Op);
        Assert.All(results, r => Assert.Contains(only, r.Shape, StringComparison.Ordinal));
        Assert.All(results, r => Assert.True(r.RelErr < 1e-4 && r.Gflops > 0, $"{r.Op} {r.Shape}: relerr {r.RelErr}, {r.Gflops} GFLOP/s"));
        // The best call is never slower than the median one.
        Assert.All(results, r => Assert.True(r.Seconds > 0 && r.SecondsMedian >= r.Seconds && double.IsFinite(r.SecondsMedian), $"{r.Op}: best {r.Seconds} s, median {r.SecondsMedian} s"));
        Assert.DoesNotContain(results, r => r.Op.StartsWith("batchnorm", StringComparison.Ordinal) || r.Op == "cholesky_logdet");
    }
}

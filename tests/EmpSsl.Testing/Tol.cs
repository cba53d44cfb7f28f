namespace EmpSsl.Testing;

/// <summary>A pass band |actual - expected| &lt;= Atol + Rtol * |expected|, as llm.c and tinygrad compare.</summary>
public readonly record struct Tolerance(double Atol, double Rtol)
{
    public bool Accepts(double expected, double actual) =>
        !double.IsNaN(actual) && Math.Abs(actual - expected) <= Atol + Rtol * Math.Abs(expected);

    public override string ToString() => $"atol {Atol:G3} + rtol {Rtol:G3}";
}

/// <summary>
/// Named tolerances for fp32 kernels checked against the float64 spec. Inputs in the tests are O(1)
/// (uniform in [-1, 1] unless a test says otherwise) and exactly representable in fp32, so the spec sees
/// the very values the kernel saw and only the kernel's own rounding is measured. fp32 rounds at 2^-24 ~ 6e-8.
/// </summary>
public static class Tol
{
    /// <summary>Copies, fills, relu, and routing (max pool): no arithmetic, so any difference is a bug.</summary>
    public static readonly Tolerance Exact = new(0, 0);

    /// <summary>
    /// One or two fp32 roundings per element (add, axpy, scale, row scale, bias): the bound of 1e-5 relative.
    /// The atol covers results that cancel to near zero, where the rounding of O(1) operands (~1e-7) dominates.
    /// </summary>
    public static readonly Tolerance Elementwise = new(1e-6, 1e-5);

    /// <summary>
    /// Sums over up to ~10^4 O(1) terms (Sum, RowDot, column sums, pooling means, BatchNorm statistics, bilinear
    /// blends): the bound of 1e-4 relative. A blocked or pairwise fp32 sum errs by about sqrt(n) 2^-24 times
    /// the partial sums' size, ~1e-5 for n = 10^4 terms of size 1, so atol 1e-4 leaves room where the sum cancels.
    /// </summary>
    public static readonly Tolerance Reduction = new(1e-4, 1e-4);

    /// <summary>
    /// GEMM and convolution, K up to ~1200 products of O(1) factors: outputs are about sqrt(K) ~ 35 at most, and an
    /// fp32 dot product of K terms errs by about sqrt(K) 2^-24 |partial sums| ~ 1e-5 (llm.c's matmul check uses 1e-2
    /// on far larger sums). Same 1e-4 relative bound as the issue; atol 1e-4 for outputs that cancel to near zero.
    /// </summary>
    public static readonly Tolerance Gemm = new(1e-4, 1e-4);

    /// <summary>
    /// Convolutions on the tensor cores in TF32 (opt-in on CUDA): each factor is rounded to 10 mantissa bits
    /// (relative error up to 2^-11), products are summed in fp32. For O(1) uniform factors a product errs by about
    /// 1.3e-4 (standard deviation), so a sum of up to ~650 of them (the conformance shapes' deepest reduction) by
    /// about sqrt(650) 1.3e-4 ~ 3e-3; atol 2e-2 is six of those. rtol 2e-3 covers two worst-case roundings of
    /// terms that all share a sign. A wrong fragment layout or a lost k-step errs by O(1).
    /// </summary>
    public static readonly Tolerance Tf32 = new(2e-2, 2e-3);

    /// <summary>
    /// Winograd F(4x4, 3x3) convolutions (the cpu backend's 3x3 stride-1 path): the same fp32 products, but summed
    /// in the transformed domain, where the output transform (coefficients up to 8 x 8) amplifies the sums' rounding.
    /// A float32 model of the algorithm (each stage rounded in turn) puts almost all of the error in that summation,
    /// and measured against float64 the error is 7x-12x the implicit GEMM's in rms and about 3e-6 of the outputs'
    /// rms at 64-512 channels and 8192 pixels (docs/BENCHMARKS.md, "Winograd"). So the bound is relative to the
    /// outputs' rms, as the 1e-4 reads for a whole tensor: atol 1e-4 rms(expected), at least 30x the rms
    /// error and 3x the worst element measured; rtol 1e-4 as for GEMM. A lost channel, tap or tile errs by O(rms).
    /// </summary>
    public static Tolerance Winograd(ReadOnlySpan<double> expected)
    {
        double sum = 0;
        foreach (double v in expected)
        {
            sum += v * v;
        }
        return new(1e-4 * Math.Sqrt(sum / Math.Max(1, expected.Length)), 1e-4);
    }

    /// <summary>
    /// Cholesky factor and solves of well-conditioned matrices (condition number &lt; 100, as I + a Z Z^T is):
    /// the forward error is about n 2^-24 cond ~ 1e-4 at n = 256, cond = 10.
    /// </summary>
    public static readonly Tolerance Cholesky = new(1e-4, 1e-4);

    /// <summary>
    /// log det of SPD matrices with condition number 1e6, built as Q diag(10^(-6 i / (n - 1))) Q^T, log det about
    /// -6.9 n. First-order theory: fp32 Cholesky is backward stable (|dA| &lt;~ n 2^-24 |A|), and log det moves by
    /// tr(A^-1 dA), dominated by the smallest eigenvalues. Measured on this machine with a plain fp32 Cholesky
    /// (left- and right-looking agree) over 3 seeds each: |error| 0.008 at n = 17 and 64, 0.018 at n = 256,
    /// i.e. about 1e-5 relative. The band 0.05 + 5e-5 |log det| is 7x to 10x that, and still far below the
    /// several units a wrong pivot or a dropped row costs.
    /// </summary>
    public static readonly Tolerance IllConditionedLogDet = new(0.05, 5e-5);

    /// <summary>LARS/SGD step: elementwise arithmetic plus two norms of the whole tensor, so a reduction's rounding.</summary>
    public static readonly Tolerance Lars = new(1e-6, 1e-4);
}

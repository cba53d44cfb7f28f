namespace EmpSsl.Autodiff.Tests;

/// <summary>Named tolerances: |actual - expected| &lt;= Atol + Rtol * |expected|.</summary>
internal readonly record struct Tol(double Atol, double Rtol)
{
    /// <summary>A float32 forward against float64: a few ulps per term over short sums.</summary>
    public static readonly Tol Forward = new(1e-5, 1e-4);

    /// <summary>
    /// A float32 backward against float64 central differences of a few ops: float32 rounding in the kernels
    /// (about 1e-6 relative per term) summed over up to a few hundred terms.
    /// </summary>
    public static readonly Tol Grad = new(2e-4, 2e-3);

    /// <summary>A float32 backward through a whole network (BatchNorm, Cholesky, the objective) against float64.</summary>
    public static readonly Tol NetworkGrad = new(2e-3, 2e-2);

    /// <summary>The objective's value in float32 against float64, logdet of matrices up to 32 x 32.</summary>
    public static readonly Tol Objective = new(1e-3, 1e-4);
}

using System.Globalization;

namespace EmpSsl.Testing;

/// <summary>The one comparer every test uses: fp32 results against the float64 spec.</summary>
public static class Compare
{
    /// <summary>
    /// Fails naming the op, how many elements miss the band, and the worst one (index, expected, actual).
    /// NaN in actual always fails, so an unwritten NaN-poisoned output cannot pass.
    /// </summary>
    public static void AssertClose(string op, ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, Tolerance tol)
    {
        if (expected.Length != actual.Length)
        {
            throw new Xunit.Sdk.XunitException($"{op}: expected {expected.Length} values but got {actual.Length}");
        }
        int misses = 0;
        int worst = -1;
        double worstExcess = double.NegativeInfinity;
        for (int i = 0; i < expected.Length; i++)
        {
            if (tol.Accepts(expected[i], actual[i]))
            {
                continue;
            }
            misses++;
            double excess = double.IsNaN(actual[i]) || double.IsInfinity(actual[i])
                ? double.PositiveInfinity
                : Math.Abs(actual[i] - expected[i]) - (tol.Atol + tol.Rtol * Math.Abs(expected[i]));
            if (worst < 0 || excess > worstExcess)
            {
                worst = i;
                worstExcess = excess;
            }
        }
        if (misses > 0)
        {
            throw new Xunit.Sdk.XunitException(string.Create(CultureInfo.InvariantCulture,
                $"{op}: {misses} of {expected.Length} values miss {tol}; worst at index {worst}: " +
                $"expected {expected[worst]:G9}, actual {actual[worst]:G9} (|diff| {Math.Abs(actual[worst] - expected[worst]):G3})"));
        }
    }

    /// <summary>A single value, e.g. a log determinant.</summary>
    public static void AssertClose(string op, double expected, double actual, Tolerance tol)
    {
        if (!tol.Accepts(expected, actual))
        {
            throw new Xunit.Sdk.XunitException(string.Create(CultureInfo.InvariantCulture,
                $"{op}: expected {expected:G9}, actual {actual:G9} (|diff| {Math.Abs(actual - expected):G3}) misses {tol}"));
        }
    }
}

namespace EmpSsl.Autodiff.Tests;

internal static class Assertions
{
    /// <summary>One comparer for every numeric check; it names the first failing index and the tolerance.</summary>
    public static void Close(IReadOnlyList<double> expected, IReadOnlyList<double> actual, Tol tol, string what, double scale = 0)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            double limit = tol.Atol * Math.Max(1, scale) + tol.Rtol * Math.Abs(expected[i]);
            double diff = Math.Abs(actual[i] - expected[i]);
            if (!(diff <= limit))
            {
                Assert.Fail($"{what}[{i}]: expected {expected[i]:G9}, got {actual[i]:G9} (|diff| {diff:G3} > {limit:G3}; atol {tol.Atol}, rtol {tol.Rtol})");
            }
        }
    }

    public static void Close(IReadOnlyList<double> expected, IReadOnlyList<float> actual, Tol tol, string what, double scale = 0)
        => Close(expected, actual.Select(v => (double)v).ToArray(), tol, what, scale);
}

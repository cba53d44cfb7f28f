namespace EmpSsl.Train.Tests;

/// <summary>Float32 results against float64 formulas: |got - want| &lt;= Atol + Rtol |want|.</summary>
internal static class Close
{
    /// <summary>A few float32 roundings of values in [0, 1] (or [-1, 1] after normalizing).</summary>
    public const double Atol = 2e-6;
    public const double Rtol = 2e-6;

    /// <summary>Hue goes through divisions and a floor; a few more roundings.</summary>
    public const double HueAtol = 1e-5;

    public static void Assert(double[] want, ReadOnlySpan<float> got, double atol = Atol, double rtol = Rtol)
    {
        Xunit.Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
        {
            double bound = atol + rtol * Math.Abs(want[i]);
            if (!(Math.Abs(got[i] - want[i]) <= bound))
            {
                Xunit.Assert.Fail($"element {i}: got {got[i]}, want {want[i]} (bound {bound})");
            }
        }
    }
}

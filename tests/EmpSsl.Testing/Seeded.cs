namespace EmpSsl.Testing;

/// <summary>
/// Random test data from fixed seeds. Values are drawn as float32, so the float64 spec, which gets them widened,
/// sees exactly what the kernel sees.
/// </summary>
public static class Seeded
{
    public static float[] Uniform(int seed, int length, float low = -1f, float high = 1f)
    {
        var rng = new Random(seed);
        var data = new float[length];
        for (int i = 0; i < length; i++)
        {
            data[i] = (float)(low + (high - low) * rng.NextDouble());
        }
        return data;
    }

    /// <summary>Standard normal by Box-Muller, as float32.</summary>
    public static float[] Normal(int seed, int length, float std = 1f)
    {
        var rng = new Random(seed);
        var data = new float[length];
        for (int i = 0; i < length; i++)
        {
            double u = 1 - rng.NextDouble();
            double v = rng.NextDouble();
            data[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v));
        }
        return data;
    }

    /// <summary>A random permutation of 0..length-1 scaled to distinct values, for max-pool tests that need no ties.</summary>
    public static float[] Distinct(int seed, int length)
    {
        var rng = new Random(seed);
        var data = new float[length];
        for (int i = 0; i < length; i++)
        {
            data[i] = i;
        }
        rng.Shuffle(data);
        return data;
    }

    public static double[] Widen(ReadOnlySpan<float> x)
    {
        var d = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            d[i] = x[i];
        }
        return d;
    }

    /// <summary>Rounds float64 values to float32, for spec outputs that a kernel must then read as inputs.</summary>
    public static float[] Narrow(ReadOnlySpan<double> x)
    {
        var f = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            f[i] = (float)x[i];
        }
        return f;
    }
}

namespace EmpSsl.Bench;

/// <summary>Benchmark inputs: uniform in [-1, 1). Timings do not depend on the values, only on their being finite.</summary>
internal static class RandomData
{
    public static float[] Uniform(Random rng, int length)
    {
        var v = new float[length];
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = (float)(rng.NextDouble() * 2 - 1);
        }
        return v;
    }
}

namespace EmpSsl.Train.Data;

/// <summary>
/// xoshiro256** 1.0 (Blackman and Vigna, https://prng.di.unimi.it/xoshiro256starstar.c), seeded through SplitMix64.
/// We write our own because System.Random's sequence is not promised to stay the same across .NET versions, and
/// augmentation must be reproducible from (seed, epoch, step) alone; a GPU port can run the same arithmetic.
/// </summary>
public struct Xoshiro256
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    /// <summary>
    /// An independent stream per key: z = seed, then for each further key part k: z = SplitMix64(z) ^ k; the four
    /// state words are the next four SplitMix64 outputs from z. Keying each crop separately lets crops be drawn in
    /// any order or in parallel and still get the same values.
    /// </summary>
    public static Xoshiro256 ForKey(ulong seed, ulong a, ulong b, ulong c)
    {
        ulong z = seed;
        z = SplitMix64(ref z) ^ a;
        z = SplitMix64(ref z) ^ b;
        z = SplitMix64(ref z) ^ c;
        var rng = new Xoshiro256
        {
            _s0 = SplitMix64(ref z),
            _s1 = SplitMix64(ref z),
            _s2 = SplitMix64(ref z),
            _s3 = SplitMix64(ref z),
        };
        return rng;
    }

    /// <summary>SplitMix64 (Steele, Lea and Flood): advances state by the golden gamma and returns its mix.</summary>
    public static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) from the top 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [low, high).</summary>
    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>True with probability p.</summary>
    public bool Bernoulli(double p) => NextDouble() < p;

    /// <summary>
    /// Uniform integer in [0, n): the high word of a 64x64-bit product (Lemire), whose bias of at most n/2^64 is
    /// far below anything a crop position can show.
    /// </summary>
    public int NextInt(int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        return (int)Math.BigMul(NextUInt64(), (ulong)n, out _);
    }
}

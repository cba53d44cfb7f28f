using EmpSsl.Train.Data;

namespace EmpSsl.Train.Tests;

public sealed class Xoshiro256Tests
{
    /// <summary>
    /// From Vigna's reference splitmix64.c and xoshiro256starstar.c compiled with gcc: x = 7; then three times
    /// x = next() ^ key part (1, 2, 3); s[0..3] = four splitmix64 outputs; then four xoshiro256** outputs.
    /// </summary>
    [Fact]
    public void MatchesTheReferenceImplementation()
    {
        var rng = Xoshiro256.ForKey(7, 1, 2, 3);

        Assert.Equal(0x946D8DE9EA692808UL, rng.NextUInt64());
        Assert.Equal(0xC4CD8332A0A25E99UL, rng.NextUInt64());
        Assert.Equal(0x432861A4B1837D82UL, rng.NextUInt64());
        Assert.Equal(0x5ACE9E03F8585EEAUL, rng.NextUInt64());
    }

    [Fact]
    public void NextIntCoversItsRangeEvenly()
    {
        var rng = Xoshiro256.ForKey(1, 0, 0, 0);
        var counts = new int[7];
        const int Draws = 70000;
        for (int i = 0; i < Draws; i++)
        {
            counts[rng.NextInt(7)]++;
        }

        // Each bin expects 10000 with a standard deviation near 93; 500 is over 5 of them.
        Assert.All(counts, c => Assert.InRange(c, 9500, 10500));
    }

    [Fact]
    public void UniformStaysInItsInterval()
    {
        var rng = Xoshiro256.ForKey(2, 0, 0, 0);
        double low = double.MaxValue;
        double high = double.MinValue;
        for (int i = 0; i < 10000; i++)
        {
            double x = rng.Uniform(-0.2, 0.2);
            low = Math.Min(low, x);
            high = Math.Max(high, x);
        }

        Assert.InRange(low, -0.2, -0.199);
        Assert.InRange(high, 0.199, 0.2);
        Assert.True(high < 0.2);
    }
}

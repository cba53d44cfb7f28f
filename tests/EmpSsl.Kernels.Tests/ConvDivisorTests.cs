using EmpSsl.Kernels.Ilgpu;

namespace EmpSsl.Kernels.Tests;

/// <summary>
/// The multiply-shift division the ILGPU gathers and BatchNorm kernels split indices with must equal integer division
/// for every divisor they meet and every non-negative int, including the edges of each quotient.
/// </summary>
public sealed class ConvDivisorTests
{
    public static TheoryData<int> Divisors => new() { 1, 2, 3, 4, 7, 9, 16, 25, 49, 64, 255, 1000, 1024, 4096, 65535, 1 << 20, 1_000_003, int.MaxValue };

    [Theory]
    [MemberData(nameof(Divisors))]
    public void DividesLikeIntegerDivision(int d)
    {
        var divisor = new ConvDivisor(d);
        var rng = new Random(d);
        var numbers = new List<int> { 0, 1, d - 1, d, int.MaxValue, int.MaxValue - 1, int.MaxValue / d * d, int.MaxValue / d * d - 1 };
        for (int q = 1; q < 5000; q++)
        {
            long at = (long)q * d;
            if (at <= int.MaxValue)
            {
                numbers.Add((int)at);
                numbers.Add((int)at - 1);
            }
        }
        for (int i = 0; i < 20000; i++)
        {
            numbers.Add(rng.Next());
        }
        foreach (int n in numbers)
        {
            Assert.True(n / d == divisor.Divide(n), $"{n} / {d}: {divisor.Divide(n)}, not {n / d}");
        }
    }

    [Fact]
    public void RefusesZero() => Assert.Throws<ArgumentOutOfRangeException>(() => new ConvDivisor(0));
}

using EmpSsl.Kernels;
using EmpSsl.Kernels.Reference;

namespace EmpSsl.Bench.Tests;

/// <summary>Quick mode trusts these single-entry checks; they must agree with the float64 spec everywhere.</summary>
public class SampledTests
{
    private static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    private static double[] Wide(float[] x) => Array.ConvertAll(x, v => (double)v);

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void GemmEntryMatchesTheSpec(bool ta, bool tb)
    {
        var s = new GemmShape(5, 7, 3, ta, tb, Alpha: 1.5f);
        var a = Random(15, 1);
        var b = Random(21, 2);
        var c = new double[35];
        Ref.Gemm(c, Wide(a), Wide(b), s);
        for (int i = 0; i < 5; i++)
        {
            for (int j = 0; j < 7; j++)
            {
                Assert.Equal(c[i * 7 + j], Sampled.GemmEntry(a, b, s, i, j), 10);
            }
        }
    }

    [Theory]
    [InlineData(3, 1, 1)]
    [InlineData(3, 2, 1)]
    [InlineData(1, 2, 0)]
    [InlineData(7, 2, 3)]
    public void ConvEntriesMatchTheSpec(int r, int stride, int pad)
    {
        var s = new Conv2dShape(2, 3, 9, 7, 4, r, stride, pad);
        var x = Random(s.InputLength, 3);
        var w = Random(s.WeightLength, 4);
        var dy = Random(s.OutputLength, 5);
        var y = new double[s.OutputLength];
        var dx = new double[s.InputLength];
        var dw = new double[s.WeightLength];
        Ref.Conv2dForward(y, Wide(x), Wide(w), s);
        Ref.Conv2dBackwardData(dx, Wide(dy), Wide(w), s);
        Ref.Conv2dBackwardWeight(dw, Wide(dy), Wide(x), s);
        for (int i = 0; i < y.Length; i++)
        {
            int ow = i % s.OutW, oh = i / s.OutW % s.OutH, k = i / (s.OutW * s.OutH) % s.K, n = i / (s.OutW * s.OutH * s.K);
            Assert.Equal(y[i], Sampled.ConvForwardEntry(x, w, s, n, k, oh, ow), 10);
        }
        for (int i = 0; i < dx.Length; i++)
        {
            int wi = i % s.W, h = i / s.W % s.H, c = i / (s.W * s.H) % s.C, n = i / (s.W * s.H * s.C);
            Assert.Equal(dx[i], Sampled.ConvBackwardDataEntry(dy, w, s, n, c, h, wi), 10);
        }
        for (int i = 0; i < dw.Length; i++)
        {
            int q = i % s.R, rr = i / s.R % s.R, c = i / (s.R * s.R) % s.C, k = i / (s.R * s.R * s.C);
            Assert.Equal(dw[i], Sampled.ConvBackwardWeightEntry(dy, x, s, k, c, rr, q), 10);
        }
    }

    [Fact]
    public void ErrorIsRelativeToTheLargestReferenceAndNaNIsInfinite()
    {
        var e = new Sampled.Error();
        e.Add(10, 10.5);
        e.Add(-2, -2);
        Assert.Equal(0.05, e.Relative, 12);
        e.Add(1, double.NaN);
        Assert.True(double.IsPositiveInfinity(e.Relative));
    }
}

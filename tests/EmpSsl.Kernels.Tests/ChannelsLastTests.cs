using EmpSsl.Kernels.Cpu;

namespace EmpSsl.Kernels.Tests;

/// <summary>
/// The layout moves under the direct convolution, element by element: channel counts on and off the 8-wide
/// transpose, pixel counts with and without a tail of fewer than 8, zero and wider borders.
/// </summary>
public sealed unsafe class ChannelsLastTests
{
    [Theory]
    [InlineData(2, 16, 7, 5, 1)]
    [InlineData(1, 3, 4, 4, 0)]
    [InlineData(3, 8, 2, 2, 2)]
    [InlineData(2, 24, 8, 8, 1)]
    public void FromNchwPlacesEveryPixelAndZeroesTheBorder(int n, int c, int h, int w, int pad)
    {
        int hp = h + 2 * pad;
        int wp = w + 2 * pad;
        var rng = new Random(n * 1000 + c * 10 + h);
        float[] x = CpuCompare.Random(rng, n * c * h * w);
        float[] got = new float[n * hp * wp * c];
        Array.Fill(got, float.NaN);
        fixed (float* pg = got, px = x)
        {
            ChannelsLast.FromNchw(pg, px, n, c, h, w, pad);
        }
        for (int i = 0; i < n; i++)
        {
            for (int y = 0; y < hp; y++)
            {
                for (int z = 0; z < wp; z++)
                {
                    for (int ch = 0; ch < c; ch++)
                    {
                        int iy = y - pad;
                        int iz = z - pad;
                        bool inside = iy >= 0 && iy < h && iz >= 0 && iz < w;
                        float want = inside ? x[((i * c + ch) * h + iy) * w + iz] : 0f;
                        Assert.Equal(want, got[((i * hp + y) * wp + z) * c + ch]);
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(2, 16, 35)]
    [InlineData(1, 3, 16)]
    [InlineData(3, 32, 4)]
    public void ToNchwTransposesEachImage(int n, int c, int p)
    {
        var rng = new Random(n + c + p);
        float[] src = CpuCompare.Random(rng, n * p * c);
        float[] got = new float[n * c * p];
        Array.Fill(got, float.NaN);
        fixed (float* pg = got, ps = src)
        {
            ChannelsLast.ToNchw(pg, ps, n, c, p);
        }
        for (int i = 0; i < n; i++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                for (int q = 0; q < p; q++)
                {
                    Assert.Equal(src[(i * p + q) * c + ch], got[(i * c + ch) * p + q]);
                }
            }
        }
    }
}

using EmpSsl.Train.Data;

namespace EmpSsl.Train.Tests;

/// <summary>Each pixel transform against a plain float64 formula (torchvision's definitions), on tiny images.</summary>
public sealed class ColorOpsTests
{
    private const double R = 0.299;
    private const double G = 0.587;
    private const double B = 0.114;

    [Theory]
    [InlineData(1, 0.7f)]
    [InlineData(4, 1.3f)]
    [InlineData(5, 1.4f)]
    [InlineData(7, 0.6f)]
    public void BrightnessScalesAndClamps(int side, float factor)
    {
        float[] image = RandomImage(3, side, seed: 1);
        double[] want = image.Select(x => Math.Clamp(factor * (double)x, 0, 1)).ToArray();

        ColorOps.Brightness(image, factor);

        Close.Assert(want, image);
    }

    [Theory]
    [InlineData(3, 4, 0.6f)]
    [InlineData(3, 5, 1.4f)]
    [InlineData(1, 5, 1.3f)]
    [InlineData(1, 7, 0.7f)]
    public void ContrastBlendsWithTheGrayMean(int channels, int side, float factor)
    {
        float[] image = RandomImage(channels, side, seed: 2);
        int plane = side * side;
        double mean = channels == 3
            ? Enumerable.Range(0, plane).Average(p => R * image[p] + G * image[plane + p] + B * image[2 * plane + p])
            : image.Average(x => (double)x);
        double[] want = image.Select(x => Math.Clamp(factor * x + (1 - factor) * mean, 0, 1)).ToArray();

        ColorOps.Contrast(image, channels, factor);

        Close.Assert(want, image);
    }

    [Theory]
    [InlineData(4, 0.6f)]
    [InlineData(5, 1.4f)]
    [InlineData(7, 0f)]
    public void SaturationBlendsWithGray(int side, float factor)
    {
        float[] image = RandomImage(3, side, seed: 3);
        int plane = side * side;
        double[] want = new double[image.Length];
        for (int p = 0; p < plane; p++)
        {
            double gray = R * image[p] + G * image[plane + p] + B * image[2 * plane + p];
            for (int c = 0; c < 3; c++)
            {
                want[c * plane + p] = Math.Clamp(factor * image[c * plane + p] + (1 - factor) * gray, 0, 1);
            }
        }

        ColorOps.Saturation(image, factor, new float[plane]);

        Close.Assert(want, image);
    }

    [Theory]
    [InlineData(5, 0.2f)]
    [InlineData(5, -0.2f)]
    [InlineData(4, 0.07f)]
    [InlineData(4, 0f)]
    [InlineData(7, 0.19f)]
    [InlineData(11, -0.13f)]
    public void HueShiftsInHsvSpace(int side, float shift)
    {
        float[] image = RandomImage(3, side, seed: 4);
        int plane = side * side;
        // Gray pixels have no hue: the shift must leave them alone.
        image[0] = image[plane] = image[2 * plane] = 0.4f;
        double[] want = new double[image.Length];
        for (int p = 0; p < plane; p++)
        {
            var (h, s, v) = RgbToHsv(image[p], image[plane + p], image[2 * plane + p]);
            h = (h + shift) - Math.Floor(h + shift);
            (want[p], want[plane + p], want[2 * plane + p]) = HsvToRgb(h, s, v);
        }

        ColorOps.Hue(image, shift);

        Close.Assert(want, image, atol: Close.HueAtol);
    }

    [Fact]
    public void AThirdOfATurnTakesRedToGreenAndGreenToBlue()
    {
        float[] image = [1, 0, 0, 1, 0, 0];

        ColorOps.Hue(image, 1f / 3);

        Close.Assert([0, 0, 1, 0, 0, 1], image, atol: Close.HueAtol);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    public void GrayscaleReplicatesTheLuma(int side)
    {
        float[] image = RandomImage(3, side, seed: 5);
        int plane = side * side;
        double[] luma = Enumerable.Range(0, plane)
            .Select(p => R * image[p] + G * image[plane + p] + B * image[2 * plane + p]).ToArray();

        ColorOps.Grayscale(image);

        Close.Assert([.. luma, .. luma, .. luma], image);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    public void SolarizeInvertsFromOneHalfUp(int side)
    {
        float[] image = RandomImage(3, side, seed: 6);
        image[0] = 0.5f;
        image[1] = 0.4999f;
        double[] want = image.Select(x => x >= 0.5 ? 1 - (double)x : x).ToArray();

        ColorOps.Solarize(image);

        Close.Assert(want, image);
        Assert.Equal(0.5f, image[0]);
        Assert.Equal(0.4999f, image[1]);
    }

    [Fact]
    public void BlurOfADeltaIsTheNormalizedGaussian()
    {
        const int Side = 9;
        const int K = 5;
        const float Sigma = 1.3f;
        float[] image = new float[Side * Side];
        image[4 * Side + 4] = 1;
        double[] g = Enumerable.Range(-2, K).Select(t => Math.Exp(-t * t / (2.0 * Sigma * Sigma))).ToArray();
        double total = g.Sum();
        double[] want = new double[Side * Side];
        for (int dy = -2; dy <= 2; dy++)
        {
            for (int dx = -2; dx <= 2; dx++)
            {
                want[(4 + dy) * Side + 4 + dx] = g[dy + 2] * g[dx + 2] / (total * total);
            }
        }

        ColorOps.GaussianBlur(image, Side, Sigma, K, new float[Side * Side]);

        Close.Assert(want, image);
        Assert.Equal(1.0, image.Sum(x => (double)x), 5);
    }

    [Theory]
    [InlineData(5, 3, 0.6f)]
    [InlineData(6, 5, 2f)]
    [InlineData(3, 5, 1f)]
    [InlineData(17, 5, 1.7f)]
    public void BlurReflectsAtTheEdges(int side, int kernel, float sigma)
    {
        float[] image = RandomImage(3, side, seed: 7);
        int half = kernel / 2;
        double[] g = Enumerable.Range(-half, kernel).Select(t => Math.Exp(-t * t / (2.0 * sigma * sigma))).ToArray();
        double total = g.Sum();
        int Reflect(int i) => i < 0 ? -i : i >= side ? 2 * (side - 1) - i : i;
        double[] want = new double[image.Length];
        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < side; y++)
            {
                for (int x = 0; x < side; x++)
                {
                    double acc = 0;
                    for (int ty = -half; ty <= half; ty++)
                    {
                        for (int tx = -half; tx <= half; tx++)
                        {
                            acc += g[ty + half] * g[tx + half] * image[(c * side + Reflect(y + ty)) * side + Reflect(x + tx)];
                        }
                    }
                    want[(c * side + y) * side + x] = acc / (total * total);
                }
            }
        }

        ColorOps.GaussianBlur(image, side, sigma, kernel, new float[side * side]);

        Close.Assert(want, image);
    }

    [Fact]
    public void BlurRefusesAKernelWiderThanReflectAllows()
    {
        Assert.Throws<ArgumentException>(() => ColorOps.GaussianBlur(new float[4], 2, 1f, 5, new float[4]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void NormalizeMapsTheUnitIntervalToPlusMinusOne(int side)
    {
        float[] image = RandomImage(3, side, seed: 8);
        double[] want = image.Select(x => (x - 0.5) / 0.5).ToArray();
        float[] output = new float[image.Length];

        ColorOps.Normalize(image, output, 0.5f, 0.5f);

        Close.Assert(want, output);
    }

    internal static float[] RandomImage(int channels, int side, ulong seed)
    {
        var rng = Xoshiro256.ForKey(seed, 99, 0, 0);
        return Enumerable.Range(0, channels * side * side).Select(_ => (float)rng.NextDouble()).ToArray();
    }

    /// <summary>Python's colorsys.rgb_to_hsv.</summary>
    private static (double H, double S, double V) RgbToHsv(double r, double g, double b)
    {
        double maxc = Math.Max(r, Math.Max(g, b));
        double minc = Math.Min(r, Math.Min(g, b));
        if (maxc == minc)
        {
            return (0, 0, maxc);
        }
        double s = (maxc - minc) / maxc;
        double rc = (maxc - r) / (maxc - minc);
        double gc = (maxc - g) / (maxc - minc);
        double bc = (maxc - b) / (maxc - minc);
        double h = r == maxc ? bc - gc : g == maxc ? 2 + rc - bc : 4 + gc - rc;
        h /= 6;
        return (h - Math.Floor(h), s, maxc);
    }

    /// <summary>Python's colorsys.hsv_to_rgb.</summary>
    private static (double R, double G, double B) HsvToRgb(double h, double s, double v)
    {
        if (s == 0)
        {
            return (v, v, v);
        }
        int i = (int)(h * 6);
        double f = h * 6 - i;
        double p = v * (1 - s);
        double q = v * (1 - s * f);
        double t = v * (1 - s * (1 - f));
        return (i % 6) switch
        {
            0 => (v, t, p),
            1 => (q, v, p),
            2 => (p, v, t),
            3 => (p, q, v),
            4 => (t, p, v),
            _ => (v, p, q),
        };
    }
}

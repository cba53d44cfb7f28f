using EmpSsl.Train.Data;

namespace EmpSsl.Train.Tests;

public sealed class CropSamplerTests
{
    private static readonly AugmentSpec Spec = new() { OutputSize = 32, Scale = 0.25 };

    [Fact]
    public void TheSameKeyGivesTheSameParameters()
    {
        CropParams[] a = CropSampler.Sample(Spec, seed: 42, epoch: 3, step: 17, batch: 8, crops: 4, 3, 32, 32);
        CropParams[] b = CropSampler.Sample(Spec, seed: 42, epoch: 3, step: 17, batch: 8, crops: 4, 3, 32, 32);

        Assert.Equal(a, b);
    }

    [Theory]
    [InlineData(43, 3, 17)]
    [InlineData(42, 4, 17)]
    [InlineData(42, 3, 18)]
    public void AnotherKeyGivesOtherParameters(ulong seed, long epoch, long step)
    {
        CropParams[] a = CropSampler.Sample(Spec, seed: 42, epoch: 3, step: 17, batch: 8, crops: 4, 3, 32, 32);
        CropParams[] b = CropSampler.Sample(Spec, seed, epoch, step, batch: 8, crops: 4, 3, 32, 32);

        Assert.NotEqual(a, b);
        // Not merely one field: most crops differ in position.
        Assert.True(a.Zip(b).Count(p => p.First.Top != p.Second.Top || p.First.Left != p.Second.Left) > a.Length / 2);
    }

    [Fact]
    public void RowsArePatchMajor()
    {
        CropParams[] p = CropSampler.Sample(Spec, 1, 0, 0, batch: 5, crops: 3, 3, 32, 32);

        Assert.Equal(15, p.Length);
        for (int row = 0; row < p.Length; row++)
        {
            Assert.Equal(row % 5, p[row].Image);
        }
    }

    [Theory]
    [InlineData(0.25, 32, 32, 16)]
    [InlineData(0.25, 28, 28, 14)]
    [InlineData(0.1, 32, 32, 10)] // sqrt(102.4) = 10.12
    [InlineData(1.0, 9, 9, 9)]
    public void BoxesAreSquaresOfTheScaledAreaInsideTheImage(double scale, int height, int width, int side)
    {
        CropParams[] p = CropSampler.Sample(Spec with { Scale = scale }, 5, 0, 0, batch: 50, crops: 40, 3, height, width);

        Assert.All(p, c =>
        {
            Assert.Equal((side, side), (c.Height, c.Width));
            Assert.InRange(c.Top, 0, height - side);
            Assert.InRange(c.Left, 0, width - side);
        });
        // Every position is reachable: the extremes turn up in 2000 draws.
        Assert.Equal(0, p.Min(c => c.Top));
        Assert.Equal(height - side, p.Max(c => c.Top));
        Assert.Equal(0, p.Min(c => c.Left));
        Assert.Equal(width - side, p.Max(c => c.Left));
    }

    [Fact]
    public void ABoxTooWideForANarrowImageFallsBackToTheCentredSquare()
    {
        // sqrt(0.9 * 10 * 40) = 19 > 10: torchvision falls back to the largest centred square for ratio 1.
        CropParams[] p = CropSampler.Sample(Spec with { Scale = 0.9 }, 5, 0, 0, batch: 4, crops: 1, 3, 10, 40);

        Assert.All(p, c => Assert.Equal((0, 15, 10, 10), (c.Top, c.Left, c.Height, c.Width)));
    }

    [Fact]
    public void ProbabilitiesAndRangesFollowTheSpec()
    {
        const int Crops = 20000;
        CropParams[] p = CropSampler.Sample(Spec, 9, 1, 2, batch: 100, crops: Crops / 100, 3, 32, 32);

        // 5 standard deviations of a Bernoulli mean over 20000 draws is at most 0.018.
        const double Slack = 0.018;
        Assert.InRange(p.Average(c => c.Flip ? 1.0 : 0.0), 0.5 - Slack, 0.5 + Slack);
        Assert.InRange(p.Average(c => c.Jitter ? 1.0 : 0.0), 0.8 - Slack, 0.8 + Slack);
        Assert.InRange(p.Average(c => c.Gray ? 1.0 : 0.0), 0.2 - Slack, 0.2 + Slack);
        Assert.InRange(p.Average(c => c.BlurSigma > 0 ? 1.0 : 0.0), 0.1 - Slack, 0.1 + Slack);
        Assert.InRange(p.Average(c => c.Solarize ? 1.0 : 0.0), 0.1 - Slack, 0.1 + Slack);
        Assert.All(p, c =>
        {
            Assert.InRange(c.Brightness, 0.6f, 1.4f);
            Assert.InRange(c.Contrast, 0.6f, 1.4f);
            Assert.InRange(c.Saturation, 0.6f, 1.4f);
            Assert.InRange(c.Hue, -0.2f, 0.2f);
            Assert.True(c.BlurSigma == 0 || c.BlurSigma is >= 0.1f and <= 2f);
            Assert.Equal([0, 1, 2, 3], Enumerable.Range(0, 4).Select(k => (int)c.JitterStep(k)).Order());
        });
        // All 24 orders occur.
        Assert.Equal(24, p.Select(c => c.JitterOrder).Distinct().Count());
    }

    [Fact]
    public void GrayscaleImagesDrawTheSameStreamWithoutColourSteps()
    {
        CropParams[] rgb = CropSampler.Sample(Spec, 3, 0, 0, batch: 20, crops: 10, 3, 32, 32);
        CropParams[] gray = CropSampler.Sample(Spec, 3, 0, 0, batch: 20, crops: 10, 1, 32, 32);

        Assert.Contains(rgb, c => c.Gray);
        for (int i = 0; i < rgb.Length; i++)
        {
            Assert.False(gray[i].Gray);
            Assert.Equal(1f, gray[i].Saturation);
            Assert.Equal(0f, gray[i].Hue);
            var expected = rgb[i] with { Gray = false, Saturation = 1f, Hue = 0f };
            Assert.Equal(expected, gray[i]);
        }
    }
}

using EmpSsl.Train.Data;

namespace EmpSsl.Train.Tests;

public sealed class CropRendererTests
{
    /// <summary>No random transform at all: only the crop, the resize and the normalization remain.</summary>
    private static AugmentSpec Plain(int size, double scale) => new()
    {
        OutputSize = size,
        Scale = scale,
        FlipP = 0,
        JitterP = 0,
        GrayP = 0,
        BlurP = 0,
        SolarizeP = 0,
    };

    [Fact]
    public void AFullCropAtTheInputSizeIsTheIdentity()
    {
        Dataset data = RandomDataset(count: 3, channels: 3, side: 6, seed: 1);
        AugmentSpec spec = Plain(6, 1.0);
        int[] batch = [2, 0];
        CropParams[] crops = CropSampler.Sample(spec, 1, 0, 0, batch.Length, 2, 3, 6, 6);

        float[] output = Render(data, batch, crops, spec);

        int size = data.ImageSize;
        for (int r = 0; r < crops.Length; r++)
        {
            double[] want = data.Image(batch[r % 2]).ToArray().Select(x => (x / 255.0 - 0.5) / 0.5).ToArray();
            Close.Assert(want, output.AsSpan(r * size, size));
        }
    }

    [Theory]
    [InlineData(8, 1, 2, 5, 8)] // upsample a 5x5 box to 8x8
    [InlineData(8, 0, 1, 7, 3)] // downsample a 7x7 box to 3x3
    [InlineData(7, 3, 3, 4, 4)] // same size, offset box
    public void ResizeIsBilinearWithHalfPixelCentres(int side, int top, int left, int box, int output)
    {
        Dataset data = RandomDataset(count: 1, channels: 3, side, seed: 2);
        var crop = new CropParams { Top = top, Left = left, Height = box, Width = box };

        float[] got = Render(data, [0], [crop], Plain(output, 1.0));

        Close.Assert(Normalized(ReferenceCrop(data, 0, crop, output)), got);
    }

    [Fact]
    public void FlipMirrorsTheColumns()
    {
        Dataset data = RandomDataset(count: 1, channels: 3, side: 5, seed: 3);
        var crop = new CropParams { Top = 0, Left = 0, Height = 5, Width = 5, Flip = true };

        float[] got = Render(data, [0], [crop], Plain(5, 1.0));

        double[] want = new double[got.Length];
        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < 5; y++)
            {
                for (int x = 0; x < 5; x++)
                {
                    want[(c * 5 + y) * 5 + x] = (data.Image(0)[(c * 5 + y) * 5 + 4 - x] / 255.0 - 0.5) / 0.5;
                }
            }
        }
        Close.Assert(want, got);
    }

    [Fact]
    public void RowsArePatchMajor()
    {
        const int Crops = 3;
        Dataset data = RandomDataset(count: 6, channels: 3, side: 12, seed: 4);
        AugmentSpec spec = Plain(5, 0.3);
        int[] batch = [5, 1, 3, 0];
        CropParams[] crops = CropSampler.Sample(spec, 7, 0, 0, batch.Length, Crops, 3, 12, 12);

        float[] output = Render(data, batch, crops, spec);

        int size = 3 * 5 * 5;
        Assert.Equal(Crops * batch.Length * size, output.Length);
        for (int i = 0; i < Crops; i++)
        {
            for (int j = 0; j < batch.Length; j++)
            {
                int row = i * batch.Length + j;
                Assert.Equal(j, crops[row].Image);
                double[] want = Normalized(ReferenceCrop(data, batch[j], crops[row], 5));
                Close.Assert(want, output.AsSpan(row * size, size));
            }
        }
    }

    [Fact]
    public void TheSameSeedGivesTheSameBytes()
    {
        Dataset data = RandomDataset(count: 8, channels: 3, side: 16, seed: 5);
        var spec = new AugmentSpec { OutputSize = 32 };
        int[] batch = [0, 1, 2, 3, 4, 5, 6, 7];

        float[] a = Render(data, batch, CropSampler.Sample(spec, 11, 2, 3, 8, 4, 3, 16, 16), spec);
        float[] b = Render(data, batch, CropSampler.Sample(spec, 11, 2, 3, 8, 4, 3, 16, 16), spec);
        float[] c = Render(data, batch, CropSampler.Sample(spec, 12, 2, 3, 8, 4, 3, 16, 16), spec);

        Assert.Equal(Bytes(a), Bytes(b));
        Assert.NotEqual(Bytes(a), Bytes(c));
        Assert.All(a, x => Assert.InRange(x, -1f, 1f));
    }

    [Fact]
    public void GrayscaleImagesSkipTheColourSteps()
    {
        const int Side = 5;
        Dataset data = RandomDataset(count: 1, channels: 1, side: Side, seed: 6);
        // Contrast, saturation, hue, brightness; saturation 0 and the gray flag would change an RGB image.
        var crop = new CropParams
        {
            Top = 0,
            Left = 0,
            Height = Side,
            Width = Side,
            Jitter = true,
            JitterOrder = 1 | 2 << 2 | 3 << 4 | 0 << 6,
            Brightness = 1.3f,
            Contrast = 0.7f,
            Saturation = 0f,
            Hue = 0.2f,
            Gray = true,
            Solarize = true,
        };

        float[] got = Render(data, [0], [crop], Plain(Side, 1.0));

        double[] x = data.Pixels.Select(v => v / 255.0).ToArray();
        double mean = x.Average();
        double[] want = x
            .Select(v => Math.Clamp(0.7 * v + 0.3 * mean, 0, 1))
            .Select(v => Math.Clamp(1.3 * v, 0, 1))
            .Select(v => v >= 0.5 ? 1 - v : v)
            .ToArray();
        Close.Assert(Normalized(want), got, atol: 1e-5);
    }

    [Fact]
    public void TheDefaultPipelineRendersGrayscaleDatasets()
    {
        Dataset data = RandomDataset(count: 4, channels: 1, side: 28, seed: 7);
        var spec = new AugmentSpec { OutputSize = 14 };
        CropParams[] crops = CropSampler.Sample(spec, 1, 0, 0, 4, 8, 1, 28, 28);

        float[] output = Render(data, [0, 1, 2, 3], crops, spec);

        Assert.Equal(32 * 14 * 14, output.Length);
        Assert.All(output, v => Assert.InRange(v, -1f, 1f));
    }

    [Fact]
    public void RejectsABoxOutsideTheImage()
    {
        Dataset data = RandomDataset(count: 1, channels: 3, side: 4, seed: 8);
        var crop = new CropParams { Top = 1, Left = 0, Height = 4, Width = 4 };

        Assert.Throws<ArgumentException>(() => Render(data, [0], [crop], Plain(4, 1.0)));
    }

    private static float[] Render(Dataset data, int[] batch, CropParams[] crops, AugmentSpec spec)
    {
        var output = new float[crops.Length * data.Channels * spec.OutputSize * spec.OutputSize];
        Array.Fill(output, float.NaN);
        CropRenderer.RenderPatchMajorCpu(data, batch, crops, spec, output);
        return output;
    }

    private static Dataset RandomDataset(int count, int channels, int side, ulong seed)
    {
        var rng = Xoshiro256.ForKey(seed, 5, 5, 5);
        byte[] pixels = Enumerable.Range(0, count * channels * side * side).Select(_ => (byte)rng.NextInt(256)).ToArray();
        return new Dataset("random", pixels, new int[count], channels, side, side, 1);
    }

    /// <summary>PyTorch's bilinear resize (align_corners=False, no antialias) of the crop box, in [0, 1], in float64.</summary>
    private static double[] ReferenceCrop(Dataset data, int image, CropParams crop, int output)
    {
        byte[] source = data.Image(image).ToArray();
        var result = new double[data.Channels * output * output];
        (int I0, int I1, double W)[] ys = Axis(crop.Height, output);
        (int I0, int I1, double W)[] xs = Axis(crop.Width, output);
        for (int c = 0; c < data.Channels; c++)
        {
            for (int oy = 0; oy < output; oy++)
            {
                for (int ox = 0; ox < output; ox++)
                {
                    double Px(int y, int x) => source[(c * data.Height + crop.Top + y) * data.Width + crop.Left + x] / 255.0;
                    var (y0, y1, wy) = ys[oy];
                    var (x0, x1, wx) = xs[ox];
                    result[(c * output + oy) * output + ox] =
                        (1 - wy) * ((1 - wx) * Px(y0, x0) + wx * Px(y0, x1)) + wy * ((1 - wx) * Px(y1, x0) + wx * Px(y1, x1));
                }
            }
        }
        return result;
    }

    private static (int, int, double)[] Axis(int input, int output) =>
        Enumerable.Range(0, output).Select(o =>
        {
            double src = Math.Max((o + 0.5) * input / output - 0.5, 0);
            int i0 = (int)Math.Floor(src);
            return (i0, Math.Min(i0 + 1, input - 1), src - i0);
        }).ToArray();

    private static double[] Normalized(double[] unit) => unit.Select(x => (x - 0.5) / 0.5).ToArray();

    private static byte[] Bytes(float[] values) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}

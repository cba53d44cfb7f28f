using System.Numerics;

namespace EmpSsl.Train.Data;

/// <summary>
/// Renders sampled crops on the CPU: crop box, bilinear resize, flip, jitter (in the sampled order), grayscale,
/// blur, solarize, normalize. A GPU port renders the same CropParams array and must match this output.
/// </summary>
public static class CropRenderer
{
    /// <summary>
    /// Renders n*b crops patch-major: output row r = i*b + j (crop i of batch image j) holds crops[r] of the
    /// dataset image batchIndices[crops[r].Image].
    /// </summary>
    /// <param name="output">(n*b, C, S, S) with S = spec.OutputSize; every element is written. Memory rather than
    /// an array so a caller can render straight into a window of a larger buffer (a CPU backend's tensor).</param>
    public static void RenderPatchMajorCpu(Dataset dataset, int[] batchIndices, CropParams[] crops, AugmentSpec spec,
        Memory<float> output) =>
        RenderPatchMajorCpu(dataset.Pixels, dataset.Channels, dataset.Height, dataset.Width, batchIndices, crops, spec,
            output);

    /// <param name="pixels">(N, channels, height, width) bytes.</param>
    public static void RenderPatchMajorCpu(byte[] pixels, int channels, int height, int width, int[] batchIndices,
        CropParams[] crops, AugmentSpec spec, Memory<float> output)
    {
        if (channels != 1 && channels != 3)
        {
            throw new ArgumentException($"crops need 1 or 3 channels, got {channels}");
        }
        int side = spec.OutputSize;
        int crop = channels * side * side;
        if (output.Length != (long)crops.Length * crop)
        {
            throw new ArgumentException(
                $"output holds {output.Length} floats; {crops.Length} crops of {channels}x{side}x{side} need {(long)crops.Length * crop}");
        }
        long imageBytes = (long)channels * height * width;
        long images = pixels.LongLength / imageBytes;
        // Checked here, not inside the loop, so a bad crop throws ArgumentException rather than AggregateException.
        foreach (CropParams p in crops)
        {
            if ((uint)p.Image >= (uint)batchIndices.Length || (ulong)batchIndices[p.Image] >= (ulong)images)
            {
                throw new ArgumentException(
                    $"crop of batch image {p.Image} is outside the batch of {batchIndices.Length} or the dataset of {images}");
            }
            CheckBox(p, height, width);
        }
        Parallel.For(0, crops.Length, () => new Scratch(channels, side), (r, _, scratch) =>
        {
            CropParams p = crops[r];
            long start = batchIndices[p.Image] * imageBytes;
            var source = new ReadOnlySpan<byte>(pixels, checked((int)start), (int)imageBytes);
            RenderOne(source, channels, height, width, p, spec, scratch, output.Span.Slice(r * crop, crop));
            return scratch;
        }, _ => { });
    }

    /// <summary>Renders one crop of one source image (channels, height, width) into output (channels, S, S).</summary>
    public static void RenderOne(ReadOnlySpan<byte> source, int channels, int height, int width, in CropParams p,
        AugmentSpec spec, Scratch scratch, Span<float> output)
    {
        int side = spec.OutputSize;
        CheckBox(p, height, width);
        Span<float> image = scratch.Image;
        ResizeAxis(p.Height, side, flip: false, scratch.Y0, scratch.Y1, scratch.YWeight);
        ResizeAxis(p.Width, side, p.Flip, scratch.X0, scratch.X1, scratch.XWeight);
        Resample(source, channels, height, width, p, scratch, image);

        if (p.Jitter)
        {
            for (int k = 0; k < 4; k++)
            {
                switch (p.JitterStep(k))
                {
                    case JitterOp.Brightness:
                        ColorOps.Brightness(image, p.Brightness);
                        break;
                    case JitterOp.Contrast:
                        ColorOps.Contrast(image, channels, p.Contrast);
                        break;
                    case JitterOp.Saturation when channels == 3:
                        ColorOps.Saturation(image, p.Saturation, scratch.Plane);
                        break;
                    case JitterOp.Hue when channels == 3:
                        ColorOps.Hue(image, p.Hue);
                        break;
                }
            }
        }
        if (p.Gray && channels == 3)
        {
            ColorOps.Grayscale(image);
        }
        if (p.BlurSigma > 0)
        {
            ColorOps.GaussianBlur(image, side, p.BlurSigma, spec.BlurKernel, scratch.Plane);
        }
        if (p.Solarize)
        {
            ColorOps.Solarize(image);
        }
        ColorOps.Normalize(image, output, spec.Mean, spec.Std);
    }

    private static void CheckBox(in CropParams p, int height, int width)
    {
        if (p.Top < 0 || p.Left < 0 || p.Height < 1 || p.Width < 1 || p.Top + p.Height > height || p.Left + p.Width > width)
        {
            throw new ArgumentException(
                $"crop box {p.Height}x{p.Width} at ({p.Top}, {p.Left}) is outside the {height}x{width} image");
        }
    }

    /// <summary>
    /// Source indices and weights along one axis, as PyTorch's upsample_bilinear2d with align_corners=False:
    /// src = max((dst + 0.5) * in/out - 0.5, 0), i0 = floor(src), i1 = min(i0 + 1, in - 1), weight of i1 = src - i0.
    /// A flip mirrors the output positions.
    /// </summary>
    public static void ResizeAxis(int inSize, int outSize, bool flip, int[] i0, int[] i1, float[] weight1)
    {
        float scale = (float)inSize / outSize;
        for (int o = 0; o < outSize; o++)
        {
            float real = MathF.Max(scale * (o + 0.5f) - 0.5f, 0f);
            int index = (int)real;
            int at = flip ? outSize - 1 - o : o;
            i0[at] = index;
            i1[at] = index < inSize - 1 ? index + 1 : index;
            weight1[at] = MathF.Min(real - index, 1f);
        }
    }

    /// <summary>
    /// The crop box resized to (channels, S, S) in [0, 1]: each box row resized along x (a gather), then output
    /// rows blended from two of those (vectorized). Same arithmetic as the one-step bilinear formula, in fewer
    /// gathers when upsampling.
    /// </summary>
    private static void Resample(ReadOnlySpan<byte> source, int channels, int height, int width, in CropParams p,
        Scratch scratch, Span<float> image)
    {
        int side = scratch.Side;
        const float ToUnit = 1f / 255f;
        Span<float> rows = scratch.BoxRows(p.Height);
        ReadOnlySpan<int> x0 = scratch.X0;
        ReadOnlySpan<int> x1 = scratch.X1;
        ReadOnlySpan<float> wx = scratch.XWeight;
        for (int c = 0; c < channels; c++)
        {
            ReadOnlySpan<byte> plane = source.Slice(c * height * width, height * width);
            for (int y = 0; y < p.Height; y++)
            {
                ReadOnlySpan<byte> row = plane.Slice((p.Top + y) * width + p.Left, p.Width);
                Span<float> resized = rows.Slice(y * side, side);
                for (int ox = 0; ox < side; ox++)
                {
                    resized[ox] = (1f - wx[ox]) * row[x0[ox]] + wx[ox] * row[x1[ox]];
                }
            }
            for (int oy = 0; oy < side; oy++)
            {
                float wy1 = scratch.YWeight[oy];
                Blend(rows.Slice(scratch.Y0[oy] * side, side), rows.Slice(scratch.Y1[oy] * side, side),
                    (1f - wy1) * ToUnit, wy1 * ToUnit, image.Slice((c * side + oy) * side, side));
            }
        }
    }

    /// <summary>output = w0 a + w1 b.</summary>
    private static void Blend(ReadOnlySpan<float> a, ReadOnlySpan<float> b, float w0, float w1, Span<float> output)
    {
        var v0 = new Vector<float>(w0);
        var v1 = new Vector<float>(w1);
        int width = Vector<float>.Count;
        int i = 0;
        for (; i <= output.Length - width; i += width)
        {
            (v0 * new Vector<float>(a.Slice(i)) + v1 * new Vector<float>(b.Slice(i))).CopyTo(output.Slice(i));
        }
        for (; i < output.Length; i++)
        {
            output[i] = w0 * a[i] + w1 * b[i];
        }
    }

    /// <summary>Per-thread working memory for one crop.</summary>
    public sealed class Scratch
    {
        public Scratch(int channels, int side)
        {
            Side = side;
            Image = new float[channels * side * side];
            Plane = new float[side * side];
            X0 = new int[side];
            X1 = new int[side];
            Y0 = new int[side];
            Y1 = new int[side];
            XWeight = new float[side];
            YWeight = new float[side];
        }

        public int Side { get; }

        /// <summary>(channels, side, side), the crop being transformed.</summary>
        public float[] Image { get; }

        /// <summary>(side, side), grayscale and blur scratch.</summary>
        public float[] Plane { get; }

        public int[] X0 { get; }
        public int[] X1 { get; }
        public int[] Y0 { get; }
        public int[] Y1 { get; }
        public float[] XWeight { get; }
        public float[] YWeight { get; }

        private float[] _rows = [];

        /// <summary>(height, side): the box rows resized along x; grown on first use for a taller box.</summary>
        public Span<float> BoxRows(int height)
        {
            if (_rows.Length < height * Side)
            {
                _rows = new float[height * Side];
            }
            return _rows.AsSpan(0, height * Side);
        }
    }
}

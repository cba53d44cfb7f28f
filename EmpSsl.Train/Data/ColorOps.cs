using System.Numerics;

namespace EmpSsl.Train.Data;

/// <summary>
/// The per-crop pixel transforms, on float images (channels, plane) with values in [0, 1], in place. Each follows
/// torchvision's tensor definition (torchvision/transforms/_functional_tensor.py); the jitter steps clamp to
/// [0, 1] as its _blend does. CropRenderer calls them in the sampled order.
/// </summary>
public static class ColorOps
{
    /// <summary>
    /// ITU-R 601-2 luma, as PIL's convert("L") (which VICReg's PIL pipeline uses); torchvision's tensor path
    /// writes 0.2989 for red, a difference of 1e-4 of the red value.
    /// </summary>
    public const float LumaR = 0.299f;
    public const float LumaG = 0.587f;
    public const float LumaB = 0.114f;

    /// <summary>adjust_brightness: blend with black, x = clamp(f x).</summary>
    public static void Brightness(Span<float> image, float factor) => BlendConstant(image, factor, 0f);

    /// <summary>
    /// adjust_contrast: blend with the mean of the grayscale image (of the image itself when it has one channel),
    /// x = clamp(f x + (1 - f) mean).
    /// </summary>
    public static void Contrast(Span<float> image, int channels, float factor)
    {
        int plane = image.Length / channels;
        double sum = 0;
        if (channels == 3)
        {
            for (int p = 0; p < plane; p++)
            {
                sum += LumaR * image[p] + LumaG * image[plane + p] + LumaB * image[2 * plane + p];
            }
        }
        else
        {
            foreach (float v in image)
            {
                sum += v;
            }
        }
        float mean = (float)(sum / (channels == 3 ? plane : image.Length));
        BlendConstant(image, factor, (1 - factor) * mean);
    }

    /// <summary>adjust_saturation on RGB: blend with the grayscale image, x = clamp(f x + (1 - f) gray).</summary>
    /// <param name="gray">(plane) scratch.</param>
    public static void Saturation(Span<float> image, float factor, Span<float> gray)
    {
        int plane = image.Length / 3;
        Luma(image, gray);
        var f = new Vector<float>(factor);
        var g = new Vector<float>(1 - factor);
        var zero = Vector<float>.Zero;
        var one = Vector<float>.One;
        int width = Vector<float>.Count;
        for (int c = 0; c < 3; c++)
        {
            Span<float> channel = image.Slice(c * plane, plane);
            int p = 0;
            for (; p <= plane - width; p += width)
            {
                var x = new Vector<float>(channel.Slice(p));
                var y = new Vector<float>(gray.Slice(p));
                Vector.Min(Vector.Max(f * x + g * y, zero), one).CopyTo(channel.Slice(p));
            }
            for (; p < plane; p++)
            {
                channel[p] = Math.Clamp(factor * channel[p] + (1 - factor) * gray[p], 0f, 1f);
            }
        }
    }

    /// <summary>
    /// adjust_hue on RGB: to HSV, h = (h + shift) mod 1, back to RGB, with torchvision's _rgb2hsv and _hsv2rgb
    /// (including their clamps of p, q, t).
    /// </summary>
    public static void Hue(Span<float> image, float shift)
    {
        int plane = image.Length / 3;
        Span<float> rs = image.Slice(0, plane);
        Span<float> gs = image.Slice(plane, plane);
        Span<float> bs = image.Slice(2 * plane, plane);
        int width = Vector<float>.Count;
        int p = 0;
        for (; p <= plane - width; p += width)
        {
            var (r, g, b) = HueShift(new Vector<float>(rs.Slice(p)), new Vector<float>(gs.Slice(p)),
                new Vector<float>(bs.Slice(p)), new Vector<float>(shift));
            r.CopyTo(rs.Slice(p));
            g.CopyTo(gs.Slice(p));
            b.CopyTo(bs.Slice(p));
        }
        for (; p < plane; p++)
        {
            var shifted = HueRotation.Shift(rs[p], gs[p], bs[p], shift);
            (rs[p], gs[p], bs[p]) = (shifted.R, shifted.G, shifted.B);
        }
    }

    /// <summary><see cref="HueRotation.Shift"/> lane by lane, with the same float operations.</summary>
    private static (Vector<float> R, Vector<float> G, Vector<float> B) HueShift(Vector<float> r, Vector<float> g,
        Vector<float> b, Vector<float> shift)
    {
        var one = Vector<float>.One;
        var zero = Vector<float>.Zero;
        var maxc = Vector.Max(r, Vector.Max(g, b));
        var minc = Vector.Min(r, Vector.Min(g, b));
        var equal = Vector.Equals(maxc, minc);
        var cr = maxc - minc;
        var s = cr / Vector.ConditionalSelect(equal, one, maxc);
        var divisor = Vector.ConditionalSelect(equal, one, cr);
        var rc = (maxc - r) / divisor;
        var gc = (maxc - g) / divisor;
        var bc = (maxc - b) / divisor;
        var isR = Vector.Equals(maxc, r);
        var isG = Vector.Equals(maxc, g);
        var h = Vector.ConditionalSelect(isR, bc - gc,
            Vector.ConditionalSelect(isG, new Vector<float>(2f) + rc - bc, new Vector<float>(4f) + gc - rc));
        h = h / new Vector<float>(6f) + one;
        h -= Vector.Floor(h);
        h += shift;
        h -= Vector.Floor(h);
        var v = maxc;
        var h6 = h * new Vector<float>(6f);
        var sector = Vector.Floor(h6);
        var frac = h6 - sector;
        // h6 reaches 6 only when h rounds to 1; the scalar path's % 6 maps that to sector 0.
        var six = new Vector<float>(6f);
        sector = Vector.ConditionalSelect(Vector.GreaterThanOrEqual(sector, six), sector - six, sector);
        var pv = Vector.Min(Vector.Max(v * (one - s), zero), one);
        var qv = Vector.Min(Vector.Max(v * (one - s * frac), zero), one);
        var tv = Vector.Min(Vector.Max(v * (one - s * (one - frac)), zero), one);
        var e0 = Vector.Equals(sector, zero);
        var e1 = Vector.Equals(sector, one);
        var e2 = Vector.Equals(sector, new Vector<float>(2f));
        var e3 = Vector.Equals(sector, new Vector<float>(3f));
        var e4 = Vector.Equals(sector, new Vector<float>(4f));
        var e5 = Vector.Equals(sector, new Vector<float>(5f));
        var outR = Vector.ConditionalSelect(e0 | e5, v, Vector.ConditionalSelect(e1, qv, Vector.ConditionalSelect(e4, tv, pv)));
        var outG = Vector.ConditionalSelect(e1 | e2, v, Vector.ConditionalSelect(e0, tv, Vector.ConditionalSelect(e3, qv, pv)));
        var outB = Vector.ConditionalSelect(e3 | e4, v, Vector.ConditionalSelect(e2, tv, Vector.ConditionalSelect(e5, qv, pv)));
        return (outR, outG, outB);
    }

    /// <summary>rgb_to_grayscale with three output channels: each channel becomes the luma.</summary>
    public static void Grayscale(Span<float> image)
    {
        int plane = image.Length / 3;
        Span<float> gray = image.Slice(0, plane);
        Luma(image, gray);
        gray.CopyTo(image.Slice(plane, plane));
        gray.CopyTo(image.Slice(2 * plane, plane));
    }

    /// <summary>gray (plane) = LumaR r + LumaG g + LumaB b; gray may alias the red plane.</summary>
    public static void Luma(ReadOnlySpan<float> image, Span<float> gray)
    {
        int plane = image.Length / 3;
        ReadOnlySpan<float> r = image.Slice(0, plane);
        ReadOnlySpan<float> g = image.Slice(plane, plane);
        ReadOnlySpan<float> b = image.Slice(2 * plane, plane);
        var wr = new Vector<float>(LumaR);
        var wg = new Vector<float>(LumaG);
        var wb = new Vector<float>(LumaB);
        int width = Vector<float>.Count;
        int p = 0;
        for (; p <= plane - width; p += width)
        {
            var y = wr * new Vector<float>(r.Slice(p)) + wg * new Vector<float>(g.Slice(p)) + wb * new Vector<float>(b.Slice(p));
            y.CopyTo(gray.Slice(p));
        }
        for (; p < plane; p++)
        {
            gray[p] = LumaR * r[p] + LumaG * g[p] + LumaB * b[p];
        }
    }

    /// <summary>solarize with threshold 0.5: x >= 0.5 becomes 1 - x.</summary>
    public static void Solarize(Span<float> image)
    {
        var half = new Vector<float>(0.5f);
        var one = Vector<float>.One;
        int width = Vector<float>.Count;
        int p = 0;
        for (; p <= image.Length - width; p += width)
        {
            var x = new Vector<float>(image.Slice(p));
            Vector.ConditionalSelect(Vector.GreaterThanOrEqual(x, half), one - x, x).CopyTo(image.Slice(p));
        }
        for (; p < image.Length; p++)
        {
            image[p] = image[p] >= 0.5f ? 1f - image[p] : image[p];
        }
    }

    /// <summary>
    /// torchvision's gaussian_blur: kernel k (odd) of exp(-x^2 / (2 sigma^2)) at x = -(k-1)/2..(k-1)/2, normalized
    /// to sum 1, applied along rows then columns with reflect padding (the edge pixel is not repeated).
    /// </summary>
    /// <param name="image">(channels, side, side).</param>
    /// <param name="scratch">(side * side).</param>
    public static void GaussianBlur(Span<float> image, int side, float sigma, int kernelSize, Span<float> scratch)
    {
        int half = kernelSize / 2;
        if (half >= side)
        {
            throw new ArgumentException($"blur kernel {kernelSize} is too wide for reflect padding of a {side}-pixel image");
        }
        Span<float> kernel = stackalloc float[kernelSize];
        GaussianKernel(sigma, kernel);
        int plane = side * side;
        Span<float> padded = side + 2 * half <= 1024 ? stackalloc float[side + 2 * half] : new float[side + 2 * half];
        for (int c = 0; c < image.Length / plane; c++)
        {
            Span<float> channel = image.Slice(c * plane, plane);
            for (int y = 0; y < side; y++)
            {
                Span<float> row = channel.Slice(y * side, side);
                row.CopyTo(padded.Slice(half));
                for (int t = 1; t <= half; t++)
                {
                    padded[half - t] = row[t];
                    padded[half + side - 1 + t] = row[side - 1 - t];
                }
                Span<float> output = scratch.Slice(y * side, side);
                output.Clear();
                for (int t = 0; t < kernelSize; t++)
                {
                    AddScaled(output, padded.Slice(t, side), kernel[t]);
                }
            }
            for (int y = 0; y < side; y++)
            {
                Span<float> output = channel.Slice(y * side, side);
                output.Clear();
                for (int t = 0; t < kernelSize; t++)
                {
                    AddScaled(output, scratch.Slice(Reflect(y + t - half, side) * side, side), kernel[t]);
                }
            }
        }
    }

    /// <summary>The normalized 1-D Gaussian torchvision's _get_gaussian_kernel1d builds.</summary>
    public static void GaussianKernel(float sigma, Span<float> kernel)
    {
        int half = kernel.Length / 2;
        float sum = 0;
        for (int t = 0; t < kernel.Length; t++)
        {
            float x = (t - half) / sigma;
            kernel[t] = MathF.Exp(-0.5f * x * x);
            sum += kernel[t];
        }
        for (int t = 0; t < kernel.Length; t++)
        {
            kernel[t] /= sum;
        }
    }

    /// <summary>output = (image - mean) / std.</summary>
    public static void Normalize(ReadOnlySpan<float> image, Span<float> output, float mean, float std)
    {
        float scale = 1f / std;
        var m = new Vector<float>(mean);
        var s = new Vector<float>(scale);
        int width = Vector<float>.Count;
        int p = 0;
        for (; p <= image.Length - width; p += width)
        {
            ((new Vector<float>(image.Slice(p)) - m) * s).CopyTo(output.Slice(p));
        }
        for (; p < image.Length; p++)
        {
            output[p] = (image[p] - mean) * scale;
        }
    }

    /// <summary>torch's "reflect" padding index: -1 maps to 1, side maps to side - 2.</summary>
    private static int Reflect(int i, int side) => i < 0 ? -i : i >= side ? 2 * (side - 1) - i : i;

    /// <summary>x = clamp(factor x + offset, 0, 1).</summary>
    private static void BlendConstant(Span<float> image, float factor, float offset)
    {
        var f = new Vector<float>(factor);
        var o = new Vector<float>(offset);
        var zero = Vector<float>.Zero;
        var one = Vector<float>.One;
        int width = Vector<float>.Count;
        int p = 0;
        for (; p <= image.Length - width; p += width)
        {
            var x = new Vector<float>(image.Slice(p));
            Vector.Min(Vector.Max(f * x + o, zero), one).CopyTo(image.Slice(p));
        }
        for (; p < image.Length; p++)
        {
            image[p] = Math.Clamp(factor * image[p] + offset, 0f, 1f);
        }
    }

    private static void AddScaled(Span<float> output, ReadOnlySpan<float> input, float weight)
    {
        var w = new Vector<float>(weight);
        int width = Vector<float>.Count;
        int p = 0;
        for (; p <= output.Length - width; p += width)
        {
            (new Vector<float>(output.Slice(p)) + w * new Vector<float>(input.Slice(p))).CopyTo(output.Slice(p));
        }
        for (; p < output.Length; p++)
        {
            output[p] += weight * input[p];
        }
    }
}

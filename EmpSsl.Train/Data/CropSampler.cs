namespace EmpSsl.Train.Data;

/// <summary>
/// Draws every crop's random parameters for one batch. Row r = i*b + j (crop i of image j, patch-major, the order
/// CropRenderer writes) takes its values from Xoshiro256.ForKey(seed, epoch, step, r), in this order:
/// top, left, flip, jitter?, the jitter order (Fisher-Yates over 4), brightness, contrast, saturation, hue,
/// gray?, blur?, sigma, solarize?. Every value is drawn whether used or not, so the sequence never depends on
/// earlier outcomes. The same (seed, epoch, step) and shapes give the same array on any runtime.
/// </summary>
public static class CropSampler
{
    /// <param name="batch">b, images in the batch.</param>
    /// <param name="crops">n, crops per image.</param>
    /// <param name="channels">1 neutralizes the colour-only draws (saturation, hue, gray).</param>
    /// <returns>(n*b) parameters, patch-major.</returns>
    public static CropParams[] Sample(AugmentSpec spec, ulong seed, long epoch, long step,
        int batch, int crops, int channels, int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(crops, 1);
        var result = new CropParams[crops * batch];
        for (int i = 0; i < crops; i++)
        {
            for (int j = 0; j < batch; j++)
            {
                int row = i * batch + j;
                var rng = Xoshiro256.ForKey(seed, (ulong)epoch, (ulong)step, (ulong)row);
                result[row] = Draw(ref rng, spec, j, channels, height, width);
            }
        }
        return result;
    }

    /// <summary>
    /// torchvision's RandomResizedCrop box with scale (s, s) and ratio (1, 1): a square of side round(sqrt(s*H*W))
    /// (round half to even, as Python's round) at a uniform position; when it does not fit, the centred largest
    /// square, as torchvision's fallback gives for ratio 1.
    /// </summary>
    public static (int Top, int Left, int Side) Box(ref Xoshiro256 rng, double scale, int height, int width)
    {
        int side = (int)Math.Round(Math.Sqrt(scale * height * width), MidpointRounding.ToEven);
        int top = rng.NextInt(height - Math.Min(side, height) + 1);
        int left = rng.NextInt(width - Math.Min(side, width) + 1);
        if (side >= 1 && side <= height && side <= width)
        {
            return (top, left, side);
        }
        side = Math.Min(height, width);
        return ((height - side) / 2, (width - side) / 2, side);
    }

    private static CropParams Draw(ref Xoshiro256 rng, AugmentSpec spec, int image, int channels, int height, int width)
    {
        var (top, left, side) = Box(ref rng, spec.Scale, height, width);
        var p = new CropParams
        {
            Image = image,
            Top = top,
            Left = left,
            Height = side,
            Width = side,
            Flip = rng.Bernoulli(spec.FlipP),
            Jitter = rng.Bernoulli(spec.JitterP),
        };
        Span<int> order = [0, 1, 2, 3];
        for (int k = 3; k > 0; k--)
        {
            int swap = rng.NextInt(k + 1);
            (order[k], order[swap]) = (order[swap], order[k]);
        }
        p.JitterOrder = order[0] | order[1] << 2 | order[2] << 4 | order[3] << 6;
        p.Brightness = (float)rng.Uniform(Math.Max(0, 1 - spec.Brightness), 1 + spec.Brightness);
        p.Contrast = (float)rng.Uniform(Math.Max(0, 1 - spec.Contrast), 1 + spec.Contrast);
        p.Saturation = (float)rng.Uniform(Math.Max(0, 1 - spec.Saturation), 1 + spec.Saturation);
        p.Hue = (float)rng.Uniform(-spec.Hue, spec.Hue);
        p.Gray = rng.Bernoulli(spec.GrayP);
        bool blur = rng.Bernoulli(spec.BlurP);
        float sigma = (float)rng.Uniform(spec.BlurSigmaMin, spec.BlurSigmaMax);
        p.BlurSigma = blur ? sigma : 0f;
        p.Solarize = rng.Bernoulli(spec.SolarizeP);
        if (channels == 1)
        {
            p.Saturation = 1f;
            p.Hue = 0f;
            p.Gray = false;
        }
        return p;
    }
}

namespace EmpSsl.Train.Data;

/// <summary>
/// The crop and augmentation settings. The defaults are EMP-SSL's: VICReg's per-crop pipeline with colour jitter
/// (0.4, 0.4, 0.4, 0.2) at p = 0.8, grayscale 0.2, blur 0.1, solarize 0.1, normalized with mean 0.5 and std 0.5.
/// </summary>
public sealed record AugmentSpec
{
    /// <summary>Side of each output crop, in pixels.</summary>
    public required int OutputSize { get; init; }

    /// <summary>Fraction of the image area each crop covers (RandomResizedCrop with scale (s, s), ratio (1, 1)).</summary>
    public double Scale { get; init; } = 0.25;

    public double FlipP { get; init; } = 0.5;
    public double JitterP { get; init; } = 0.8;
    public double Brightness { get; init; } = 0.4;
    public double Contrast { get; init; } = 0.4;
    public double Saturation { get; init; } = 0.4;
    public double Hue { get; init; } = 0.2;
    public double GrayP { get; init; } = 0.2;
    public double BlurP { get; init; } = 0.1;
    public double BlurSigmaMin { get; init; } = 0.1;
    public double BlurSigmaMax { get; init; } = 2.0;
    public double SolarizeP { get; init; } = 0.1;
    public float Mean { get; init; } = 0.5f;
    public float Std { get; init; } = 0.5f;

    /// <summary>Blur kernel side; null picks DefaultBlurKernel(OutputSize).</summary>
    public int? BlurKernelSize { get; init; }

    public int BlurKernel => BlurKernelSize ?? DefaultBlurKernel(OutputSize);

    /// <summary>
    /// The odd size nearest a tenth of the crop side, at least 3, as BYOL and VICReg-style torchvision pipelines
    /// choose it (23 for 224), and capped so that reflect padding (k/2 &lt; side) stays valid.
    /// </summary>
    public static int DefaultBlurKernel(int outputSize)
    {
        int k = 2 * (int)Math.Round((0.1 * outputSize - 1) / 2, MidpointRounding.AwayFromZero) + 1;
        int largest = Math.Max(1, 2 * (outputSize - 1) + 1);
        return Math.Min(Math.Max(k, 3), largest);
    }
}

namespace EmpSsl.Train.Data;

/// <summary>The jitter operations, in the codes CropParams.JitterOrder uses.</summary>
public enum JitterOp
{
    Brightness = 0,
    Contrast = 1,
    Saturation = 2,
    Hue = 3,
}

/// <summary>
/// Everything random about one augmented crop, drawn by CropSampler and rendered by CropRenderer (or a GPU port).
/// Plain unmanaged fields so an array of them can be copied to a device as is.
/// </summary>
public struct CropParams
{
    /// <summary>Which image of the batch (0..b-1) the crop comes from.</summary>
    public int Image;

    /// <summary>The crop box in source pixels: rows Top..Top+Height-1, columns Left..Left+Width-1.</summary>
    public int Top;
    public int Left;
    public int Height;
    public int Width;

    /// <summary>Mirror left-right after resizing.</summary>
    public bool Flip;

    /// <summary>Apply colour jitter; the four factors below are meaningful only when set.</summary>
    public bool Jitter;

    /// <summary>Multiplier for brightness, contrast and saturation (1 = unchanged); Hue is a shift in turns.</summary>
    public float Brightness;
    public float Contrast;
    public float Saturation;
    public float Hue;

    /// <summary>The jitter order: step k (0..3) applies JitterOp ((JitterOrder >> 2k) &amp; 3).</summary>
    public int JitterOrder;

    /// <summary>Convert to grayscale (replicated to three channels).</summary>
    public bool Gray;

    /// <summary>Gaussian blur sigma in output pixels; 0 = no blur.</summary>
    public float BlurSigma;

    /// <summary>Invert values at or above 0.5.</summary>
    public bool Solarize;

    public readonly JitterOp JitterStep(int k) => (JitterOp)((JitterOrder >> (2 * k)) & 3);
}

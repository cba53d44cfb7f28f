// ILGPU's CPU accelerator emits a dynamic assembly named ILGPURuntime that must see the internal kernel structs
// below (kernel parameters) to launch the crop kernel.
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("ILGPURuntime")]

namespace EmpSsl.Train.Data;

/// <summary>
/// One crop as the ILGPU render kernel reads it: <see cref="CropParams"/> with the batch slot resolved to a
/// dataset image and the four switches packed into bits, so the layout is plain 32-bit fields on every device.
/// </summary>
internal struct IlgpuCrop
{
    public const int FlipBit = 1;
    public const int JitterBit = 2;
    public const int GrayBit = 4;
    public const int SolarizeBit = 8;

    /// <summary>Index into the dataset (not the batch).</summary>
    public int Image;
    public int Top;
    public int Left;
    public int Height;
    public int Width;
    public int Flags;
    public int JitterOrder;
    public float Brightness;
    public float Contrast;
    public float Saturation;
    public float Hue;
    public float BlurSigma;

    public static IlgpuCrop From(in CropParams p, int datasetImage) => new()
    {
        Image = datasetImage,
        Top = p.Top,
        Left = p.Left,
        Height = p.Height,
        Width = p.Width,
        Flags = (p.Flip ? FlipBit : 0) | (p.Jitter ? JitterBit : 0) | (p.Gray ? GrayBit : 0) | (p.Solarize ? SolarizeBit : 0),
        JitterOrder = p.JitterOrder,
        Brightness = p.Brightness,
        Contrast = p.Contrast,
        Saturation = p.Saturation,
        Hue = p.Hue,
        BlurSigma = p.BlurSigma,
    };
}

/// <summary>What every crop of one render launch shares.</summary>
internal readonly record struct IlgpuCropShape(int Channels, int Height, int Width, int Side, int BlurKernel, float Mean, float InvStd);

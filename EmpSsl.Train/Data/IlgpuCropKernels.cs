using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace EmpSsl.Train.Data;

/// <summary>
/// The crop pipeline of <see cref="CropRenderer.RenderOne"/> as one ILGPU kernel: one group per crop, each thread
/// owning the pixels q = thread, thread + groupSize, ... of the S x S plane in every channel. The crop is built in
/// place in its output rows; the steps that are per pixel need no barrier (a thread only touches its own pixels),
/// contrast needs the group's sum of luma (a shared-memory tree), and blur reads neighbours (a barrier before each
/// of its two passes, through a scratch copy). The output rows stay in L1/L2 across the steps, and unlike shared
/// memory they fit any crop size. Same float32 formulas as ColorOps, in the order the crop's JitterOrder gives.
/// </summary>
internal static class IlgpuCropKernels
{
    /// <summary>Largest group; the contrast reduction's shared slots.</summary>
    public const int MaxGroupSize = 256;

    /// <summary>Longest blur kernel: its weights sit in shared memory (23 taps for 224-pixel crops).</summary>
    public const int MaxBlurTaps = 127;

    /// <summary>Threads per crop: a power of two (the tree reduction halves it), at most the plane, capped by the device.</summary>
    public static int GroupSize(Accelerator accelerator, int side)
    {
        int size = Math.Min(MaxGroupSize, Math.Min(accelerator.MaxNumThreadsPerGroup, side * side));
        return 1 << (31 - System.Numerics.BitOperations.LeadingZeroCount((uint)Math.Max(size, 1)));
    }

    /// <summary>Group r renders crops[r] into output row r.</summary>
    /// <param name="output">(crops, C, S, S)</param>
    /// <param name="scratch">(crops, C, S, S), the blur's intermediate; unread when no crop blurs.</param>
    /// <param name="pixels">(N, C, H, W) bytes of the whole dataset.</param>
    /// <param name="crops">(crops)</param>
    internal static void RenderKernel(ArrayView<float> output, ArrayView<float> scratch, ArrayView<byte> pixels,
        ArrayView<IlgpuCrop> crops, IlgpuCropShape s)
    {
        var partials = SharedMemory.Allocate<float>(MaxGroupSize);
        var taps = SharedMemory.Allocate<float>(MaxBlurTaps);
        int r = Grid.IdxX;
        if (r >= crops.Length)
        {
            return;
        }
        IlgpuCrop p = crops[r];
        int plane = s.Side * s.Side;
        int size = s.Channels * plane;
        var image = output.SubView((long)r * size, size);
        Resample(image, pixels, p, s);
        if ((p.Flags & IlgpuCrop.JitterBit) != 0)
        {
            for (int k = 0; k < 4; k++)
            {
                int op = (p.JitterOrder >> (2 * k)) & 3;
                if (op == (int)JitterOp.Brightness)
                {
                    BlendConstant(image, plane, s.Channels, p.Brightness, 0f);
                }
                else if (op == (int)JitterOp.Contrast)
                {
                    float mean = GroupSum(partials, LumaSum(image, plane, s.Channels)) / plane;
                    BlendConstant(image, plane, s.Channels, p.Contrast, (1 - p.Contrast) * mean);
                }
                else if (op == (int)JitterOp.Saturation && s.Channels == 3)
                {
                    Saturation(image, plane, p.Saturation);
                }
                else if (op == (int)JitterOp.Hue && s.Channels == 3)
                {
                    Hue(image, plane, p.Hue);
                }
            }
        }
        if ((p.Flags & IlgpuCrop.GrayBit) != 0 && s.Channels == 3)
        {
            Grayscale(image, plane);
        }
        if (p.BlurSigma > 0)
        {
            if (Group.IdxX == 0)
            {
                GaussianTaps(taps, s.BlurKernel, p.BlurSigma);
            }
            var rows = scratch.SubView((long)r * size, size);
            // Both passes read pixels other threads wrote.
            Group.Barrier();
            BlurRows(rows, image, taps, s);
            Group.Barrier();
            BlurColumns(image, rows, taps, s);
        }
        Finish(image, plane, s.Channels, (p.Flags & IlgpuCrop.SolarizeBit) != 0, s.Mean, s.InvStd);
    }

    /// <summary>
    /// Bilinear resize of the box, as CropRenderer.Resample: each of the two source rows blended along x, then the
    /// two blended along y with the 1/255 folded into the y weights.
    /// </summary>
    private static void Resample(ArrayView<float> image, ArrayView<byte> pixels, IlgpuCrop p, IlgpuCropShape s)
    {
        const float ToUnit = 1f / 255f;
        int side = s.Side;
        int plane = side * side;
        long imageBytes = (long)s.Channels * s.Height * s.Width;
        bool flip = (p.Flags & IlgpuCrop.FlipBit) != 0;
        for (int q = Group.IdxX; q < plane; q += Group.DimX)
        {
            int oy = q / side;
            int ox = q % side;
            Axis(p.Height, side, oy, out int y0, out int y1, out float wy);
            Axis(p.Width, side, flip ? side - 1 - ox : ox, out int x0, out int x1, out float wx);
            float w0 = (1f - wy) * ToUnit;
            float w1 = wy * ToUnit;
            for (int c = 0; c < s.Channels; c++)
            {
                long channel = p.Image * imageBytes + (long)c * s.Height * s.Width + p.Left;
                long row0 = channel + (long)(p.Top + y0) * s.Width;
                long row1 = channel + (long)(p.Top + y1) * s.Width;
                float a = (1f - wx) * pixels[row0 + x0] + wx * pixels[row0 + x1];
                float b = (1f - wx) * pixels[row1 + x0] + wx * pixels[row1 + x1];
                image[c * plane + q] = w0 * a + w1 * b;
            }
        }
    }

    /// <summary>One output position of CropRenderer.ResizeAxis.</summary>
    private static void Axis(int inSize, int outSize, int o, out int i0, out int i1, out float weight1)
    {
        float scale = (float)inSize / outSize;
        float real = XMath.Max(scale * (o + 0.5f) - 0.5f, 0f);
        i0 = (int)real;
        i1 = i0 < inSize - 1 ? i0 + 1 : i0;
        weight1 = XMath.Min(real - i0, 1f);
    }

    private static float Clamp01(float x) => XMath.Min(XMath.Max(x, 0f), 1f);

    /// <summary>x = clamp(factor x + offset) in every channel.</summary>
    private static void BlendConstant(ArrayView<float> image, int plane, int channels, float factor, float offset)
    {
        for (int q = Group.IdxX; q < plane; q += Group.DimX)
        {
            for (int c = 0; c < channels; c++)
            {
                image[c * plane + q] = Clamp01(factor * image[c * plane + q] + offset);
            }
        }
    }

    /// <summary>This thread's share of the contrast mean's sum: luma for RGB, the value itself for one channel.</summary>
    private static float LumaSum(ArrayView<float> image, int plane, int channels)
    {
        float sum = 0;
        for (int q = Group.IdxX; q < plane; q += Group.DimX)
        {
            sum += channels == 3 ? Luma(image, plane, q) : image[q];
        }
        return sum;
    }

    private static float Luma(ArrayView<float> image, int plane, int q) =>
        ColorOps.LumaR * image[q] + ColorOps.LumaG * image[plane + q] + ColorOps.LumaB * image[2 * plane + q];

    /// <summary>
    /// The group's total, returned to every thread: a shared-memory tree over a power-of-two group. Every thread of
    /// the group must call it.
    /// </summary>
    private static float GroupSum(ArrayView<float> partials, float value)
    {
        int t = Group.IdxX;
        partials[t] = value;
        Group.Barrier();
        for (int stride = Group.DimX / 2; stride > 0; stride /= 2)
        {
            if (t < stride)
            {
                partials[t] += partials[t + stride];
            }
            Group.Barrier();
        }
        float total = partials[0];
        // A later contrast step writes the slots again: no thread may still be reading slot 0.
        Group.Barrier();
        return total;
    }

    private static void Saturation(ArrayView<float> image, int plane, float factor)
    {
        for (int q = Group.IdxX; q < plane; q += Group.DimX)
        {
            float gray = Luma(image, plane, q);
            for (int c = 0; c < 3; c++)
            {
                image[c * plane + q] = Clamp01(factor * image[c * plane + q] + (1 - factor) * gray);
            }
        }
    }

    private static void Hue(ArrayView<float> image, int plane, float shift)
    {
        for (int q = Group.IdxX; q < plane; q += Group.DimX)
        {
            float r = image[q];
            float g = image[plane + q];
            float b = image[2 * plane + q];
            var shifted = HueRotation.Shift(r, g, b, shift);
            image[q] = shifted.R;
            image[plane + q] = shifted.G;
            image[2 * plane + q] = shifted.B;
        }
    }

    private static void Grayscale(ArrayView<float> image, int plane)
    {
        for (int q = Group.IdxX; q < plane; q += Group.DimX)
        {
            float gray = Luma(image, plane, q);
            image[q] = gray;
            image[plane + q] = gray;
            image[2 * plane + q] = gray;
        }
    }

    /// <summary>ColorOps.GaussianKernel, into shared memory.</summary>
    private static void GaussianTaps(ArrayView<float> taps, int length, float sigma)
    {
        int half = length / 2;
        float sum = 0;
        for (int t = 0; t < length; t++)
        {
            float x = (t - half) / sigma;
            taps[t] = XMath.Exp(-0.5f * x * x);
            sum += taps[t];
        }
        for (int t = 0; t < length; t++)
        {
            taps[t] /= sum;
        }
    }

    /// <summary>torch's "reflect" padding index, as ColorOps.</summary>
    private static int Reflect(int i, int side) => i < 0 ? -i : i >= side ? 2 * (side - 1) - i : i;

    /// <summary>rows = image blurred along x.</summary>
    private static void BlurRows(ArrayView<float> rows, ArrayView<float> image, ArrayView<float> taps, IlgpuCropShape s)
    {
        int side = s.Side;
        int plane = side * side;
        int half = s.BlurKernel / 2;
        for (int q = Group.IdxX; q < plane; q += Group.DimX)
        {
            int rowStart = q - q % side;
            int x = q % side;
            for (int c = 0; c < s.Channels; c++)
            {
                float sum = 0;
                for (int t = 0; t < s.BlurKernel; t++)
                {
                    sum += taps[t] * image[c * plane + rowStart + Reflect(x + t - half, side)];
                }
                rows[c * plane + q] = sum;
            }
        }
    }

    /// <summary>image = rows blurred along y.</summary>
    private static void BlurColumns(ArrayView<float> image, ArrayView<float> rows, ArrayView<float> taps, IlgpuCropShape s)
    {
        int side = s.Side;
        int plane = side * side;
        int half = s.BlurKernel / 2;
        for (int q = Group.IdxX; q < plane; q += Group.DimX)
        {
            int y = q / side;
            int x = q % side;
            for (int c = 0; c < s.Channels; c++)
            {
                float sum = 0;
                for (int t = 0; t < s.BlurKernel; t++)
                {
                    sum += taps[t] * rows[c * plane + Reflect(y + t - half, side) * side + x];
                }
                image[c * plane + q] = sum;
            }
        }
    }

    /// <summary>Solarize when asked, then (x - mean) / std; each thread over its own pixels, which blur may just have written.</summary>
    private static void Finish(ArrayView<float> image, int plane, int channels, bool solarize, float mean, float invStd)
    {
        for (int q = Group.IdxX; q < plane; q += Group.DimX)
        {
            for (int c = 0; c < channels; c++)
            {
                float x = image[c * plane + q];
                if (solarize && x >= 0.5f)
                {
                    x = 1f - x;
                }
                image[c * plane + q] = (x - mean) * invStd;
            }
        }
    }
}

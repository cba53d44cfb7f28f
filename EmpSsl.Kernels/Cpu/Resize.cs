namespace EmpSsl.Kernels.Cpu;

// Bilinear resize (no gradient: it only runs in data augmentation).
public sealed unsafe partial class CpuKernels
{
    /// <param name="y">(planes, oh, ow), written</param>
    /// <param name="x">(planes, h, w)</param>
    public void BilinearResize(DeviceSpan y, DeviceSpan x, int planes, int h, int w, int oh, int ow)
    {
        string shape = $"planes={planes}, {h}x{w} -> {oh}x{ow}";
        Checks.Positive("BilinearResize", shape, planes, h, w, oh, ow);
        Checks.Need("BilinearResize", "x", x, (long)planes * h * w, $"planes x h x w = {planes}x{h}x{w}", shape);
        Checks.Need("BilinearResize", "y", y, (long)planes * oh * ow, $"planes x oh x ow = {planes}x{oh}x{ow}", shape);
        var rows = ResizeTaps.Of(h, oh);
        var cols = ResizeTaps.Of(w, ow);
        nint py = (nint)SimdDriver.P(y);
        nint px = (nint)SimdDriver.P(x);
        SimdDriver.ForItems(planes, 4L * oh * ow, (first, count) =>
        {
            for (int p = first; p < first + count; p++)
            {
                float* xp = (float*)px + (long)p * h * w;
                float* yp = (float*)py + (long)p * oh * ow;
                for (int i = 0; i < oh; i++)
                {
                    float* r0 = xp + rows.Index[i] * w;
                    float* r1 = r0 + rows.Offset[i] * w;
                    float a0 = rows.Lambda0[i];
                    float a1 = rows.Lambda1[i];
                    for (int j = 0; j < ow; j++)
                    {
                        int c0 = cols.Index[j];
                        int c1 = c0 + cols.Offset[j];
                        float b0 = cols.Lambda0[j];
                        float b1 = cols.Lambda1[j];
                        // PyTorch's order: interpolate along w in each source row, then blend the rows.
                        float top = r0[c0] * b0 + r0[c1] * b1;
                        float bottom = r1[c0] * b0 + r1[c1] * b1;
                        yp[i * ow + j] = top * a0 + bottom * a1;
                    }
                }
            }
        });
    }
}

/// <summary>
/// Source taps along one axis, computed in float exactly as PyTorch's upsample_bilinear2d does
/// (area_pixel_compute_source_index, then guard_index_and_lambda): src = (dst + 0.5) * in / out - 0.5,
/// clamped below at 0; index = min(floor(src), in - 1); lambda = clamp(src - index, 0, 1); the second
/// tap is the next pixel, or the same one at the last pixel.
/// </summary>
internal sealed class ResizeTaps
{
    private ResizeTaps(int length)
    {
        Index = new int[length];
        Offset = new int[length];
        Lambda0 = new float[length];
        Lambda1 = new float[length];
    }

    public int[] Index { get; }

    public int[] Offset { get; }

    public float[] Lambda0 { get; }

    public float[] Lambda1 { get; }

    public static ResizeTaps Of(int input, int output)
    {
        var taps = new ResizeTaps(output);
        float scale = (float)input / output;
        for (int i = 0; i < output; i++)
        {
            float src = scale * (i + 0.5f) - 0.5f;
            if (src < 0f)
            {
                src = 0f;
            }
            int index = Math.Min((int)MathF.Floor(src), input - 1);
            float lambda = Math.Clamp(src - index, 0f, 1f);
            taps.Index[i] = index;
            taps.Offset[i] = index < input - 1 ? 1 : 0;
            taps.Lambda0[i] = 1f - lambda;
            taps.Lambda1[i] = lambda;
        }
        return taps;
    }
}

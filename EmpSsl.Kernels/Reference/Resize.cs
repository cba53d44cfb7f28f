namespace EmpSsl.Kernels.Reference;

public static partial class Ref
{
    /// <summary>
    /// y (planes, oh, ow) = bilinear resize of x (planes, h, w) as torch.nn.functional.interpolate(mode="bilinear",
    /// align_corners=False, antialias=False) with an output size: source = (dst + 0.5) * in / out - 0.5,
    /// clamped below at 0, and the upper neighbour clamped to the last row or column.
    /// </summary>
    public static void BilinearResize(Span<double> y, ReadOnlySpan<double> x, int planes, int h, int w, int oh, int ow)
    {
        Need("BilinearResize", "x", x.Length, (long)planes * h * w);
        Need("BilinearResize", "y", y.Length, (long)planes * oh * ow);
        for (int p = 0; p < planes; p++)
        {
            for (int i = 0; i < oh; i++)
            {
                var (h0, h1, dh) = SourceIndex(i, h, oh);
                for (int j = 0; j < ow; j++)
                {
                    var (w0, w1, dw) = SourceIndex(j, w, ow);
                    double top = (1 - dw) * x[(p * h + h0) * w + w0] + dw * x[(p * h + h0) * w + w1];
                    double bottom = (1 - dw) * x[(p * h + h1) * w + w0] + dw * x[(p * h + h1) * w + w1];
                    y[(p * oh + i) * ow + j] = (1 - dh) * top + dh * bottom;
                }
            }
        }
    }

    /// <summary>PyTorch's area_pixel_compute_source_index for linear modes, then the two neighbours and the weight of the second.</summary>
    private static (int Low, int High, double Lambda) SourceIndex(int dst, int inSize, int outSize)
    {
        double src = Math.Max((dst + 0.5) * inSize / outSize - 0.5, 0);
        int low = Math.Min((int)src, inSize - 1);
        int high = Math.Min(low + 1, inSize - 1);
        return (low, high, src - low);
    }
}

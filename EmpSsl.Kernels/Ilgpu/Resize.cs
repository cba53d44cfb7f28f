using ILGPU;
using ILGPU.Runtime;

namespace EmpSsl.Kernels.Ilgpu;

// Bilinear resize with half-pixel centres and edge clamping, as torch's upsample_bilinear2d with
// align_corners=False and no antialias: forward only (augmentation runs outside autodiff).
public sealed partial class IlgpuKernels
{
    public void BilinearResize(DeviceSpan y, DeviceSpan x, int planes, int h, int w, int oh, int ow)
    {
        Checks.Positive("BilinearResize", $"planes={planes}, {h}x{w} -> {oh}x{ow}", planes, h, w, oh, ow);
        Checks.Need("BilinearResize", "x", x, (long)planes * h * w, $"planes x h x w = {planes}x{h}x{w}", $"{h}x{w} -> {oh}x{ow}");
        Checks.Need("BilinearResize", "y", y, (long)planes * oh * ow, $"planes x oh x ow = {planes}x{oh}x{ow}", $"{h}x{w} -> {oh}x{ow}");
        Load("BilinearResize", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int>(BilinearResizeKernel))(
            y.Length, V(y), V(x), h, w, oh, ow);
    }

    /// <summary>One thread per output pixel.</summary>
    /// <param name="y">(planes, oh, ow)</param>
    /// <param name="x">(planes, h, w)</param>
    internal static void BilinearResizeKernel(Index1D i, ArrayView<float> y, ArrayView<float> x, int h, int w, int oh, int ow)
    {
        int ox = i % ow;
        int oy = i / ow % oh;
        long plane = (long)(i.X / (ow * oh)) * h * w;
        SourceCoordinate(oy, h, oh, out int y0, out int y1, out float ly);
        SourceCoordinate(ox, w, ow, out int x0, out int x1, out float lx);
        float top = (1f - lx) * x[plane + (long)y0 * w + x0] + lx * x[plane + (long)y0 * w + x1];
        float bottom = (1f - lx) * x[plane + (long)y1 * w + x0] + lx * x[plane + (long)y1 * w + x1];
        y[i] = (1f - ly) * top + ly * bottom;
    }

    /// <summary>
    /// torch's area_pixel_compute_source_index: src = (dst + 0.5) * in / out - 0.5, clamped at 0; the two
    /// neighbours are floor(src) and the next one unless floor(src) is the last; lambda is the fraction.
    /// </summary>
    private static void SourceCoordinate(int dst, int inSize, int outSize, out int lo, out int hi, out float lambda)
    {
        float scale = (float)inSize / outSize;
        float src = scale * (dst + 0.5f) - 0.5f;
        if (src < 0f)
        {
            src = 0f;
        }
        lo = (int)src;
        hi = lo < inSize - 1 ? lo + 1 : lo;
        lambda = src - lo;
    }
}

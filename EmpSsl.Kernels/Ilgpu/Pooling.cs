using ILGPU;
using ILGPU.Runtime;

namespace EmpSsl.Kernels.Ilgpu;

// Max pooling over (Planes, H, W) and global average pooling over (planes, hw). Activation gradients are
// written (dx =). MaxPool2dBackward gathers: one thread per input element adds the dy of every window whose
// first maximum it is, so overlapping windows need no atomics and the result is deterministic.
public sealed partial class IlgpuKernels
{
    /// <summary>Above this plane size a group per plane beats a thread per plane.</summary>
    private const int GlobalAvgPoolThreadPerPlaneMax = 64;

    public void MaxPool2dForward(DeviceSpan y, DeviceSpan x, in PoolShape s)
    {
        Checks.Pool("MaxPool2dForward", y, x, s);
        Load("MaxPool2dForward", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PoolShape>(MaxPool2dForwardKernel))(
            y.Length, V(y), V(x), s);
    }

    public void MaxPool2dBackward(DeviceSpan dx, DeviceSpan dy, DeviceSpan x, DeviceSpan y, in PoolShape s)
    {
        Checks.Pool("MaxPool2dBackward", y, x, s);
        Checks.Same("MaxPool2dBackward", dx, x);
        Checks.Same("MaxPool2dBackward", dy, y);
        Load("MaxPool2dBackward", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, PoolShape>(MaxPool2dBackwardKernel))(
            dx.Length, V(dx), V(dy), V(x), V(y), s);
    }

    public void GlobalAvgPoolForward(DeviceSpan y, DeviceSpan x, int planes, int hw)
    {
        Checks.Rows("GlobalAvgPoolForward", x, planes, hw);
        Checks.Vector("GlobalAvgPoolForward", y, planes, "y");
        if (hw <= GlobalAvgPoolThreadPerPlaneMax)
        {
            Load("GlobalAvgPoolForwardSmall", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(GlobalAvgPoolForwardSmallKernel))(
                planes, V(y), V(x), hw);
        }
        else
        {
            Load("GlobalAvgPoolForward", a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int>(GlobalAvgPoolForwardKernel))(
                new KernelConfig(planes, ReduceGroupSize), V(y), V(x), hw);
        }
    }

    public void GlobalAvgPoolBackward(DeviceSpan dx, DeviceSpan dy, int planes, int hw)
    {
        Checks.Rows("GlobalAvgPoolBackward", dx, planes, hw, "dx");
        Checks.Vector("GlobalAvgPoolBackward", dy, planes, "dy");
        Load("GlobalAvgPoolBackward", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(GlobalAvgPoolBackwardKernel))(
            dx.Length, V(dx), V(dy), hw);
    }

    /// <summary>One thread per output; a strict &gt; keeps the first maximum in row-major window order.</summary>
    /// <param name="y">(Planes, OH, OW)</param>
    /// <param name="x">(Planes, H, W)</param>
    internal static void MaxPool2dForwardKernel(Index1D i, ArrayView<float> y, ArrayView<float> x, PoolShape s)
    {
        int outH = s.OutH;
        int outW = s.OutW;
        int ow = i % outW;
        int oh = i / outW % outH;
        long plane = (long)(i.X / (outW * outH)) * s.H * s.W;
        int h0 = oh * s.Stride - s.Pad;
        int w0 = ow * s.Stride - s.Pad;
        float best = float.NegativeInfinity;
        bool any = false;
        for (int kh = 0; kh < s.Kernel; kh++)
        {
            int ih = h0 + kh;
            if (ih < 0 || ih >= s.H)
            {
                continue;
            }
            for (int kw = 0; kw < s.Kernel; kw++)
            {
                int iw = w0 + kw;
                if (iw < 0 || iw >= s.W)
                {
                    continue;
                }
                float v = x[plane + (long)ih * s.W + iw];
                if (!any || v > best)
                {
                    best = v;
                    any = true;
                }
            }
        }
        y[i] = best;
    }

    /// <summary>
    /// One thread per input element: for each window that covers it, it takes that window's dy when it holds
    /// the window's maximum y and no earlier element of the window (row-major) does.
    /// </summary>
    /// <param name="dx">(Planes, H, W), written</param>
    /// <param name="dy">(Planes, OH, OW)</param>
    /// <param name="x">(Planes, H, W)</param>
    /// <param name="y">(Planes, OH, OW), the forward output</param>
    internal static void MaxPool2dBackwardKernel(Index1D i, ArrayView<float> dx, ArrayView<float> dy, ArrayView<float> x, ArrayView<float> y, PoolShape s)
    {
        int outH = s.OutH;
        int outW = s.OutW;
        int iw = i % s.W;
        int ih = i / s.W % s.H;
        int p = i / (s.W * s.H);
        long xPlane = (long)p * s.H * s.W;
        long yPlane = (long)p * outH * outW;
        float v = x[i];
        // Windows oh with oh*Stride - Pad <= ih < oh*Stride - Pad + Kernel.
        int ohLo = FirstWindow(ih + s.Pad - s.Kernel + 1, s.Stride);
        int ohHi = (ih + s.Pad) / s.Stride;
        int owLo = FirstWindow(iw + s.Pad - s.Kernel + 1, s.Stride);
        int owHi = (iw + s.Pad) / s.Stride;
        float sum = 0f;
        for (int oh = ohLo; oh <= ohHi && oh < outH; oh++)
        {
            for (int ow = owLo; ow <= owHi && ow < outW; ow++)
            {
                long o = yPlane + (long)oh * outW + ow;
                float best = y[o];
                if (v == best && IsFirstMax(x, xPlane, s, oh * s.Stride - s.Pad, ow * s.Stride - s.Pad, ih, iw, best))
                {
                    sum += dy[o];
                }
            }
        }
        dx[i] = sum;
    }

    /// <summary>The first window index o &gt;= 0 with o * stride &gt;= start: a ceiling division, clamped at 0.</summary>
    private static int FirstWindow(int start, int stride) => start <= 0 ? 0 : (start + stride - 1) / stride;

    /// <summary>True when no element of the window at (h0, w0) before (ih, iw) in row-major order equals best.</summary>
    private static bool IsFirstMax(ArrayView<float> x, long plane, PoolShape s, int h0, int w0, int ih, int iw, float best)
    {
        for (int h = h0 < 0 ? 0 : h0; h <= ih; h++)
        {
            int wEnd = h == ih ? iw : w0 + s.Kernel;
            for (int w = w0 < 0 ? 0 : w0; w < wEnd && w < s.W; w++)
            {
                if (x[plane + (long)h * s.W + w] == best)
                {
                    return false;
                }
            }
        }
        return true;
    }

    /// <summary>One thread per plane, for the small planes at the end of a ResNet (4x4, 7x7).</summary>
    /// <param name="y">(planes)</param>
    /// <param name="x">(planes, hw)</param>
    internal static void GlobalAvgPoolForwardSmallKernel(Index1D p, ArrayView<float> y, ArrayView<float> x, int hw)
    {
        long start = (long)p.X * hw;
        float sum = 0f;
        for (int j = 0; j < hw; j++)
        {
            sum += x[start + j];
        }
        y[p] = sum / hw;
    }

    /// <summary>One group per plane.</summary>
    /// <param name="y">(planes)</param>
    /// <param name="x">(planes, hw)</param>
    internal static void GlobalAvgPoolForwardKernel(ArrayView<float> y, ArrayView<float> x, int hw)
    {
        var shared = SharedMemory.Allocate<float>(ReduceGroup.SharedSlots);
        long start = (long)Grid.IdxX * hw;
        float sum = 0f;
        for (int j = Group.IdxX; j < hw; j += Group.DimX)
        {
            sum += x[start + j];
        }
        float total = ReduceGroup.Sum(shared, sum);
        if (Group.IdxX == 0)
        {
            y[Grid.IdxX] = total / hw;
        }
    }

    /// <param name="dx">(planes, hw), written</param>
    /// <param name="dy">(planes)</param>
    internal static void GlobalAvgPoolBackwardKernel(Index1D i, ArrayView<float> dx, ArrayView<float> dy, int hw)
    {
        dx[i] = dy[i / hw] / hw;
    }
}

namespace EmpSsl.Kernels.Cpu;

// Max and global average pooling over planes (N*C) of (H, W). dx is written (=), never accumulated.
public sealed unsafe partial class CpuKernels
{
    /// <param name="y">(Planes, OH, OW), written</param>
    /// <param name="x">(Planes, H, W)</param>
    public void MaxPool2dForward(DeviceSpan y, DeviceSpan x, in PoolShape s)
    {
        Checks.Pool("MaxPool2dForward", y, x, s);
        var shape = s;
        nint py = (nint)SimdDriver.P(y);
        nint px = (nint)SimdDriver.P(x);
        int outPlane = s.OutH * s.OutW;
        SimdDriver.ForItems(s.Planes, (long)outPlane * s.Kernel * s.Kernel, (first, count) =>
        {
            for (int p = first; p < first + count; p++)
            {
                float* xp = (float*)px + (long)p * shape.H * shape.W;
                float* yp = (float*)py + (long)p * outPlane;
                for (int oh = 0; oh < shape.OutH; oh++)
                {
                    for (int ow = 0; ow < shape.OutW; ow++)
                    {
                        yp[oh * shape.OutW + ow] = xp[WindowArgMax(xp, shape, oh, ow)];
                    }
                }
            }
        });
    }

    /// <param name="dx">(Planes, H, W), written</param>
    /// <param name="dy">(Planes, OH, OW)</param>
    /// <param name="x">(Planes, H, W) the forward input; the max's position is found again from it</param>
    /// <param name="y">(Planes, OH, OW) the forward output</param>
    public void MaxPool2dBackward(DeviceSpan dx, DeviceSpan dy, DeviceSpan x, DeviceSpan y, in PoolShape s)
    {
        Checks.Pool("MaxPool2dBackward", y, x, s);
        Checks.Pool("MaxPool2dBackward", dy, dx, s);
        var shape = s;
        nint pdx = (nint)SimdDriver.P(dx);
        nint pdy = (nint)SimdDriver.P(dy);
        nint px = (nint)SimdDriver.P(x);
        int outPlane = s.OutH * s.OutW;
        int inPlane = s.H * s.W;
        SimdDriver.ForItems(s.Planes, (long)outPlane * s.Kernel * s.Kernel, (first, count) =>
        {
            for (int p = first; p < first + count; p++)
            {
                float* xp = (float*)px + (long)p * inPlane;
                float* dxp = (float*)pdx + (long)p * inPlane;
                float* dyp = (float*)pdy + (long)p * outPlane;
                SimdDriver.FillRange(dxp, inPlane, 0f);
                for (int oh = 0; oh < shape.OutH; oh++)
                {
                    for (int ow = 0; ow < shape.OutW; ow++)
                    {
                        dxp[WindowArgMax(xp, shape, oh, ow)] += dyp[oh * shape.OutW + ow];
                    }
                }
            }
        });
    }

    /// <param name="y">(planes) = mean of each plane</param>
    /// <param name="x">(planes, hw)</param>
    public void GlobalAvgPoolForward(DeviceSpan y, DeviceSpan x, int planes, int hw)
    {
        Checks.Rows("GlobalAvgPoolForward", x, planes, hw);
        Checks.Vector("GlobalAvgPoolForward", y, planes, "y");
        nint py = (nint)SimdDriver.P(y);
        nint px = (nint)SimdDriver.P(x);
        SimdDriver.ForItems(planes, hw, (first, count) =>
        {
            for (int p = first; p < first + count; p++)
            {
                ((float*)py)[p] = (float)(SimdReduce.Sum((float*)px + (long)p * hw, hw) / hw);
            }
        });
    }

    /// <param name="dx">(planes, hw), written: dy / hw</param>
    /// <param name="dy">(planes)</param>
    public void GlobalAvgPoolBackward(DeviceSpan dx, DeviceSpan dy, int planes, int hw)
    {
        Checks.Rows("GlobalAvgPoolBackward", dx, planes, hw, "dx");
        Checks.Vector("GlobalAvgPoolBackward", dy, planes, "dy");
        nint pdx = (nint)SimdDriver.P(dx);
        nint pdy = (nint)SimdDriver.P(dy);
        SimdDriver.ForItems(planes, hw, (first, count) =>
        {
            for (int p = first; p < first + count; p++)
            {
                SimdDriver.FillRange((float*)pdx + (long)p * hw, hw, ((float*)pdy)[p] / hw);
            }
        });
    }

    /// <summary>
    /// The plane offset of the max of window (oh, ow), padding excluded: the first one in row-major order,
    /// as PyTorch picks it (a NaN takes over the max, and a later NaN takes its place).
    /// </summary>
    private static int WindowArgMax(float* xp, in PoolShape s, int oh, int ow)
    {
        int h0 = oh * s.Stride - s.Pad;
        int w0 = ow * s.Stride - s.Pad;
        int hs = Math.Max(h0, 0);
        int he = Math.Min(h0 + s.Kernel, s.H);
        int ws = Math.Max(w0, 0);
        int we = Math.Min(w0 + s.Kernel, s.W);
        int best = hs * s.W + ws;
        float max = float.NegativeInfinity;
        for (int h = hs; h < he; h++)
        {
            for (int w = ws; w < we; w++)
            {
                float v = xp[h * s.W + w];
                if (v > max || float.IsNaN(v))
                {
                    max = v;
                    best = h * s.W + w;
                }
            }
        }
        return best;
    }
}

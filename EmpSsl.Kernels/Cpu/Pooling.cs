using System.Runtime.Intrinsics;

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
            // The max of the window's rows, per input column: the vertical half of each window in vectors.
            float* rowMax = stackalloc float[shape.W];
            for (int p = first; p < first + count; p++)
            {
                float* xp = (float*)px + (long)p * shape.H * shape.W;
                float* yp = (float*)py + (long)p * outPlane;
                for (int oh = 0; oh < shape.OutH; oh++)
                {
                    int h0 = oh * shape.Stride - shape.Pad;
                    int hs = Math.Max(h0, 0);
                    int he = Math.Min(h0 + shape.Kernel, shape.H);
                    ShortRows.Copy(rowMax, xp + (long)hs * shape.W, shape.W);
                    for (int h = hs + 1; h < he; h++)
                    {
                        SimdDriver.MapRange(rowMax, rowMax, xp + (long)h * shape.W, shape.W, default(MaxOp));
                    }
                    float* yr = yp + oh * shape.OutW;
                    for (int ow = 0; ow < shape.OutW; ow++)
                    {
                        int w0 = ow * shape.Stride - shape.Pad;
                        int ws = Math.Max(w0, 0);
                        int we = Math.Min(w0 + shape.Kernel, shape.W);
                        float m = rowMax[ws];
                        for (int w = ws + 1; w < we; w++)
                        {
                            m = MathF.Max(m, rowMax[w]);
                        }
                        yr[ow] = m;
                    }
                }
            }
        });
    }

    /// <param name="dx">(Planes, H, W), written</param>
    /// <param name="dy">(Planes, OH, OW)</param>
    /// <param name="x">(Planes, H, W) the forward input</param>
    /// <param name="y">(Planes, OH, OW) the forward output (a NaN there sends the window to the scalar search)</param>
    public void MaxPool2dBackward(DeviceSpan dx, DeviceSpan dy, DeviceSpan x, DeviceSpan y, in PoolShape s)
    {
        Checks.Pool("MaxPool2dBackward", y, x, s);
        Checks.Pool("MaxPool2dBackward", dy, dx, s);
        var shape = s;
        nint pdx = (nint)SimdDriver.P(dx);
        nint pdy = (nint)SimdDriver.P(dy);
        nint px = (nint)SimdDriver.P(x);
        nint py = (nint)SimdDriver.P(y);
        int outPlane = s.OutH * s.OutW;
        int inPlane = s.H * s.W;
        SimdDriver.ForItems(s.Planes, (long)outPlane * s.Kernel * s.Kernel, (first, count) =>
        {
            // Per input column, the max over the window's rows and the first row that holds it.
            float* rowMax = stackalloc float[shape.W + 8];
            int* rowArg = stackalloc int[shape.W + 8];
            for (int p = first; p < first + count; p++)
            {
                float* xp = (float*)px + (long)p * inPlane;
                float* dxp = (float*)pdx + (long)p * inPlane;
                float* dyp = (float*)pdy + (long)p * outPlane;
                float* yp = (float*)py + (long)p * outPlane;
                SimdDriver.FillRange(dxp, inPlane, 0f);
                for (int oh = 0; oh < shape.OutH; oh++)
                {
                    int h0 = oh * shape.Stride - shape.Pad;
                    ColumnArgMax(xp, shape.W, Math.Max(h0, 0), Math.Min(h0 + shape.Kernel, shape.H), rowMax, rowArg);
                    for (int ow = 0; ow < shape.OutW; ow++)
                    {
                        int w0 = ow * shape.Stride - shape.Pad;
                        int ws = Math.Max(w0, 0);
                        int we = Math.Min(w0 + shape.Kernel, shape.W);
                        // The row-major first max: the larger value, or on a tie the higher row.
                        int best = ws;
                        for (int w = ws + 1; w < we; w++)
                        {
                            if (rowMax[w] > rowMax[best] || (rowMax[w] == rowMax[best] && rowArg[w] < rowArg[best]))
                            {
                                best = w;
                            }
                        }
                        int o = oh * shape.OutW + ow;
                        int at = float.IsNaN(yp[o]) ? WindowArgMax(xp, shape, oh, ow) : rowArg[best] * shape.W + best;
                        dxp[at] += dyp[o];
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
    /// For each column w of rows [hs, he): rowMax[w] = the max, rowArg[w] = the first row holding it (a NaN
    /// after the first row is passed over; windows with a NaN max go to <see cref="WindowArgMax"/> instead).
    /// rowMax and rowArg have room for a whole vector past width.
    /// </summary>
    private static void ColumnArgMax(float* xp, int width, int hs, int he, float* rowMax, int* rowArg)
    {
        for (int w = 0; w < width; w += 8)
        {
            int k = Math.Min(8, width - w);
            float* top = xp + (long)hs * width + w;
            var m = k == 8 ? Vector256.Load(top) : SimdDriver.LoadTail(top, k);
            var arg = Vector256.Create(hs);
            for (int h = hs + 1; h < he; h++)
            {
                float* row = xp + (long)h * width + w;
                var v = k == 8 ? Vector256.Load(row) : SimdDriver.LoadTail(row, k);
                var greater = Vector256.GreaterThan(v, m);
                m = Vector256.ConditionalSelect(greater, v, m);
                arg = Vector256.ConditionalSelect(greater.AsInt32(), Vector256.Create(h), arg);
            }
            m.Store(rowMax + w);
            arg.Store(rowArg + w);
        }
    }

    /// <summary>
    /// The plane offset of the max of window (oh, ow), padding excluded: the first one in row-major order,
    /// as PyTorch picks it (a NaN takes over the max, and a later NaN takes its place). The backward's path
    /// for windows whose max is NaN.
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

/// <summary>max(a, b) that propagates NaN, as PyTorch's max pooling does.</summary>
internal readonly struct MaxOp : IBinaryOp
{
    public float Invoke(float a, float b) => MathF.Max(a, b);

    public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);

    public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);
}

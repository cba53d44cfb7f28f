namespace EmpSsl.Kernels.Reference;

public static partial class Ref
{
    /// <summary>
    /// y (Planes, OH, OW) = max of x (Planes, H, W) over each window; padded positions are skipped, never zeros,
    /// so padding never wins the max.
    /// </summary>
    public static void MaxPool2dForward(Span<double> y, ReadOnlySpan<double> x, in PoolShape s)
    {
        CheckPool("MaxPool2dForward", y.Length, x.Length, s);
        for (int p = 0; p < s.Planes; p++)
        {
            for (int i = 0; i < s.OutH; i++)
            {
                for (int j = 0; j < s.OutW; j++)
                {
                    int at = ArgMax(x, s, p, i, j);
                    y[(p * s.OutH + i) * s.OutW + j] = x[at];
                }
            }
        }
    }

    /// <summary>
    /// dx (Planes, H, W) = each dy routed to the first max of its window in row-major order, summed where windows
    /// overlap. The spec finds the max from x again, so y only serves the shape check.
    /// </summary>
    public static void MaxPool2dBackward(Span<double> dx, ReadOnlySpan<double> dy, ReadOnlySpan<double> x, ReadOnlySpan<double> y, in PoolShape s)
    {
        CheckPool("MaxPool2dBackward", y.Length, x.Length, s);
        Need("MaxPool2dBackward", "dy", dy.Length, y.Length);
        Need("MaxPool2dBackward", "dx", dx.Length, x.Length);
        dx.Clear();
        for (int p = 0; p < s.Planes; p++)
        {
            for (int i = 0; i < s.OutH; i++)
            {
                for (int j = 0; j < s.OutW; j++)
                {
                    dx[ArgMax(x, s, p, i, j)] += dy[(p * s.OutH + i) * s.OutW + j];
                }
            }
        }
    }

    /// <summary>y (planes) = mean of each plane of x (planes, hw).</summary>
    public static void GlobalAvgPoolForward(Span<double> y, ReadOnlySpan<double> x, int planes, int hw)
    {
        Need("GlobalAvgPoolForward", "x", x.Length, (long)planes * hw);
        Need("GlobalAvgPoolForward", "y", y.Length, planes);
        for (int p = 0; p < planes; p++)
        {
            double acc = 0;
            for (int i = 0; i < hw; i++)
            {
                acc += x[p * hw + i];
            }
            y[p] = acc / hw;
        }
    }

    /// <summary>dx (planes, hw) = dy (planes) / hw.</summary>
    public static void GlobalAvgPoolBackward(Span<double> dx, ReadOnlySpan<double> dy, int planes, int hw)
    {
        Need("GlobalAvgPoolBackward", "dx", dx.Length, (long)planes * hw);
        Need("GlobalAvgPoolBackward", "dy", dy.Length, planes);
        for (int p = 0; p < planes; p++)
        {
            for (int i = 0; i < hw; i++)
            {
                dx[p * hw + i] = dy[p] / hw;
            }
        }
    }

    /// <summary>The flat index into x of the first strictly largest value in window (i, j) of plane p, row-major.</summary>
    private static int ArgMax(ReadOnlySpan<double> x, in PoolShape s, int p, int i, int j)
    {
        int best = -1;
        for (int r = 0; r < s.Kernel; r++)
        {
            int h = i * s.Stride - s.Pad + r;
            if (h < 0 || h >= s.H)
            {
                continue;
            }
            for (int q = 0; q < s.Kernel; q++)
            {
                int w = j * s.Stride - s.Pad + q;
                if (w < 0 || w >= s.W)
                {
                    continue;
                }
                int at = (p * s.H + h) * s.W + w;
                if (best < 0 || x[at] > x[best])
                {
                    best = at;
                }
            }
        }
        if (best < 0)
        {
            throw new ShapeMismatchException($"Ref.MaxPool2d: window ({i}, {j}) of {s} with pad {s.Pad} holds no input");
        }
        return best;
    }

    private static void CheckPool(string op, int yLength, int xLength, in PoolShape s)
    {
        Need(op, "x", xLength, (long)s.Planes * s.H * s.W);
        Need(op, "y", yLength, (long)s.Planes * s.OutH * s.OutW);
    }
}

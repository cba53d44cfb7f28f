namespace EmpSsl.Kernels.Reference;

public static partial class Ref
{
    /// <summary>
    /// y (N, K, OH, OW) = sum over c, r, q of x (N, C, H, W) at (oh * stride - pad + r, ow * stride - pad + q)
    /// times w (K, C, R, R); input positions outside the image are zero padding.
    /// </summary>
    public static void Conv2dForward(Span<double> y, ReadOnlySpan<double> x, ReadOnlySpan<double> w, in Conv2dShape s)
    {
        CheckConv("Conv2dForward", y.Length, x.Length, w.Length, s);
        int oh = s.OutH, ow = s.OutW;
        for (int n = 0; n < s.N; n++)
        {
            for (int k = 0; k < s.K; k++)
            {
                for (int i = 0; i < oh; i++)
                {
                    for (int j = 0; j < ow; j++)
                    {
                        double acc = 0;
                        for (int c = 0; c < s.C; c++)
                        {
                            for (int r = 0; r < s.R; r++)
                            {
                                int h = i * s.Stride - s.Pad + r;
                                if (h < 0 || h >= s.H)
                                {
                                    continue;
                                }
                                for (int q = 0; q < s.R; q++)
                                {
                                    int v = j * s.Stride - s.Pad + q;
                                    if (v < 0 || v >= s.W)
                                    {
                                        continue;
                                    }
                                    acc += x[((n * s.C + c) * s.H + h) * s.W + v] * w[((k * s.C + c) * s.R + r) * s.R + q];
                                }
                            }
                        }
                        y[((n * s.K + k) * oh + i) * ow + j] = acc;
                    }
                }
            }
        }
    }

    /// <summary>dx (N, C, H, W) = the forward's sums run backwards: each dy element scatters dy * w into the inputs it read.</summary>
    public static void Conv2dBackwardData(Span<double> dx, ReadOnlySpan<double> dy, ReadOnlySpan<double> w, in Conv2dShape s)
    {
        CheckConv("Conv2dBackwardData", dy.Length, dx.Length, w.Length, s);
        dx.Clear();
        int oh = s.OutH, ow = s.OutW;
        for (int n = 0; n < s.N; n++)
        {
            for (int k = 0; k < s.K; k++)
            {
                for (int i = 0; i < oh; i++)
                {
                    for (int j = 0; j < ow; j++)
                    {
                        double g = dy[((n * s.K + k) * oh + i) * ow + j];
                        for (int c = 0; c < s.C; c++)
                        {
                            for (int r = 0; r < s.R; r++)
                            {
                                int h = i * s.Stride - s.Pad + r;
                                if (h < 0 || h >= s.H)
                                {
                                    continue;
                                }
                                for (int q = 0; q < s.R; q++)
                                {
                                    int v = j * s.Stride - s.Pad + q;
                                    if (v < 0 || v >= s.W)
                                    {
                                        continue;
                                    }
                                    dx[((n * s.C + c) * s.H + h) * s.W + v] += g * w[((k * s.C + c) * s.R + r) * s.R + q];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>dw (K, C, R, R) += sum over n, oh, ow of dy times the input each weight met.</summary>
    public static void Conv2dBackwardWeight(Span<double> dw, ReadOnlySpan<double> dy, ReadOnlySpan<double> x, in Conv2dShape s)
    {
        CheckConv("Conv2dBackwardWeight", dy.Length, x.Length, dw.Length, s);
        int oh = s.OutH, ow = s.OutW;
        for (int k = 0; k < s.K; k++)
        {
            for (int c = 0; c < s.C; c++)
            {
                for (int r = 0; r < s.R; r++)
                {
                    for (int q = 0; q < s.R; q++)
                    {
                        double acc = 0;
                        for (int n = 0; n < s.N; n++)
                        {
                            for (int i = 0; i < oh; i++)
                            {
                                int h = i * s.Stride - s.Pad + r;
                                if (h < 0 || h >= s.H)
                                {
                                    continue;
                                }
                                for (int j = 0; j < ow; j++)
                                {
                                    int v = j * s.Stride - s.Pad + q;
                                    if (v < 0 || v >= s.W)
                                    {
                                        continue;
                                    }
                                    acc += dy[((n * s.K + k) * oh + i) * ow + j] * x[((n * s.C + c) * s.H + h) * s.W + v];
                                }
                            }
                        }
                        dw[((k * s.C + c) * s.R + r) * s.R + q] += acc;
                    }
                }
            }
        }
    }

    private static void CheckConv(string op, int yLength, int xLength, int wLength, in Conv2dShape s)
    {
        if (s.OutH <= 0 || s.OutW <= 0)
        {
            throw new ShapeMismatchException($"Ref.{op}: {s} with pad {s.Pad} gives an empty output");
        }
        Need(op, "x", xLength, s.InputLength);
        Need(op, "w", wLength, s.WeightLength);
        Need(op, "y", yLength, s.OutputLength);
    }
}

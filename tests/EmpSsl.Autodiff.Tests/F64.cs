using EmpSsl.Kernels;

namespace EmpSsl.Autodiff.Tests;

/// <summary>
/// Plain float64 forwards of every op, the spec that finite differences differentiate. Written as simple
/// loops on purpose: the tape's float32 kernels are checked against these, never against themselves.
/// </summary>
internal static class F64
{
    /// <summary>c (M, N) = alpha op(a) op(b); a is (M, K) or (K, M) when transA; b is (K, N) or (N, K) when transB.</summary>
    public static double[] Gemm(double[] a, double[] b, int m, int n, int k, bool transA = false, bool transB = false, double alpha = 1)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    s += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                }
                c[i * n + j] = alpha * s;
            }
        }
        return c;
    }

    /// <summary>y (rows, out) = x (rows, in) w^T + bias, w (out, in).</summary>
    public static double[] Linear(double[] x, double[] w, double[]? bias, int rows, int inF, int outF)
    {
        var y = Gemm(x, w, rows, outF, inF, transB: true);
        if (bias is not null)
        {
            for (int r = 0; r < rows; r++)
            {
                for (int o = 0; o < outF; o++)
                {
                    y[r * outF + o] += bias[o];
                }
            }
        }
        return y;
    }

    public static double[] Conv2d(double[] x, double[] w, Conv2dShape s)
    {
        var y = new double[s.OutputLength];
        for (int n = 0; n < s.N; n++)
        {
            for (int k = 0; k < s.K; k++)
            {
                for (int oh = 0; oh < s.OutH; oh++)
                {
                    for (int ow = 0; ow < s.OutW; ow++)
                    {
                        double acc = 0;
                        for (int c = 0; c < s.C; c++)
                        {
                            for (int r = 0; r < s.R; r++)
                            {
                                int ih = oh * s.Stride - s.Pad + r;
                                if (ih < 0 || ih >= s.H)
                                {
                                    continue;
                                }
                                for (int q = 0; q < s.R; q++)
                                {
                                    int iw = ow * s.Stride - s.Pad + q;
                                    if (iw < 0 || iw >= s.W)
                                    {
                                        continue;
                                    }
                                    acc += x[((n * s.C + c) * s.H + ih) * s.W + iw] * w[((k * s.C + c) * s.R + r) * s.R + q];
                                }
                            }
                        }
                        y[((n * s.K + k) * s.OutH + oh) * s.OutW + ow] = acc;
                    }
                }
            }
        }
        return y;
    }

    /// <summary>Training BatchNorm on x (n, c, hw): batch mean and biased variance per channel.</summary>
    public static double[] BatchNormTrain(double[] x, double[] gamma, double[] beta, int n, int c, int hw, double eps = 1e-5)
    {
        var mean = new double[c];
        var variance = new double[c];
        for (int ch = 0; ch < c; ch++)
        {
            double s = 0;
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < hw; j++)
                {
                    s += x[(i * c + ch) * hw + j];
                }
            }
            mean[ch] = s / (n * hw);
            double v = 0;
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < hw; j++)
                {
                    double d = x[(i * c + ch) * hw + j] - mean[ch];
                    v += d * d;
                }
            }
            variance[ch] = v / (n * hw);
        }
        return BatchNormEval(x, gamma, beta, mean, variance, n, c, hw, eps);
    }

    public static double[] BatchNormEval(double[] x, double[] gamma, double[] beta, double[] mean, double[] variance, int n, int c, int hw, double eps = 1e-5)
    {
        var y = new double[x.Length];
        for (int i = 0; i < n; i++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                double inv = 1 / Math.Sqrt(variance[ch] + eps);
                for (int j = 0; j < hw; j++)
                {
                    int at = (i * c + ch) * hw + j;
                    y[at] = gamma[ch] * (x[at] - mean[ch]) * inv + beta[ch];
                }
            }
        }
        return y;
    }

    public static double[] Relu(double[] x) => x.Select(v => Math.Max(v, 0)).ToArray();

    public static double[] Add(double[] a, double[] b) => a.Zip(b, (p, q) => p + q).ToArray();

    public static double[] Scale(double[] x, double alpha) => x.Select(v => alpha * v).ToArray();

    public static double[] MaxPool2d(double[] x, PoolShape s)
    {
        var y = new double[s.Planes * s.OutH * s.OutW];
        for (int p = 0; p < s.Planes; p++)
        {
            for (int oh = 0; oh < s.OutH; oh++)
            {
                for (int ow = 0; ow < s.OutW; ow++)
                {
                    double best = double.NegativeInfinity;
                    for (int r = 0; r < s.Kernel; r++)
                    {
                        for (int q = 0; q < s.Kernel; q++)
                        {
                            int ih = oh * s.Stride - s.Pad + r;
                            int iw = ow * s.Stride - s.Pad + q;
                            if (ih >= 0 && ih < s.H && iw >= 0 && iw < s.W)
                            {
                                best = Math.Max(best, x[(p * s.H + ih) * s.W + iw]);
                            }
                        }
                    }
                    y[(p * s.OutH + oh) * s.OutW + ow] = best;
                }
            }
        }
        return y;
    }

    public static double[] GlobalAvgPool(double[] x, int planes, int hw)
    {
        var y = new double[planes];
        for (int p = 0; p < planes; p++)
        {
            double s = 0;
            for (int j = 0; j < hw; j++)
            {
                s += x[p * hw + j];
            }
            y[p] = s / hw;
        }
        return y;
    }

    public static double[] L2Normalize(double[] x, int rows, int cols, double eps = 1e-12)
    {
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double s = 0;
            for (int j = 0; j < cols; j++)
            {
                s += x[r * cols + j] * x[r * cols + j];
            }
            double norm = Math.Max(Math.Sqrt(s), eps);
            for (int j = 0; j < cols; j++)
            {
                y[r * cols + j] = x[r * cols + j] / norm;
            }
        }
        return y;
    }

    public static double[] RowDot(double[] a, double[] b, int rows, int cols)
    {
        var y = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < cols; j++)
            {
                y[r] += a[r * cols + j] * b[r * cols + j];
            }
        }
        return y;
    }

    public static double[] CosineSimilarity(double[] a, double[] b, int rows, int cols, double eps = 1e-8)
        => RowDot(L2Normalize(a, rows, cols, eps), L2Normalize(b, rows, cols, eps), rows, cols);

    public static double[] MeanOverGroups(double[] x, int groups)
    {
        int len = x.Length / groups;
        var y = new double[len];
        for (int i = 0; i < groups; i++)
        {
            for (int j = 0; j < len; j++)
            {
                y[j] += x[i * len + j] / groups;
            }
        }
        return y;
    }

    /// <summary>log det of each SPD a (batch, n, n) by a plain Cholesky of its lower triangle.</summary>
    public static double[] LogDet(double[] a, int n, int batch)
    {
        var y = new double[batch];
        for (int b = 0; b < batch; b++)
        {
            var l = new double[n * n];
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    double s = a[b * n * n + i * n + j];
                    for (int p = 0; p < j; p++)
                    {
                        s -= l[i * n + p] * l[j * n + p];
                    }
                    if (i == j)
                    {
                        if (s <= 0)
                        {
                            throw new ArithmeticException($"F64.LogDet: matrix {b} is not positive definite");
                        }
                        l[i * n + i] = Math.Sqrt(s);
                        y[b] += 2 * Math.Log(l[i * n + i]);
                    }
                    else
                    {
                        l[i * n + j] = s / l[j * n + j];
                    }
                }
            }
        }
        return y;
    }

    /// <summary>
    /// The EMP-SSL loss straight from the formula, always on the d side: R(Z) = 1/2 logdet(I_d + d/(b eps) Z^T Z),
    /// so agreement with the tape (which takes the b side when b &lt; d) also checks Sylvester's identity.
    /// </summary>
    public static (double Loss, double CodingRate, double Cosine) EmpSsl(double[] z, int views, int d, double lambda = 200, double eps = 0.2)
    {
        int b = z.Length / (views * d);
        double scale = d / (b * eps);
        double rate = 0;
        for (int i = 0; i < views; i++)
        {
            var zi = z.AsSpan(i * b * d, b * d).ToArray();
            var gram = Gemm(zi, zi, d, d, b, transA: true, alpha: scale);
            for (int j = 0; j < d; j++)
            {
                gram[j * d + j] += 1;
            }
            rate += 0.5 * LogDet(gram, d, 1)[0];
        }
        rate /= views;
        var mean = MeanOverGroups(z, views);
        var repeated = Enumerable.Repeat(mean, views).SelectMany(v => v).ToArray();
        double cosine = CosineSimilarity(z, repeated, views * b, d).Average();
        return (-rate - lambda * cosine, rate, cosine);
    }
}

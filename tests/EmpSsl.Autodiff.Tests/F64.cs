using EmpSsl.Kernels;
using EmpSsl.Kernels.Reference;

namespace EmpSsl.Autodiff.Tests;

/// <summary>
/// Float64 forwards, the spec that finite differences differentiate: each op is the project's reference
/// (<see cref="Ref"/>, plain loops) in a form that returns its result, plus the few compositions the tape
/// builds out of several kernels (MeanOverGroups, cosine similarity, the EMP-SSL objective).
/// The tape's float32 kernels are checked against these, never against themselves.
/// </summary>
internal static class F64
{
    /// <summary>c (M, N) = alpha op(a) op(b); a is (M, K) or (K, M) when transA; b is (K, N) or (N, K) when transB.</summary>
    public static double[] Gemm(double[] a, double[] b, int m, int n, int k, bool transA = false, bool transB = false, double alpha = 1)
    {
        var c = new double[m * n];
        Ref.Gemm(c, a, b, new GemmShape(m, n, k, transA, transB));
        return Scale(c, alpha);
    }

    /// <summary>y (rows, out) = x (rows, in) w^T + bias, w (out, in).</summary>
    public static double[] Linear(double[] x, double[] w, double[]? bias, int rows, int inF, int outF)
    {
        var y = Gemm(x, w, rows, outF, inF, transB: true);
        if (bias is not null)
        {
            Ref.AddBias(y, bias, rows, outF);
        }
        return y;
    }

    public static double[] Conv2d(double[] x, double[] w, Conv2dShape s)
    {
        var y = new double[s.OutputLength];
        Ref.Conv2dForward(y, x, w, s);
        return y;
    }

    /// <summary>Training BatchNorm on x (n, c, hw): batch mean and biased variance per channel.</summary>
    public static double[] BatchNormTrain(double[] x, double[] gamma, double[] beta, int n, int c, int hw)
    {
        var y = new double[x.Length];
        Ref.BatchNormForwardTrain(y, new double[c], new double[c], new double[c], new double[c], x, gamma, beta, new BatchNormShape(n, c, hw));
        return y;
    }

    public static double[] BatchNormEval(double[] x, double[] gamma, double[] beta, double[] mean, double[] variance, int n, int c, int hw)
    {
        var y = new double[x.Length];
        Ref.BatchNormForwardEval(y, x, gamma, beta, mean, variance, new BatchNormShape(n, c, hw));
        return y;
    }

    public static double[] Relu(double[] x)
    {
        var y = new double[x.Length];
        Ref.Relu(y, x);
        return y;
    }

    public static double[] Add(double[] a, double[] b)
    {
        var y = new double[a.Length];
        Ref.Add(y, a, b);
        return y;
    }

    public static double[] Scale(double[] x, double alpha)
    {
        var y = new double[x.Length];
        Ref.Scale(y, x, alpha);
        return y;
    }

    public static double[] MaxPool2d(double[] x, PoolShape s)
    {
        var y = new double[s.Planes * s.OutH * s.OutW];
        Ref.MaxPool2dForward(y, x, s);
        return y;
    }

    public static double[] GlobalAvgPool(double[] x, int planes, int hw)
    {
        var y = new double[planes];
        Ref.GlobalAvgPoolForward(y, x, planes, hw);
        return y;
    }

    public static double[] L2Normalize(double[] x, int rows, int cols, double eps = 1e-12)
    {
        var y = new double[x.Length];
        Ref.L2NormalizeRows(y, new double[rows], x, rows, cols, eps);
        return y;
    }

    public static double[] RowDot(double[] a, double[] b, int rows, int cols)
    {
        var y = new double[rows];
        Ref.RowDot(y, a, b, rows, cols);
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

    /// <summary>log det of each SPD a (batch, n, n), by the reference Cholesky.</summary>
    public static double[] LogDet(double[] a, int n, int batch)
    {
        var y = new double[batch];
        Ref.Cholesky(new double[a.Length], y, a, n, batch);
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

namespace EmpSsl.Kernels.Reference;

public static partial class Ref
{
    /// <summary>
    /// Training-mode BatchNorm over x, y (N, C, HW); gamma, beta, saveMean, saveInvStd, runningMean, runningVar (C).
    /// Normalizes with the biased batch variance; the running variance takes the unbiased one (count / (count - 1)),
    /// as PyTorch does. saveInvStd = 1 / sqrt(biased var + eps).
    /// </summary>
    public static void BatchNormForwardTrain(
        Span<double> y, Span<double> saveMean, Span<double> saveInvStd, Span<double> runningMean, Span<double> runningVar,
        ReadOnlySpan<double> x, ReadOnlySpan<double> gamma, ReadOnlySpan<double> beta, in BatchNormShape s)
    {
        CheckBatchNorm("BatchNormForwardTrain", s, x.Length, y.Length, saveMean.Length, saveInvStd.Length,
            runningMean.Length, runningVar.Length, gamma.Length, beta.Length);
        int count = s.N * s.HW;
        for (int c = 0; c < s.C; c++)
        {
            double sum = 0;
            for (int n = 0; n < s.N; n++)
            {
                for (int i = 0; i < s.HW; i++)
                {
                    sum += x[(n * s.C + c) * s.HW + i];
                }
            }
            double mean = sum / count;
            double sq = 0;
            for (int n = 0; n < s.N; n++)
            {
                for (int i = 0; i < s.HW; i++)
                {
                    double d = x[(n * s.C + c) * s.HW + i] - mean;
                    sq += d * d;
                }
            }
            double variance = sq / count;
            double invStd = 1 / Math.Sqrt(variance + s.Eps);
            for (int n = 0; n < s.N; n++)
            {
                for (int i = 0; i < s.HW; i++)
                {
                    int at = (n * s.C + c) * s.HW + i;
                    y[at] = Activate(gamma[c] * (x[at] - mean) * invStd + beta[c], s);
                }
            }
            saveMean[c] = mean;
            saveInvStd[c] = invStd;
            // PyTorch refuses count == 1 in training; the spec keeps the update finite instead of dividing by zero.
            double unbiased = count > 1 ? sq / (count - 1) : variance;
            double m = s.Momentum;
            runningMean[c] = (1 - m) * runningMean[c] + m * mean;
            runningVar[c] = (1 - m) * runningVar[c] + m * unbiased;
        }
    }

    /// <summary>Eval-mode BatchNorm: y = gamma (x - runningMean) / sqrt(runningVar + eps) + beta.</summary>
    public static void BatchNormForwardEval(
        Span<double> y, ReadOnlySpan<double> x, ReadOnlySpan<double> gamma, ReadOnlySpan<double> beta,
        ReadOnlySpan<double> runningMean, ReadOnlySpan<double> runningVar, in BatchNormShape s)
    {
        CheckBatchNorm("BatchNormForwardEval", s, x.Length, y.Length, gamma.Length, beta.Length, runningMean.Length, runningVar.Length);
        for (int n = 0; n < s.N; n++)
        {
            for (int c = 0; c < s.C; c++)
            {
                double invStd = 1 / Math.Sqrt(runningVar[c] + s.Eps);
                for (int i = 0; i < s.HW; i++)
                {
                    int at = (n * s.C + c) * s.HW + i;
                    y[at] = Activate(gamma[c] * (x[at] - runningMean[c]) * invStd + beta[c], s);
                }
            }
        }
    }

    /// <summary>
    /// Training-mode backward through the batch statistics, with xhat = (x - mean) invStd and M = N * HW:
    /// dbeta += sum dy, dgamma += sum dy xhat, dx = gamma invStd / M (M dy - sum dy - xhat sum dy xhat).
    /// With s.Relu, dy is first masked where gamma xhat + beta &lt;= 0 (the ReLU's backward).
    /// </summary>
    public static void BatchNormBackward(
        Span<double> dx, Span<double> dgamma, Span<double> dbeta, ReadOnlySpan<double> dy, ReadOnlySpan<double> x,
        ReadOnlySpan<double> gamma, ReadOnlySpan<double> beta, ReadOnlySpan<double> saveMean, ReadOnlySpan<double> saveInvStd,
        in BatchNormShape s)
    {
        Need("BatchNormBackward", "dy", dy.Length, s.Length);
        CheckBatchNorm("BatchNormBackward", s, x.Length, dx.Length, dgamma.Length, dbeta.Length,
            gamma.Length, beta.Length, saveMean.Length, saveInvStd.Length);
        int count = s.N * s.HW;
        var g = new double[dy.Length];
        for (int at = 0; at < g.Length; at++)
        {
            int c = at / s.HW % s.C;
            bool open = !s.Relu || gamma[c] * (x[at] - saveMean[c]) * saveInvStd[c] + beta[c] > 0;
            g[at] = open ? dy[at] : 0;
        }
        dy = g;
        for (int c = 0; c < s.C; c++)
        {
            double sumDy = 0;
            double sumDyXhat = 0;
            for (int n = 0; n < s.N; n++)
            {
                for (int i = 0; i < s.HW; i++)
                {
                    int at = (n * s.C + c) * s.HW + i;
                    double xhat = (x[at] - saveMean[c]) * saveInvStd[c];
                    sumDy += dy[at];
                    sumDyXhat += dy[at] * xhat;
                }
            }
            dbeta[c] += sumDy;
            dgamma[c] += sumDyXhat;
            double k = gamma[c] * saveInvStd[c] / count;
            for (int n = 0; n < s.N; n++)
            {
                for (int i = 0; i < s.HW; i++)
                {
                    int at = (n * s.C + c) * s.HW + i;
                    double xhat = (x[at] - saveMean[c]) * saveInvStd[c];
                    dx[at] = k * (count * dy[at] - sumDy - xhat * sumDyXhat);
                }
            }
        }
    }

    /// <summary>BatchNorm's output, through the fused ReLU where the shape asks for it.</summary>
    private static double Activate(double v, in BatchNormShape s) => s.Relu ? Math.Max(v, 0) : v;

    /// <summary>x and y are (N, C, HW); every other length must be C.</summary>
    private static void CheckBatchNorm(string op, in BatchNormShape s, int xLength, int yLength, params int[] perChannel)
    {
        Need(op, "x", xLength, s.Length);
        Need(op, "y", yLength, s.Length);
        foreach (int n in perChannel)
        {
            Need(op, "a per-channel vector", n, s.C);
        }
    }
}

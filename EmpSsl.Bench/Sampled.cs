using EmpSsl.Kernels;

namespace EmpSsl.Bench;

/// <summary>
/// Float64 checks of single output entries, so quick mode can validate big shapes before timing them without
/// running the whole float64 reference (a full reference convolution at batch 64 takes seconds per pass).
/// Each function computes one entry straight from the definition.
/// </summary>
internal static class Sampled
{
    public static double GemmEntry(float[] a, float[] b, in GemmShape s, int i, int j)
    {
        double sum = 0;
        for (int k = 0; k < s.K; k++)
        {
            double av = s.TransA ? a[(long)k * s.M + i] : a[(long)i * s.K + k];
            double bv = s.TransB ? b[(long)j * s.K + k] : b[(long)k * s.N + j];
            sum += av * bv;
        }
        return s.Alpha * sum;
    }

    /// <summary>y[n, k, oh, ow].</summary>
    public static double ConvForwardEntry(float[] x, float[] w, in Conv2dShape s, int n, int k, int oh, int ow)
    {
        double sum = 0;
        for (int c = 0; c < s.C; c++)
        {
            for (int r = 0; r < s.R; r++)
            {
                int h = oh * s.Stride - s.Pad + r;
                if (h < 0 || h >= s.H)
                {
                    continue;
                }
                for (int q = 0; q < s.R; q++)
                {
                    int wi = ow * s.Stride - s.Pad + q;
                    if (wi < 0 || wi >= s.W)
                    {
                        continue;
                    }
                    sum += (double)x[((long)(n * s.C + c) * s.H + h) * s.W + wi] * w[((k * s.C + c) * s.R + r) * s.R + q];
                }
            }
        }
        return sum;
    }

    /// <summary>dx[n, c, h, wi]: every output position whose window covers (h, wi).</summary>
    public static double ConvBackwardDataEntry(float[] dy, float[] w, in Conv2dShape s, int n, int c, int h, int wi)
    {
        double sum = 0;
        for (int k = 0; k < s.K; k++)
        {
            for (int r = 0; r < s.R; r++)
            {
                int t = h + s.Pad - r;
                if (t < 0 || t % s.Stride != 0 || t / s.Stride >= s.OutH)
                {
                    continue;
                }
                for (int q = 0; q < s.R; q++)
                {
                    int u = wi + s.Pad - q;
                    if (u < 0 || u % s.Stride != 0 || u / s.Stride >= s.OutW)
                    {
                        continue;
                    }
                    sum += (double)dy[((long)(n * s.K + k) * s.OutH + t / s.Stride) * s.OutW + u / s.Stride] * w[((k * s.C + c) * s.R + r) * s.R + q];
                }
            }
        }
        return sum;
    }

    /// <summary>dw[k, c, r, q] from zero.</summary>
    public static double ConvBackwardWeightEntry(float[] dy, float[] x, in Conv2dShape s, int k, int c, int r, int q)
    {
        double sum = 0;
        for (int n = 0; n < s.N; n++)
        {
            for (int oh = 0; oh < s.OutH; oh++)
            {
                int h = oh * s.Stride - s.Pad + r;
                if (h < 0 || h >= s.H)
                {
                    continue;
                }
                for (int ow = 0; ow < s.OutW; ow++)
                {
                    int wi = ow * s.Stride - s.Pad + q;
                    if (wi < 0 || wi >= s.W)
                    {
                        continue;
                    }
                    sum += (double)dy[((long)(n * s.K + k) * s.OutH + oh) * s.OutW + ow] * x[((long)(n * s.C + c) * s.H + h) * s.W + wi];
                }
            }
        }
        return sum;
    }

    /// <summary>Biased mean and variance of channel c of x (N, C, HW).</summary>
    public static (double Mean, double Var) ChannelMoments(float[] x, in BatchNormShape s, int c)
    {
        double sum = 0;
        double sq = 0;
        for (int n = 0; n < s.N; n++)
        {
            long o = (long)(n * s.C + c) * s.HW;
            for (int i = 0; i < s.HW; i++)
            {
                sum += x[o + i];
            }
        }
        double mean = sum / ((double)s.N * s.HW);
        for (int n = 0; n < s.N; n++)
        {
            long o = (long)(n * s.C + c) * s.HW;
            for (int i = 0; i < s.HW; i++)
            {
                double d = x[o + i] - mean;
                sq += d * d;
            }
        }
        return (mean, sq / ((double)s.N * s.HW));
    }

    /// <summary>Tracks max |got - ref| and max |ref| over the checked entries.</summary>
    public sealed class Error
    {
        private double _maxErr;
        private double _maxRef;

        public void Add(double reference, double got)
        {
            _maxErr = Math.Max(_maxErr, Math.Abs(got - reference));
            if (double.IsNaN(got))
            {
                _maxErr = double.PositiveInfinity;
            }
            _maxRef = Math.Max(_maxRef, Math.Abs(reference));
        }

        public double Relative => _maxErr / Math.Max(_maxRef, 1e-30);
    }
}

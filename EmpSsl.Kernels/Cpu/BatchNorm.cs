using System.Runtime.InteropServices;

namespace EmpSsl.Kernels.Cpu;

// BatchNorm over x (N, C, HW), statistics per channel over N*HW values.
// Gradient rule: dx is written (=); dgamma and dbeta accumulate (+=).
public sealed unsafe partial class CpuKernels
{
    /// <summary>
    /// From this HW up, rows of HW floats are long enough to sweep one at a time: the forward sums them in
    /// memory order (a quarter faster than channel by channel, whose 4 KB rows sit a page apart and defeat
    /// the prefetcher), and the backward takes each channel as one task that sums dy and x and writes dx
    /// while they are still in L2. Below it, the sweeps run down the columns of (N, C*HW).
    /// </summary>
    private const int ChannelSweepMinHw = 32;

    /// <param name="y">(N, C, HW), written</param>
    /// <param name="saveMean">(C), written: the batch mean</param>
    /// <param name="saveInvStd">(C), written: 1 / sqrt(biased var + eps)</param>
    /// <param name="runningMean">(C), updated with the momentum</param>
    /// <param name="runningVar">(C), updated with the momentum and the unbiased variance</param>
    /// <param name="x">(N, C, HW)</param>
    /// <param name="gamma">(C)</param>
    /// <param name="beta">(C)</param>
    public void BatchNormForwardTrain(
        DeviceSpan y, DeviceSpan saveMean, DeviceSpan saveInvStd, DeviceSpan runningMean, DeviceSpan runningVar,
        DeviceSpan x, DeviceSpan gamma, DeviceSpan beta, in BatchNormShape s)
    {
        Checks.BatchNorm(
            "BatchNormForwardTrain", s, x, ("y", y, false), ("saveMean", saveMean, true), ("saveInvStd", saveInvStd, true),
            ("runningMean", runningMean, true), ("runningVar", runningVar, true), ("gamma", gamma, true), ("beta", beta, true));
        var shape = s;
        nint py = (nint)SimdDriver.P(y);
        nint px = (nint)SimdDriver.P(x);
        nint psm = (nint)SimdDriver.P(saveMean);
        nint psi = (nint)SimdDriver.P(saveInvStd);
        nint prm = (nint)SimdDriver.P(runningMean);
        nint prv = (nint)SimdDriver.P(runningVar);
        nint pg = (nint)SimdDriver.P(gamma);
        nint pb = (nint)SimdDriver.P(beta);
        long m = (long)s.N * s.HW;

        // Saves the statistics of channel c and returns its (mean, scale) for the normalizing sweep.
        (float Mean, float Scale) Finish(int c, double mean, double variance)
        {
            double invStd = 1.0 / Math.Sqrt(variance + shape.Eps);
            double unbiased = m > 1 ? variance * m / (m - 1) : variance;
            double momentum = shape.Momentum;
            ((float*)psm)[c] = (float)mean;
            ((float*)psi)[c] = (float)invStd;
            ((float*)prm)[c] = (float)((1 - momentum) * ((float*)prm)[c] + momentum * mean);
            ((float*)prv)[c] = (float)((1 - momentum) * ((float*)prv)[c] + momentum * unbiased);
            // gamma times the saved (float) invStd, in float: the fused ReLU's backward recomputes this product.
            return ((float)mean, ((float*)pg)[c] * (float)invStd);
        }

        if (s.HW >= ChannelSweepMinHw)
        {
            var means = new float[s.C];
            var scales = new float[s.C];
            var stats = StreamingMoments((float*)px, s);
            for (int c = 0; c < s.C; c++)
            {
                (means[c], scales[c]) = Finish(c, stats[c].Mean, stats[c].Variance);
            }
            var shifts = new ReadOnlySpan<float>((float*)pb, s.C).ToArray();
            Normalize((float*)py, (float*)px, s, means, scales, shifts);
            return;
        }

        int width = s.C * s.HW;
        double* s1 = (double*)NativeMemory.Alloc((nuint)width * 2, sizeof(double));
        double* s2 = s1 + width;
        float* centers = (float*)NativeMemory.Alloc((nuint)width, sizeof(float));
        var mean = new float[s.C];
        var scale = new float[s.C];
        var moments = new (double Mean, double Variance)[s.C];
        try
        {
            // Center the sweep at the mean of the first rows (a second sweep, around the mean, runs only when
            // that estimate is far off; see ChannelMoments).
            int sample = Math.Min(s.N, CenterSampleRows);
            new Span<float>(centers, width).Clear();
            ColumnSweep(s1, s2, (float*)px, (float*)px, centers, sample, width, default(DeviationTerms));
            for (int c = 0; c < s.C; c++)
            {
                mean[c] = (float)(SumChannel(s1, c, s.HW) / ((long)sample * s.HW));
            }
            for (int pass = 0; ; pass++)
            {
                for (int c = 0; c < s.C; c++)
                {
                    new Span<float>(centers + (long)c * s.HW, s.HW).Fill(mean[c]);
                }
                ColumnSweep(s1, s2, (float*)px, (float*)px, centers, s.N, width, default(DeviationTerms));
                bool settled = true;
                for (int c = 0; c < s.C; c++)
                {
                    double d = SumChannel(s1, c, s.HW) / m;
                    double m2 = SumChannel(s2, c, s.HW) / m;
                    settled &= 4 * d * d <= 3 * m2;
                    moments[c] = (mean[c] + d, Math.Max(m2 - d * d, 0));
                }
                if (settled || pass == 1)
                {
                    break;
                }
                for (int c = 0; c < s.C; c++)
                {
                    mean[c] = (float)moments[c].Mean;
                }
            }
            for (int c = 0; c < s.C; c++)
            {
                (mean[c], scale[c]) = Finish(c, moments[c].Mean, moments[c].Variance);
            }
        }
        finally
        {
            NativeMemory.Free(s1);
            NativeMemory.Free(centers);
        }
        var shiftOf = new ReadOnlySpan<float>((float*)pb, s.C).ToArray();
        Normalize((float*)py, (float*)px, s, mean, scale, shiftOf);
    }

    /// <summary>y = (x - mean) * scale + shift per channel, clamped at 0 where the shape fuses the ReLU.</summary>
    private static void Normalize(float* y, float* x, in BatchNormShape s, float[] mean, float[] scale, float[] shift)
    {
        if (s.Relu)
        {
            ApplyChannels(y, x, x, s, mean, scale, shift, scale, default(NormalizeReluOp));
        }
        else
        {
            ApplyChannels(y, x, x, s, mean, scale, shift, scale, default(NormalizeOp));
        }
    }

    /// <summary>dy masked by the fused ReLU, for <see cref="BatchNormBackward"/>; one per thread, as Scratch asks.</summary>
    [ThreadStatic]
    private static float[]? _reluGradient;

    /// <param name="y">(N, C, HW), written</param>
    /// <param name="x">(N, C, HW)</param>
    /// <param name="gamma">(C)</param>
    /// <param name="beta">(C)</param>
    /// <param name="runningMean">(C)</param>
    /// <param name="runningVar">(C)</param>
    public void BatchNormForwardEval(
        DeviceSpan y, DeviceSpan x, DeviceSpan gamma, DeviceSpan beta, DeviceSpan runningMean, DeviceSpan runningVar,
        in BatchNormShape s)
    {
        Checks.BatchNorm(
            "BatchNormForwardEval", s, x, ("y", y, false), ("gamma", gamma, true), ("beta", beta, true),
            ("runningMean", runningMean, true), ("runningVar", runningVar, true));
        var g = S(gamma);
        var rv = S(runningVar);
        var mean = S(runningMean).ToArray();
        var shift = S(beta).ToArray();
        var scale = new float[s.C];
        for (int c = 0; c < s.C; c++)
        {
            scale[c] = (float)(g[c] / Math.Sqrt((double)rv[c] + s.Eps));
        }
        Normalize(SimdDriver.P(y), SimdDriver.P(x), s, mean, scale, shift);
    }

    /// <param name="dx">(N, C, HW), written</param>
    /// <param name="dgamma">(C), accumulated</param>
    /// <param name="dbeta">(C), accumulated</param>
    /// <param name="dy">(N, C, HW)</param>
    /// <param name="x">(N, C, HW) the forward input</param>
    /// <param name="gamma">(C)</param>
    /// <param name="beta">(C), read for the fused ReLU's mask only</param>
    /// <param name="saveMean">(C) from the forward</param>
    /// <param name="saveInvStd">(C) from the forward</param>
    public void BatchNormBackward(
        DeviceSpan dx, DeviceSpan dgamma, DeviceSpan dbeta, DeviceSpan dy, DeviceSpan x, DeviceSpan gamma, DeviceSpan beta,
        DeviceSpan saveMean, DeviceSpan saveInvStd, in BatchNormShape s)
    {
        Checks.BatchNorm(
            "BatchNormBackward", s, x, ("dx", dx, false), ("dy", dy, false), ("dgamma", dgamma, true), ("dbeta", dbeta, true),
            ("gamma", gamma, true), ("beta", beta, true), ("saveMean", saveMean, true), ("saveInvStd", saveInvStd, true));
        var shape = s;
        nint pdx = (nint)SimdDriver.P(dx);
        nint pdy = (nint)SimdDriver.P(dy);
        // The fused ReLU's backward masks dy where the forward's output, recomputed from x with the forward's own
        // floats (scale gamma invStd, shift beta), was not positive: inside both channel sweeps below, or, where the
        // sweeps run down columns, as one masking sweep into scratch first.
        var scales = new float[s.Relu ? s.C : 0];
        var shifts = s.Relu ? S(beta).ToArray() : [];
        var g = S(gamma);
        var invStd = S(saveInvStd);
        for (int c = 0; c < scales.Length; c++)
        {
            scales[c] = g[c] * invStd[c];
        }
        if (s.Relu && s.HW < ChannelSweepMinHw)
        {
            float* masked = Scratch.Floats(ref _reluGradient, s.Length);
            ApplyChannels(masked, (float*)pdy, SimdDriver.P(x), s, S(saveMean).ToArray(), scales, shifts, scales, default(ReluMaskOp));
            pdy = (nint)masked;
        }
        nint px = (nint)SimdDriver.P(x);
        nint pdg = (nint)SimdDriver.P(dgamma);
        nint pdb = (nint)SimdDriver.P(dbeta);
        nint pg = (nint)SimdDriver.P(gamma);
        nint psm = (nint)SimdDriver.P(saveMean);
        nint psi = (nint)SimdDriver.P(saveInvStd);
        long m = (long)s.N * s.HW;
        long rowStride = (long)s.C * s.HW;

        // Accumulates dbeta and dgamma of channel c from sum(dy) and sum(dy (x - mean)); returns dx's parameters.
        (float K, float KMeanDy, float KB) Finish(int c, double sumDy, double sumDyXc)
        {
            double invStd = ((float*)psi)[c];
            ((float*)pdb)[c] = (float)(((float*)pdb)[c] + sumDy);
            ((float*)pdg)[c] = (float)(((float*)pdg)[c] + sumDyXc * invStd);
            double k = ((float*)pg)[c] * invStd;
            return ((float)k, (float)(k * sumDy / m), (float)(k * invStd * invStd * sumDyXc / m));
        }

        if (s.HW >= ChannelSweepMinHw)
        {
            SimdDriver.ForItems(s.C, 5 * m, (first, count) =>
            {
                for (int c = first; c < first + count; c++)
                {
                    long o0 = (long)c * shape.HW;
                    float mean = ((float*)psm)[c];
                    double sumDy = 0;
                    double sumDyXc = 0;
                    var relu = shape.Relu ? new ReluGradientTerms(scales[c], shifts[c]) : default;
                    for (int n = 0; n < shape.N; n++)
                    {
                        long o = o0 + n * rowStride;
                        var (a, b) = shape.Relu
                            ? SimdChannels.RowSums((float*)pdy + o, (float*)px + o, shape.HW, mean, relu)
                            : SimdChannels.RowSums((float*)pdy + o, (float*)px + o, shape.HW, mean, default(GradientTerms));
                        sumDy += a;
                        sumDyXc += b;
                    }
                    var (k, ka, kb) = Finish(c, sumDy, sumDyXc);
                    for (int n = 0; n < shape.N; n++)
                    {
                        long o = o0 + n * rowStride;
                        if (shape.Relu)
                        {
                            SimdChannels.Apply((float*)pdx + o, (float*)pdy + o, (float*)px + o, shape.HW, mean, k, ka, kb, new ReluBatchNormGradOp(relu));
                        }
                        else
                        {
                            SimdChannels.Apply((float*)pdx + o, (float*)pdy + o, (float*)px + o, shape.HW, mean, k, ka, kb, default(BatchNormGradOp));
                        }
                    }
                }
            });
            return;
        }

        int width = s.C * s.HW;
        var means = S(saveMean).ToArray();
        var kOf = new float[s.C];
        var kaOf = new float[s.C];
        var kbOf = new float[s.C];
        double* s1 = (double*)NativeMemory.Alloc((nuint)width * 2, sizeof(double));
        double* s2 = s1 + width;
        float* centers = (float*)NativeMemory.Alloc((nuint)width, sizeof(float));
        try
        {
            for (int c = 0; c < s.C; c++)
            {
                new Span<float>(centers + (long)c * s.HW, s.HW).Fill(means[c]);
            }
            ColumnSweep(s1, s2, (float*)pdy, (float*)px, centers, s.N, width, default(GradientTerms));
            for (int c = 0; c < s.C; c++)
            {
                (kOf[c], kaOf[c], kbOf[c]) = Finish(c, SumChannel(s1, c, s.HW), SumChannel(s2, c, s.HW));
            }
        }
        finally
        {
            NativeMemory.Free(s1);
            NativeMemory.Free(centers);
        }
        ApplyChannels((float*)pdx, (float*)pdy, (float*)px, s, means, kOf, kaOf, kbOf, default(BatchNormGradOp));
    }

    /// <summary>
    /// Per-channel mean and biased variance of x (N, C, HW), read once in memory order: each piece of the
    /// batch sums its rows around each channel's first-row mean, and the pieces add in a fixed order.
    /// </summary>
    private static (double Mean, double Variance)[] StreamingMoments(float* x, in BatchNormShape s)
    {
        int channels = s.C;
        int hw = s.HW;
        int rows = s.N;
        long rowStride = (long)channels * hw;
        var centers = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            centers[c] = (float)(SimdReduce.Sum(x + (long)c * hw, hw) / hw);
        }
        int pieces = (int)Math.Clamp((long)rows * rowStride / SimdDriver.ParallelChunk, 1, Math.Min(rows, Environment.ProcessorCount));
        var partial = new double[pieces, 2 * channels];
        nint px = (nint)x;
        Parallel.For(0, pieces, piece =>
        {
            int first = rows * piece / pieces;
            int last = rows * (piece + 1) / pieces;
            for (int n = first; n < last; n++)
            {
                for (int c = 0; c < channels; c++)
                {
                    float* row = (float*)px + n * rowStride + (long)c * hw;
                    var (a, b) = SimdChannels.RowSums(row, row, hw, centers[c], default(DeviationTerms));
                    partial[piece, c] += a;
                    partial[piece, channels + c] += b;
                }
            }
        });
        long m = (long)rows * hw;
        var moments = new (double Mean, double Variance)[channels];
        for (int c = 0; c < channels; c++)
        {
            double s1 = 0;
            double s2 = 0;
            for (int piece = 0; piece < pieces; piece++)
            {
                s1 += partial[piece, c];
                s2 += partial[piece, channels + c];
            }
            double d = s1 / m;
            double m2 = s2 / m;
            moments[c] = 4 * d * d <= 3 * m2
                ? (centers[c] + d, Math.Max(m2 - d * d, 0))
                : ChannelMoments(x + (long)c * hw, rows, rowStride, hw);
        }
        return moments;
    }

    /// <summary>Rows whose mean centers the column sweeps of small-HW BatchNorm.</summary>
    private const int CenterSampleRows = 32;

    /// <summary>
    /// Mean and biased variance of one channel: N rows of hw floats, rowStride apart. One pass around the
    /// first row's mean suffices when the mean lies within sqrt(3) standard deviations of it (the shifted
    /// formula var = E[(x - c)^2] - (mean - c)^2 then loses at most a factor 4); otherwise a second pass
    /// runs around the mean.
    /// </summary>
    private static (double Mean, double Variance) ChannelMoments(float* xc, int n, long rowStride, int hw)
    {
        long m = (long)n * hw;
        float center = (float)(SimdReduce.Sum(xc, hw) / hw);
        for (int pass = 0; ; pass++)
        {
            double s1 = 0;
            double s2 = 0;
            for (int i = 0; i < n; i++)
            {
                float* row = xc + i * rowStride;
                var (a, b) = SimdChannels.RowSums(row, row, hw, center, default(DeviationTerms));
                s1 += a;
                s2 += b;
            }
            double d = s1 / m;
            double m2 = s2 / m;
            if (4 * d * d <= 3 * m2 || pass == 1)
            {
                return (center + d, Math.Max(m2 - d * d, 0));
            }
            center = (float)(center + d);
        }
    }

    /// <summary>Column sums over the (rows, width) matrices a and b, zeroing s1 and s2 first; chunks of columns run in parallel.</summary>
    private static void ColumnSweep<TOp>(double* s1, double* s2, float* a, float* b, float* centers, int rows, int width, TOp op)
        where TOp : struct, IPairTerms
    {
        new Span<double>(s1, width).Clear();
        new Span<double>(s2, width).Clear();
        nint p1 = (nint)s1;
        nint p2 = (nint)s2;
        nint pa = (nint)a;
        nint pb = (nint)b;
        nint pc = (nint)centers;
        int chunks = (width + SimdChannels.ColumnChunk - 1) / SimdChannels.ColumnChunk;
        SimdDriver.ForItems(chunks, (long)rows * SimdChannels.ColumnChunk, (first, count) =>
        {
            for (int t = first; t < first + count; t++)
            {
                int j = t * SimdChannels.ColumnChunk;
                SimdChannels.ColumnSums(
                    (double*)p1 + j, (double*)p2 + j, (float*)pa + j, (float*)pb + j, (float*)pc + j, rows, width,
                    Math.Min(SimdChannels.ColumnChunk, width - j), op);
            }
        });
    }

    private static double SumChannel(double* sums, int c, int hw)
    {
        double total = 0;
        for (int i = 0; i < hw; i++)
        {
            total += sums[(long)c * hw + i];
        }
        return total;
    }

    /// <summary>out = op(a, b) over (N, C, HW) with per-channel parameters p0..p3 (C).</summary>
    private static void ApplyChannels<TOp>(float* y, float* a, float* b, in BatchNormShape s, float[] p0, float[] p1, float[] p2, float[] p3, TOp op)
        where TOp : struct, IChannelOp
    {
        int hw = s.HW;
        int channels = s.C;
        nint py = (nint)y;
        nint pa = (nint)a;
        nint pb = (nint)b;
        if (hw >= ChannelSweepMinHw)
        {
            SimdDriver.ForItems(s.N * channels, hw, (first, count) =>
            {
                for (int row = first; row < first + count; row++)
                {
                    int c = row % channels;
                    long o = (long)row * hw;
                    SimdChannels.Apply((float*)py + o, (float*)pa + o, (float*)pb + o, hw, p0[c], p1[c], p2[c], p3[c], op);
                }
            });
            return;
        }
        int width = channels * hw;
        float* expanded = (float*)NativeMemory.Alloc((nuint)width * 4, sizeof(float));
        try
        {
            float[][] ps = [p0, p1, p2, p3];
            for (int k = 0; k < 4; k++)
            {
                for (int c = 0; c < channels; c++)
                {
                    new Span<float>(expanded + (long)k * width + (long)c * hw, hw).Fill(ps[k][c]);
                }
            }
            nint pe = (nint)expanded;
            SimdDriver.ForItems(s.N, 3L * width, (first, count) =>
            {
                float* e = (float*)pe;
                for (int n = first; n < first + count; n++)
                {
                    long o = (long)n * width;
                    SimdChannels.ApplyColumns((float*)py + o, (float*)pa + o, (float*)pb + o, width, e, e + width, e + 2L * width, e + 3L * width, op);
                }
            });
        }
        finally
        {
            NativeMemory.Free(expanded);
        }
    }
}

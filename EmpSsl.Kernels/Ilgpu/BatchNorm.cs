using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace EmpSsl.Kernels.Ilgpu;

// BatchNorm over x (N, C, HW), statistics per channel over its m = N*HW values. Parameter gradients
// accumulate (dgamma +=, dbeta +=); the activation gradient is written (dx =).
//
// The per-channel sums are two-stage so that a few channels still fill the GPU: each channel's m values
// are cut into `splits` contiguous pieces, one group per (channel, piece) writes partial sums to scratch,
// then one thread per channel merges its pieces, then an elementwise kernel writes y or dx. In the
// forward pass each piece keeps its own mean and centred sum of squares (merged by Chan's formula), so a
// large mean costs no precision as it would with sum(x^2) - m mean^2.
public sealed partial class IlgpuKernels
{
    public void BatchNormForwardTrain(DeviceSpan y, DeviceSpan saveMean, DeviceSpan saveInvStd, DeviceSpan runningMean, DeviceSpan runningVar, DeviceSpan x, DeviceSpan gamma, DeviceSpan beta, in BatchNormShape s)
    {
        Checks.BatchNorm("BatchNormForwardTrain", s, x, ("y", y, false), ("saveMean", saveMean, true), ("saveInvStd", saveInvStd, true),
            ("runningMean", runningMean, true), ("runningVar", runningVar, true), ("gamma", gamma, true), ("beta", beta, true));
        int splits = BatchNormSplits(s);
        var partials = ReduceScratch(2L * s.C * splits);
        var planes = new BatchNormPlanes(s);
        Load("BatchNormStatsPartials", a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, BatchNormShape, BatchNormPlanes, int>(BatchNormStatsPartialsKernel))(
            new KernelConfig(s.C * splits, ReduceGroupSize), partials, V(x), s, planes, splits);
        Load("BatchNormStats", a => a.LoadAutoGroupedStreamKernel<
            Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape, int>(BatchNormStatsKernel))(
            s.C, V(saveMean), V(saveInvStd), V(runningMean), V(runningVar), partials, s, splits);
        Load("BatchNormApply", a => a.LoadAutoGroupedStreamKernel<
            Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormPlanes>(BatchNormApplyKernel))(
            s.Length, V(y), V(x), V(gamma), V(beta), V(saveMean), V(saveInvStd), planes);
    }

    public void BatchNormForwardEval(DeviceSpan y, DeviceSpan x, DeviceSpan gamma, DeviceSpan beta, DeviceSpan runningMean, DeviceSpan runningVar, in BatchNormShape s)
    {
        Checks.BatchNorm("BatchNormForwardEval", s, x, ("y", y, false), ("gamma", gamma, true), ("beta", beta, true),
            ("runningMean", runningMean, true), ("runningVar", runningVar, true));
        Load("BatchNormForwardEval", a => a.LoadAutoGroupedStreamKernel<
            Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape, BatchNormPlanes>(BatchNormForwardEvalKernel))(
            s.Length, V(y), V(x), V(gamma), V(beta), V(runningMean), V(runningVar), s, new BatchNormPlanes(s));
    }

    public void BatchNormBackward(DeviceSpan dx, DeviceSpan dgamma, DeviceSpan dbeta, DeviceSpan dy, DeviceSpan x, DeviceSpan gamma, DeviceSpan saveMean, DeviceSpan saveInvStd, in BatchNormShape s)
    {
        Checks.BatchNorm("BatchNormBackward", s, x, ("dx", dx, false), ("dy", dy, false), ("dgamma", dgamma, true), ("dbeta", dbeta, true),
            ("gamma", gamma, true), ("saveMean", saveMean, true), ("saveInvStd", saveInvStd, true));
        int splits = BatchNormSplits(s);
        var scratch = ReduceScratch(2L * s.C * splits + 2L * s.C);
        var partials = scratch.SubView(0, 2L * s.C * splits);
        var sums = scratch.SubView(2L * s.C * splits, 2L * s.C);
        var planes = new BatchNormPlanes(s);
        Load("BatchNormBackwardPartials", a => a.LoadStreamKernel<
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape, BatchNormPlanes, int>(BatchNormBackwardPartialsKernel))(
            new KernelConfig(s.C * splits, ReduceGroupSize), partials, V(dy), V(x), V(saveMean), V(saveInvStd), s, planes, splits);
        Load("BatchNormBackwardSums", a => a.LoadAutoGroupedStreamKernel<
            Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape, int>(BatchNormBackwardSumsKernel))(
            s.C, sums, V(dgamma), V(dbeta), partials, s, splits);
        Load("BatchNormBackwardData", a => a.LoadAutoGroupedStreamKernel<
            Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape, BatchNormPlanes>(BatchNormBackwardDataKernel))(
            s.Length, V(dx), V(dy), V(x), V(gamma), V(saveMean), V(saveInvStd), sums, s, planes);
    }

    /// <summary>
    /// Pieces per channel: enough groups in all to fill the device once, but at least four values per thread
    /// in each piece, so small batches and many channels (BatchNorm1d) keep one piece.
    /// </summary>
    private int BatchNormSplits(in BatchNormShape s)
    {
        int group = ReduceGroupSize;
        int groupsPerWave = Math.Max(8, Accelerator.NumMultiprocessors * Math.Max(1, Accelerator.MaxNumThreadsPerMultiprocessor / group));
        int wanted = (groupsPerWave + s.C - 1) / s.C;
        int most = Math.Max(1, s.N * s.HW / (4 * group));
        return Math.Clamp(wanted, 1, most);
    }

    /// <summary>
    /// Group b handles piece p = b % splits of channel c = b / splits: partials[b] = its sum,
    /// partials[C * splits + b] = its sum of squares around its own mean.
    /// </summary>
    /// <param name="partials">(2, C, splits)</param>
    /// <param name="x">(N, C, HW)</param>
    internal static void BatchNormStatsPartialsKernel(ArrayView<float> partials, ArrayView<float> x, BatchNormShape s, BatchNormPlanes planes, int splits)
    {
        var shared = SharedMemory.Allocate<float>(ReduceGroup.SharedSlots);
        int c = Grid.IdxX / splits;
        int count = s.N * s.HW;
        int start = PieceStart(count, splits, Grid.IdxX % splits);
        int end = PieceStart(count, splits, Grid.IdxX % splits + 1);
        float sum = 0f;
        for (int i = start + Group.IdxX; i < end; i += Group.DimX)
        {
            sum += x[planes.ChannelOffset(c, i)];
        }
        sum = ReduceGroup.Sum(shared, sum);
        float mean = end > start ? sum / (end - start) : 0f;
        float centred = 0f;
        for (int i = start + Group.IdxX; i < end; i += Group.DimX)
        {
            float d = x[planes.ChannelOffset(c, i)] - mean;
            centred += d * d;
        }
        centred = ReduceGroup.Sum(shared, centred);
        if (Group.IdxX == 0)
        {
            partials[Grid.IdxX] = sum;
            partials[Grid.DimX + Grid.IdxX] = centred;
        }
    }

    /// <summary>
    /// One thread per channel merges its pieces (Chan et al.: M2 = sum of M2_p + m_p (mean_p - mean)^2), then
    /// writes the saved statistics and moves the running ones by Momentum (running variance: unbiased).
    /// </summary>
    /// <param name="saveMean">(C)</param>
    /// <param name="saveInvStd">(C), 1 / sqrt(biased variance + eps)</param>
    /// <param name="runningMean">(C), updated</param>
    /// <param name="runningVar">(C), updated</param>
    /// <param name="partials">(2, C, splits) from BatchNormStatsPartialsKernel</param>
    internal static void BatchNormStatsKernel(
        Index1D c, ArrayView<float> saveMean, ArrayView<float> saveInvStd, ArrayView<float> runningMean, ArrayView<float> runningVar,
        ArrayView<float> partials, BatchNormShape s, int splits)
    {
        int count = s.N * s.HW;
        long first = (long)c.X * splits;
        long centredAt = (long)s.C * splits;
        float sum = 0f;
        for (int p = 0; p < splits; p++)
        {
            sum += partials[first + p];
        }
        float mean = sum / count;
        float centred = 0f;
        for (int p = 0; p < splits; p++)
        {
            int size = PieceStart(count, splits, p + 1) - PieceStart(count, splits, p);
            if (size > 0)
            {
                float d = partials[first + p] / size - mean;
                centred += partials[centredAt + first + p] + size * d * d;
            }
        }
        saveMean[c] = mean;
        saveInvStd[c] = XMath.Rsqrt(centred / count + s.Eps);
        // torch refuses to train on one value per channel; the biased variance keeps this finite instead.
        float unbiased = count > 1 ? centred / (count - 1) : centred;
        runningMean[c] = (1f - s.Momentum) * runningMean[c] + s.Momentum * mean;
        runningVar[c] = (1f - s.Momentum) * runningVar[c] + s.Momentum * unbiased;
    }

    /// <summary>y = (x - mean) * invStd * gamma + beta from the batch statistics.</summary>
    /// <param name="y">(N, C, HW)</param>
    /// <param name="x">(N, C, HW)</param>
    /// <param name="gamma">(C)</param>
    /// <param name="beta">(C)</param>
    /// <param name="mean">(C)</param>
    /// <param name="invStd">(C)</param>
    internal static void BatchNormApplyKernel(
        Index1D i, ArrayView<float> y, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> mean, ArrayView<float> invStd, BatchNormPlanes planes)
    {
        int c = planes.Channel(i);
        y[i] = (x[i] - mean[c]) * invStd[c] * gamma[c] + beta[c];
    }

    /// <param name="y">(N, C, HW)</param>
    /// <param name="x">(N, C, HW)</param>
    /// <param name="gamma">(C)</param>
    /// <param name="beta">(C)</param>
    /// <param name="runningMean">(C)</param>
    /// <param name="runningVar">(C)</param>
    internal static void BatchNormForwardEvalKernel(
        Index1D i, ArrayView<float> y, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> runningMean, ArrayView<float> runningVar, BatchNormShape s, BatchNormPlanes planes)
    {
        int c = planes.Channel(i);
        y[i] = (x[i] - runningMean[c]) * XMath.Rsqrt(runningVar[c] + s.Eps) * gamma[c] + beta[c];
    }

    /// <summary>
    /// Group b handles piece b % splits of channel b / splits, with xhat = (x - mean) * invStd:
    /// partials[b] = its sum of dy, partials[C * splits + b] = its sum of dy * xhat.
    /// </summary>
    /// <param name="partials">(2, C, splits)</param>
    /// <param name="dy">(N, C, HW)</param>
    /// <param name="x">(N, C, HW)</param>
    /// <param name="mean">(C)</param>
    /// <param name="invStd">(C)</param>
    internal static void BatchNormBackwardPartialsKernel(
        ArrayView<float> partials, ArrayView<float> dy, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invStd, BatchNormShape s,
        BatchNormPlanes planes, int splits)
    {
        var shared = SharedMemory.Allocate<float>(ReduceGroup.SharedSlots);
        int c = Grid.IdxX / splits;
        int count = s.N * s.HW;
        int start = PieceStart(count, splits, Grid.IdxX % splits);
        int end = PieceStart(count, splits, Grid.IdxX % splits + 1);
        float mu = mean[c];
        float sumDy = 0f;
        float sumDyXhat = 0f;
        for (int i = start + Group.IdxX; i < end; i += Group.DimX)
        {
            long at = planes.ChannelOffset(c, i);
            float g = dy[at];
            sumDy += g;
            sumDyXhat += g * (x[at] - mu);
        }
        sumDy = ReduceGroup.Sum(shared, sumDy);
        sumDyXhat = ReduceGroup.Sum(shared, sumDyXhat) * invStd[c];
        if (Group.IdxX == 0)
        {
            partials[Grid.IdxX] = sumDy;
            partials[Grid.DimX + Grid.IdxX] = sumDyXhat;
        }
    }

    /// <summary>One thread per channel: sums[c] = sum(dy), sums[C + c] = sum(dy xhat); dbeta and dgamma take them too.</summary>
    /// <param name="sums">(2, C)</param>
    /// <param name="dgamma">(C), accumulated</param>
    /// <param name="dbeta">(C), accumulated</param>
    /// <param name="partials">(2, C, splits) from BatchNormBackwardPartialsKernel</param>
    internal static void BatchNormBackwardSumsKernel(
        Index1D c, ArrayView<float> sums, ArrayView<float> dgamma, ArrayView<float> dbeta, ArrayView<float> partials, BatchNormShape s, int splits)
    {
        long first = (long)c.X * splits;
        long xhatAt = (long)s.C * splits;
        float sumDy = 0f;
        float sumDyXhat = 0f;
        for (int p = 0; p < splits; p++)
        {
            sumDy += partials[first + p];
            sumDyXhat += partials[xhatAt + first + p];
        }
        sums[c] = sumDy;
        sums[s.C + c] = sumDyXhat;
        dbeta[c] += sumDy;
        dgamma[c] += sumDyXhat;
    }

    /// <summary>dx = gamma * invStd * (dy - sum(dy) / m - xhat sum(dy xhat) / m).</summary>
    /// <param name="dx">(N, C, HW), written</param>
    /// <param name="dy">(N, C, HW)</param>
    /// <param name="x">(N, C, HW)</param>
    /// <param name="gamma">(C)</param>
    /// <param name="mean">(C)</param>
    /// <param name="invStd">(C)</param>
    /// <param name="sums">(2, C) from BatchNormBackwardSumsKernel</param>
    internal static void BatchNormBackwardDataKernel(
        Index1D i, ArrayView<float> dx, ArrayView<float> dy, ArrayView<float> x, ArrayView<float> gamma,
        ArrayView<float> mean, ArrayView<float> invStd, ArrayView<float> sums, BatchNormShape s, BatchNormPlanes planes)
    {
        int c = planes.Channel(i);
        float count = s.N * s.HW;
        float k = invStd[c];
        float xhat = (x[i] - mean[c]) * k;
        dx[i] = gamma[c] * k * (dy[i] - sums[c] / count - xhat * (sums[s.C + c] / count));
    }

    /// <summary>Where piece p of a channel's count values starts: pieces differ in size by at most one.</summary>
    private static int PieceStart(int count, int splits, int p) => (int)((long)count * p / splits);
}

/// <summary>
/// (N, C, HW) index arithmetic for the BatchNorm kernels, with the divisions by HW and C as multiplies
/// (<see cref="ConvDivisor"/>): GPUs have no integer divide, and these kernels split every element's index.
/// </summary>
internal readonly struct BatchNormPlanes(in BatchNormShape s)
{
    private readonly int _c = s.C;
    private readonly int _hw = s.HW;
    private readonly ConvDivisor _byHW = new(s.HW);
    private readonly ConvDivisor _byC = new(s.C);

    /// <summary>The channel of flat index i of (N, C, HW).</summary>
    public int Channel(int i)
    {
        int plane = _byHW.Divide(i);
        return plane - _byC.Divide(plane) * _c;
    }

    /// <summary>Where the i-th of channel c's N*HW values lies in (N, C, HW).</summary>
    public long ChannelOffset(int c, int i)
    {
        int n = _byHW.Divide(i);
        return ((long)n * _c + c) * _hw + (i - n * _hw);
    }
}

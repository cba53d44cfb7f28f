using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace EmpSsl.Kernels.Ilgpu;

// BatchNorm over x (N, C, HW), statistics per channel over N*HW values. Parameter gradients accumulate
// (dgamma +=, dbeta +=); the activation gradient is written (dx =). Training forward and backward run one
// group per channel: its threads stride over the channel's N planes of HW values, and ReduceGroup.Sum
// combines them; the mean is taken first and the variance around it, so a large mean costs no precision.
public sealed partial class IlgpuKernels
{
    public void BatchNormForwardTrain(DeviceSpan y, DeviceSpan saveMean, DeviceSpan saveInvStd, DeviceSpan runningMean, DeviceSpan runningVar, DeviceSpan x, DeviceSpan gamma, DeviceSpan beta, in BatchNormShape s)
    {
        Checks.BatchNorm("BatchNormForwardTrain", s, x, ("y", y, false), ("saveMean", saveMean, true), ("saveInvStd", saveInvStd, true),
            ("runningMean", runningMean, true), ("runningVar", runningVar, true), ("gamma", gamma, true), ("beta", beta, true));
        var kernel = Load("BatchNormForwardTrain", a => a.LoadStreamKernel<
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape>(BatchNormForwardTrainKernel));
        kernel(new KernelConfig(s.C, ReduceGroupSize), V(y), V(saveMean), V(saveInvStd), V(runningMean), V(runningVar), V(x), V(gamma), V(beta), s);
    }

    public void BatchNormForwardEval(DeviceSpan y, DeviceSpan x, DeviceSpan gamma, DeviceSpan beta, DeviceSpan runningMean, DeviceSpan runningVar, in BatchNormShape s)
    {
        Checks.BatchNorm("BatchNormForwardEval", s, x, ("y", y, false), ("gamma", gamma, true), ("beta", beta, true),
            ("runningMean", runningMean, true), ("runningVar", runningVar, true));
        var kernel = Load("BatchNormForwardEval", a => a.LoadAutoGroupedStreamKernel<
            Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape>(BatchNormForwardEvalKernel));
        kernel(s.Length, V(y), V(x), V(gamma), V(beta), V(runningMean), V(runningVar), s);
    }

    public void BatchNormBackward(DeviceSpan dx, DeviceSpan dgamma, DeviceSpan dbeta, DeviceSpan dy, DeviceSpan x, DeviceSpan gamma, DeviceSpan saveMean, DeviceSpan saveInvStd, in BatchNormShape s)
    {
        Checks.BatchNorm("BatchNormBackward", s, x, ("dx", dx, false), ("dy", dy, false), ("dgamma", dgamma, true), ("dbeta", dbeta, true),
            ("gamma", gamma, true), ("saveMean", saveMean, true), ("saveInvStd", saveInvStd, true));
        var kernel = Load("BatchNormBackward", a => a.LoadStreamKernel<
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape>(BatchNormBackwardKernel));
        kernel(new KernelConfig(s.C, ReduceGroupSize), V(dx), V(dgamma), V(dbeta), V(dy), V(x), V(gamma), V(saveMean), V(saveInvStd), s);
    }

    /// <summary>One group per channel c = Grid.IdxX.</summary>
    /// <param name="y">(N, C, HW)</param>
    /// <param name="saveMean">(C), the batch mean</param>
    /// <param name="saveInvStd">(C), 1 / sqrt(biased batch variance + eps)</param>
    /// <param name="runningMean">(C), updated with momentum</param>
    /// <param name="runningVar">(C), updated with momentum from the unbiased batch variance</param>
    /// <param name="x">(N, C, HW)</param>
    /// <param name="gamma">(C)</param>
    /// <param name="beta">(C)</param>
    [UsesBarrier]
    internal static void BatchNormForwardTrainKernel(
        ArrayView<float> y, ArrayView<float> saveMean, ArrayView<float> saveInvStd, ArrayView<float> runningMean, ArrayView<float> runningVar,
        ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, BatchNormShape s)
    {
        var shared = SharedMemory.Allocate<float>(ReduceGroup.SharedSlots);
        int c = Grid.IdxX;
        int count = s.N * s.HW;
        float sum = 0f;
        for (int i = Group.IdxX; i < count; i += Group.DimX)
        {
            sum += x[ChannelOffset(s, c, i)];
        }
        float mean = ReduceGroup.Sum(shared, sum) / count;
        float sumSq = 0f;
        for (int i = Group.IdxX; i < count; i += Group.DimX)
        {
            float d = x[ChannelOffset(s, c, i)] - mean;
            sumSq += d * d;
        }
        float centred = ReduceGroup.Sum(shared, sumSq);
        float invStd = XMath.Rsqrt(centred / count + s.Eps);
        float scale = gamma[c] * invStd;
        float shift = beta[c] - mean * scale;
        for (int i = Group.IdxX; i < count; i += Group.DimX)
        {
            long at = ChannelOffset(s, c, i);
            y[at] = x[at] * scale + shift;
        }
        if (Group.IdxX == 0)
        {
            saveMean[c] = mean;
            saveInvStd[c] = invStd;
            // torch refuses to train on one value per channel; the biased variance keeps this finite instead.
            float unbiased = count > 1 ? centred / (count - 1) : centred;
            runningMean[c] = (1f - s.Momentum) * runningMean[c] + s.Momentum * mean;
            runningVar[c] = (1f - s.Momentum) * runningVar[c] + s.Momentum * unbiased;
        }
    }

    /// <param name="y">(N, C, HW)</param>
    /// <param name="x">(N, C, HW)</param>
    /// <param name="gamma">(C)</param>
    /// <param name="beta">(C)</param>
    /// <param name="runningMean">(C)</param>
    /// <param name="runningVar">(C)</param>
    internal static void BatchNormForwardEvalKernel(
        Index1D i, ArrayView<float> y, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> runningMean, ArrayView<float> runningVar, BatchNormShape s)
    {
        int c = i / s.HW % s.C;
        float scale = gamma[c] * XMath.Rsqrt(runningVar[c] + s.Eps);
        y[i] = (x[i] - runningMean[c]) * scale + beta[c];
    }

    /// <summary>
    /// One group per channel: with xhat = (x - mean) * invStd and m = N*HW,
    /// dx = gamma * invStd / m * (m dy - sum(dy) - xhat sum(dy xhat)), dbeta += sum(dy), dgamma += sum(dy xhat).
    /// </summary>
    /// <param name="dx">(N, C, HW), written</param>
    /// <param name="dgamma">(C), accumulated</param>
    /// <param name="dbeta">(C), accumulated</param>
    /// <param name="dy">(N, C, HW)</param>
    /// <param name="x">(N, C, HW)</param>
    /// <param name="gamma">(C)</param>
    /// <param name="saveMean">(C)</param>
    /// <param name="saveInvStd">(C)</param>
    [UsesBarrier]
    internal static void BatchNormBackwardKernel(
        ArrayView<float> dx, ArrayView<float> dgamma, ArrayView<float> dbeta, ArrayView<float> dy, ArrayView<float> x,
        ArrayView<float> gamma, ArrayView<float> saveMean, ArrayView<float> saveInvStd, BatchNormShape s)
    {
        var shared = SharedMemory.Allocate<float>(ReduceGroup.SharedSlots);
        int c = Grid.IdxX;
        int count = s.N * s.HW;
        float mean = saveMean[c];
        float invStd = saveInvStd[c];
        float sumDy = 0f;
        float sumDyXhat = 0f;
        for (int i = Group.IdxX; i < count; i += Group.DimX)
        {
            long at = ChannelOffset(s, c, i);
            float g = dy[at];
            sumDy += g;
            sumDyXhat += g * (x[at] - mean) * invStd;
        }
        sumDy = ReduceGroup.Sum(shared, sumDy);
        sumDyXhat = ReduceGroup.Sum(shared, sumDyXhat);
        float k = gamma[c] * invStd / count;
        for (int i = Group.IdxX; i < count; i += Group.DimX)
        {
            long at = ChannelOffset(s, c, i);
            float xhat = (x[at] - mean) * invStd;
            dx[at] = k * (count * dy[at] - sumDy - xhat * sumDyXhat);
        }
        if (Group.IdxX == 0)
        {
            dbeta[c] += sumDy;
            dgamma[c] += sumDyXhat;
        }
    }

    /// <summary>Where the i-th of channel c's N*HW values lies in (N, C, HW).</summary>
    private static long ChannelOffset(BatchNormShape s, int c, int i)
    {
        int n = i / s.HW;
        return ((long)n * s.C + c) * s.HW + (i - n * s.HW);
    }
}

using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Util;

namespace EmpSsl.Kernels.Ilgpu;

// BatchNorm over x (N, C, HW), statistics per channel over its m = N*HW values. Parameter gradients
// accumulate (dgamma +=, dbeta +=); the activation gradient is written (dx =).
//
// The per-channel sums are two-stage so that a few channels still fill the GPU: each channel's m values
// are cut into `splits` contiguous pieces, one group per (channel, piece) writes partial sums to scratch,
// then one thread per channel merges its pieces, then an elementwise kernel writes y or dx. In the
// forward pass each piece keeps its own mean and centred sum of squares (merged by Chan's formula), summed in one
// read around a shift near its mean (a second read where the shift lies far out), so a large mean costs no
// precision as it would with sum(x^2) - m mean^2. Where HW is a multiple of 4 the sweeps move 16-byte quads.
public sealed partial class IlgpuKernels
{
    public void BatchNormForwardTrain(DeviceSpan y, DeviceSpan saveMean, DeviceSpan saveInvStd, DeviceSpan runningMean, DeviceSpan runningVar, DeviceSpan x, DeviceSpan gamma, DeviceSpan beta, in BatchNormShape s)
    {
        Checks.BatchNorm("BatchNormForwardTrain", s, x, ("y", y, false), ("saveMean", saveMean, true), ("saveInvStd", saveInvStd, true),
            ("runningMean", runningMean, true), ("runningVar", runningVar, true), ("gamma", gamma, true), ("beta", beta, true));
        int splits = BatchNormSplits(s);
        var partials = ReduceScratch(2L * s.C * splits);
        var planes = new BatchNormPlanes(s);
        if (Quads(s, x))
        {
            Load("BatchNormStatsPartialsQuad", a => a.LoadStreamKernel<ArrayView<float>, ArrayView<Float4>, BatchNormDims, BatchNormPlanes, int>(BatchNormStatsPartialsQuadKernel))(
                new KernelConfig(s.C * splits, ReduceGroupSize), partials, V(x).Cast<Float4>(), new BatchNormDims(s), planes, splits);
        }
        else
        {
            Load("BatchNormStatsPartials", a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, BatchNormDims, BatchNormPlanes, int>(BatchNormStatsPartialsKernel))(
                new KernelConfig(s.C * splits, ReduceGroupSize), partials, V(x), new BatchNormDims(s), planes, splits);
        }
        Load("BatchNormStats", a => a.LoadAutoGroupedStreamKernel<
            Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormDims, int>(BatchNormStatsKernel))(
            s.C, V(saveMean), V(saveInvStd), V(runningMean), V(runningVar), partials, new BatchNormDims(s), splits);
        if (Quads(s, y, x))
        {
            Load("BatchNormApplyQuad", a => a.LoadAutoGroupedStreamKernel<
                Index1D, ArrayView<Float4>, ArrayView<Float4>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormPlanes, int>(BatchNormApplyQuadKernel))(
                s.Length / 4, V(y).Cast<Float4>(), V(x).Cast<Float4>(), V(gamma), V(beta), V(saveMean), V(saveInvStd), planes, s.Relu ? 1 : 0);
            return;
        }
        Load("BatchNormApply", a => a.LoadAutoGroupedStreamKernel<
            Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormPlanes, int>(BatchNormApplyKernel))(
            s.Length, V(y), V(x), V(gamma), V(beta), V(saveMean), V(saveInvStd), planes, s.Relu ? 1 : 0);
    }

    /// <summary>
    /// Whether the elementwise sweeps can take four values per thread as 16-byte loads and stores: HW a multiple of
    /// 4, so the four share a channel, and every view starting on a 16-byte boundary (buffers do; slices may not).
    /// </summary>
    private static bool Quads(in BatchNormShape s, params ReadOnlySpan<DeviceSpan> views) => s.HW % 4 == 0 && Quads(views);

    public void BatchNormForwardEval(DeviceSpan y, DeviceSpan x, DeviceSpan gamma, DeviceSpan beta, DeviceSpan runningMean, DeviceSpan runningVar, in BatchNormShape s)
    {
        Checks.BatchNorm("BatchNormForwardEval", s, x, ("y", y, false), ("gamma", gamma, true), ("beta", beta, true),
            ("runningMean", runningMean, true), ("runningVar", runningVar, true));
        Load("BatchNormForwardEval", a => a.LoadAutoGroupedStreamKernel<
            Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormDims, BatchNormPlanes>(BatchNormForwardEvalKernel))(
            s.Length, V(y), V(x), V(gamma), V(beta), V(runningMean), V(runningVar), new BatchNormDims(s), new BatchNormPlanes(s));
    }

    public void BatchNormBackward(DeviceSpan dx, DeviceSpan dgamma, DeviceSpan dbeta, DeviceSpan dy, DeviceSpan x, DeviceSpan gamma, DeviceSpan beta, DeviceSpan saveMean, DeviceSpan saveInvStd, in BatchNormShape s)
    {
        Checks.BatchNorm("BatchNormBackward", s, x, ("dx", dx, false), ("dy", dy, false), ("dgamma", dgamma, true), ("dbeta", dbeta, true),
            ("gamma", gamma, true), ("beta", beta, true), ("saveMean", saveMean, true), ("saveInvStd", saveInvStd, true));
        int splits = BatchNormSplits(s);
        var scratch = ReduceScratch(2L * s.C * splits + 2L * s.C);
        var partials = scratch.SubView(0, 2L * s.C * splits);
        var sums = scratch.SubView(2L * s.C * splits, 2L * s.C);
        var planes = new BatchNormPlanes(s);
        var affine = new BatchNormAffine(V(gamma), V(beta), V(saveMean), V(saveInvStd), s.Relu);
        if (Quads(s, dy, x))
        {
            Load("BatchNormBackwardPartialsQuad", a => a.LoadStreamKernel<
                ArrayView<float>, ArrayView<Float4>, ArrayView<Float4>, BatchNormAffine, BatchNormDims, BatchNormPlanes, int>(BatchNormBackwardPartialsQuadKernel))(
                new KernelConfig(s.C * splits, ReduceGroupSize), partials, V(dy).Cast<Float4>(), V(x).Cast<Float4>(), affine, new BatchNormDims(s), planes, splits);
        }
        else
        {
            Load("BatchNormBackwardPartials", a => a.LoadStreamKernel<
                ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormAffine, BatchNormDims, BatchNormPlanes, int>(BatchNormBackwardPartialsKernel))(
                new KernelConfig(s.C * splits, ReduceGroupSize), partials, V(dy), V(x), affine, new BatchNormDims(s), planes, splits);
        }
        Load("BatchNormBackwardSums", a => a.LoadAutoGroupedStreamKernel<
            Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormDims, int>(BatchNormBackwardSumsKernel))(
            s.C, sums, V(dgamma), V(dbeta), partials, new BatchNormDims(s), splits);
        if (Quads(s, dx, dy, x))
        {
            Load("BatchNormBackwardDataQuad", a => a.LoadAutoGroupedStreamKernel<
                Index1D, ArrayView<Float4>, ArrayView<Float4>, ArrayView<Float4>, BatchNormAffine, ArrayView<float>, BatchNormDims, BatchNormPlanes>(BatchNormBackwardDataQuadKernel))(
                s.Length / 4, V(dx).Cast<Float4>(), V(dy).Cast<Float4>(), V(x).Cast<Float4>(), affine, sums, new BatchNormDims(s), planes);
            return;
        }
        Load("BatchNormBackwardData", a => a.LoadAutoGroupedStreamKernel<
            Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormAffine, ArrayView<float>, BatchNormDims, BatchNormPlanes>(BatchNormBackwardDataKernel))(
            s.Length, V(dx), V(dy), V(x), affine, sums, new BatchNormDims(s), planes);
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
    /// partials[C * splits + b] = its sum of squares around its own mean. One read of x: the sums run around a
    /// shift, the piece's first value, and M2 = S2 - S1^2 / m. That loses at most a factor 4 of the digits (as in
    /// the cpu backend's StreamingMoments) while the mean lies within sqrt(3) deviations of the shift; a piece
    /// whose shift lies further out reads x again around its mean.
    /// </summary>
    /// <param name="partials">(2, C, splits)</param>
    /// <param name="x">(N, C, HW)</param>
    internal static void BatchNormStatsPartialsKernel(ArrayView<float> partials, ArrayView<float> x, BatchNormDims s, BatchNormPlanes planes, int splits)
    {
        var shared = SharedMemory.Allocate<float>(ReduceGroup.SharedSlots);
        int c = Grid.IdxX / splits;
        int count = s.N * s.HW;
        int start = PieceStart(count, splits, Grid.IdxX % splits);
        int end = PieceStart(count, splits, Grid.IdxX % splits + 1);
        float m = end - start;
        float shift = end > start ? x[planes.ChannelOffset(c, start)] : 0f;
        float s1 = 0f;
        float s2 = 0f;
        int step = Group.DimX;
        int i = start + Group.IdxX;
        // Four loads in flight per thread: one at a time, the sweep ran at about half the H100's bandwidth.
        for (; i + 3 * step < end; i += 4 * step)
        {
            float d0 = x[planes.ChannelOffset(c, i)] - shift;
            float d1 = x[planes.ChannelOffset(c, i + step)] - shift;
            float d2 = x[planes.ChannelOffset(c, i + 2 * step)] - shift;
            float d3 = x[planes.ChannelOffset(c, i + 3 * step)] - shift;
            s1 += (d0 + d1) + (d2 + d3);
            s2 += (d0 * d0 + d1 * d1) + (d2 * d2 + d3 * d3);
        }
        for (; i < end; i += step)
        {
            float d = x[planes.ChannelOffset(c, i)] - shift;
            s1 += d;
            s2 += d * d;
        }
        s1 = ReduceGroup.Sum(shared, s1);
        s2 = ReduceGroup.Sum(shared, s2);
        if (ShiftedMoments(s1, s2, m, shift, out float mean, out float centred))
        {
            centred = 0f;
            for (int k = start + Group.IdxX; k < end; k += step)
            {
                float d = x[planes.ChannelOffset(c, k)] - mean;
                centred += d * d;
            }
            centred = ReduceGroup.Sum(shared, centred);
        }
        WritePiece(partials, mean * m, centred > 0f ? centred : 0f);
    }

    /// <summary>
    /// A piece's mean and centred sum of squares from its sums s1 and s2 of (x - shift) over m values. Returns true
    /// where the shift lies more than sqrt(3) deviations from the mean, so the caller must read x again around the
    /// mean for a centred sum that keeps its digits; the answer is the same in every thread of the group.
    /// </summary>
    private static bool ShiftedMoments(float s1, float s2, float m, float shift, out float mean, out float centred)
    {
        float offset = m > 0f ? s1 / m : 0f;
        mean = shift + offset;
        centred = s2 - s1 * offset;
        return 4f * offset * offset * m > 3f * s2;
    }

    /// <summary>Thread 0 of the group writes its piece's two partial sums: partials[b] and partials[pieces + b].</summary>
    private static void WritePiece(ArrayView<float> partials, float first, float second)
    {
        if (Group.IdxX == 0)
        {
            partials[Grid.IdxX] = first;
            partials[Grid.DimX + Grid.IdxX] = second;
        }
    }

    /// <summary>
    /// <see cref="BatchNormStatsPartialsKernel"/> over quads (HW a multiple of 4): group b sums piece b % splits of
    /// channel b / splits's N*HW/4 quads, 16 bytes per load, two in flight per thread.
    /// </summary>
    /// <param name="partials">(2, C, splits)</param>
    /// <param name="x">(N, C, HW) as quads</param>
    internal static void BatchNormStatsPartialsQuadKernel(ArrayView<float> partials, ArrayView<Float4> x, BatchNormDims s, BatchNormPlanes planes, int splits)
    {
        var shared = SharedMemory.Allocate<float>(ReduceGroup.SharedSlots);
        int c = Grid.IdxX / splits;
        int count = s.N * s.HW / 4;
        int start = PieceStart(count, splits, Grid.IdxX % splits);
        int end = PieceStart(count, splits, Grid.IdxX % splits + 1);
        float m = 4f * (end - start);
        float shift = end > start ? x[planes.ChannelQuadOffset(c, start)].X : 0f;
        float s1 = 0f;
        float s2 = 0f;
        int step = Group.DimX;
        int j = start + Group.IdxX;
        for (; j + step < end; j += 2 * step)
        {
            var u = x[planes.ChannelQuadOffset(c, j)];
            var v = x[planes.ChannelQuadOffset(c, j + step)];
            float u0 = u.X - shift, u1 = u.Y - shift, u2 = u.Z - shift, u3 = u.W - shift;
            float v0 = v.X - shift, v1 = v.Y - shift, v2 = v.Z - shift, v3 = v.W - shift;
            s1 += ((u0 + u1) + (u2 + u3)) + ((v0 + v1) + (v2 + v3));
            s2 += ((u0 * u0 + u1 * u1) + (u2 * u2 + u3 * u3)) + ((v0 * v0 + v1 * v1) + (v2 * v2 + v3 * v3));
        }
        for (; j < end; j += step)
        {
            var u = x[planes.ChannelQuadOffset(c, j)];
            float u0 = u.X - shift, u1 = u.Y - shift, u2 = u.Z - shift, u3 = u.W - shift;
            s1 += (u0 + u1) + (u2 + u3);
            s2 += (u0 * u0 + u1 * u1) + (u2 * u2 + u3 * u3);
        }
        s1 = ReduceGroup.Sum(shared, s1);
        s2 = ReduceGroup.Sum(shared, s2);
        if (ShiftedMoments(s1, s2, m, shift, out float mean, out float centred))
        {
            centred = 0f;
            for (int k = start + Group.IdxX; k < end; k += step)
            {
                var u = x[planes.ChannelQuadOffset(c, k)];
                float u0 = u.X - mean, u1 = u.Y - mean, u2 = u.Z - mean, u3 = u.W - mean;
                centred += (u0 * u0 + u1 * u1) + (u2 * u2 + u3 * u3);
            }
            centred = ReduceGroup.Sum(shared, centred);
        }
        WritePiece(partials, mean * m, centred > 0f ? centred : 0f);
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
        ArrayView<float> partials, BatchNormDims s, int splits)
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

    /// <summary>y = (x - mean) * (gamma * invStd) + beta from the batch statistics, clamped at 0 with the fused ReLU.</summary>
    /// <param name="y">(N, C, HW)</param>
    /// <param name="x">(N, C, HW)</param>
    /// <param name="gamma">(C)</param>
    /// <param name="beta">(C)</param>
    /// <param name="mean">(C)</param>
    /// <param name="invStd">(C)</param>
    /// <param name="relu">1 where the ReLU is fused (<see cref="BatchNormShape.Relu"/>)</param>
    internal static void BatchNormApplyKernel(
        Index1D i, ArrayView<float> y, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> mean, ArrayView<float> invStd, BatchNormPlanes planes, int relu)
    {
        int c = planes.Channel(i);
        y[i] = BatchNormAffine.Output(x[i], mean[c], gamma[c] * invStd[c], beta[c], relu);
    }

    /// <summary><see cref="BatchNormApplyKernel"/> on four neighbouring values of one channel (HW a multiple of 4).</summary>
    internal static void BatchNormApplyQuadKernel(
        Index1D q, ArrayView<Float4> y, ArrayView<Float4> x, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> mean, ArrayView<float> invStd, BatchNormPlanes planes, int relu)
    {
        int c = planes.Channel(4 * q);
        float mu = mean[c];
        float scale = gamma[c] * invStd[c];
        float shift = beta[c];
        var v = x[q];
        y[q] = new Float4(
            BatchNormAffine.Output(v.X, mu, scale, shift, relu), BatchNormAffine.Output(v.Y, mu, scale, shift, relu),
            BatchNormAffine.Output(v.Z, mu, scale, shift, relu), BatchNormAffine.Output(v.W, mu, scale, shift, relu));
    }

    /// <param name="y">(N, C, HW)</param>
    /// <param name="x">(N, C, HW)</param>
    /// <param name="gamma">(C)</param>
    /// <param name="beta">(C)</param>
    /// <param name="runningMean">(C)</param>
    /// <param name="runningVar">(C)</param>
    internal static void BatchNormForwardEvalKernel(
        Index1D i, ArrayView<float> y, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> runningMean, ArrayView<float> runningVar, BatchNormDims s, BatchNormPlanes planes)
    {
        int c = planes.Channel(i);
        float v = (x[i] - runningMean[c]) * (gamma[c] * XMath.Rsqrt(runningVar[c] + s.Eps)) + beta[c];
        y[i] = s.Relu != 0 && v < 0f ? 0f : v;
    }

    /// <summary>
    /// Group b handles piece b % splits of channel b / splits, with xhat = (x - mean) * invStd:
    /// partials[b] = its sum of dy, partials[C * splits + b] = its sum of dy * xhat.
    /// </summary>
    /// <param name="partials">(2, C, splits)</param>
    /// <param name="dy">(N, C, HW), masked by the fused ReLU where there is one</param>
    /// <param name="x">(N, C, HW)</param>
    internal static void BatchNormBackwardPartialsKernel(
        ArrayView<float> partials, ArrayView<float> dy, ArrayView<float> x, BatchNormAffine affine, BatchNormDims s,
        BatchNormPlanes planes, int splits)
    {
        var shared = SharedMemory.Allocate<float>(ReduceGroup.SharedSlots);
        int c = Grid.IdxX / splits;
        int count = s.N * s.HW;
        int start = PieceStart(count, splits, Grid.IdxX % splits);
        int end = PieceStart(count, splits, Grid.IdxX % splits + 1);
        var channel = affine.Of(c);
        float sumDy = 0f;
        float sumDyXhat = 0f;
        int step = Group.DimX;
        int i = start + Group.IdxX;
        // Four of each load in flight per thread, as in BatchNormStatsPartialsKernel.
        for (; i + 3 * step < end; i += 4 * step)
        {
            long a0 = planes.ChannelOffset(c, i);
            long a1 = planes.ChannelOffset(c, i + step);
            long a2 = planes.ChannelOffset(c, i + 2 * step);
            long a3 = planes.ChannelOffset(c, i + 3 * step);
            float x0 = x[a0], x1 = x[a1], x2 = x[a2], x3 = x[a3];
            float g0 = channel.Gradient(dy[a0], x0);
            float g1 = channel.Gradient(dy[a1], x1);
            float g2 = channel.Gradient(dy[a2], x2);
            float g3 = channel.Gradient(dy[a3], x3);
            sumDy += (g0 + g1) + (g2 + g3);
            sumDyXhat += (g0 * (x0 - channel.Mean) + g1 * (x1 - channel.Mean)) + (g2 * (x2 - channel.Mean) + g3 * (x3 - channel.Mean));
        }
        for (; i < end; i += step)
        {
            long at = planes.ChannelOffset(c, i);
            float xv = x[at];
            float g = channel.Gradient(dy[at], xv);
            sumDy += g;
            sumDyXhat += g * (xv - channel.Mean);
        }
        sumDy = ReduceGroup.Sum(shared, sumDy);
        sumDyXhat = ReduceGroup.Sum(shared, sumDyXhat) * channel.InvStd;
        WritePiece(partials, sumDy, sumDyXhat);
    }

    /// <summary><see cref="BatchNormBackwardPartialsKernel"/> over quads (HW a multiple of 4), 16 bytes per load.</summary>
    /// <param name="partials">(2, C, splits)</param>
    /// <param name="dy">(N, C, HW) as quads</param>
    /// <param name="x">(N, C, HW) as quads</param>
    internal static void BatchNormBackwardPartialsQuadKernel(
        ArrayView<float> partials, ArrayView<Float4> dy, ArrayView<Float4> x, BatchNormAffine affine, BatchNormDims s,
        BatchNormPlanes planes, int splits)
    {
        var shared = SharedMemory.Allocate<float>(ReduceGroup.SharedSlots);
        int c = Grid.IdxX / splits;
        int count = s.N * s.HW / 4;
        int start = PieceStart(count, splits, Grid.IdxX % splits);
        int end = PieceStart(count, splits, Grid.IdxX % splits + 1);
        var channel = affine.Of(c);
        float mu = channel.Mean;
        float sumDy = 0f;
        float sumDyXhat = 0f;
        for (int j = start + Group.IdxX; j < end; j += Group.DimX)
        {
            long at = planes.ChannelQuadOffset(c, j);
            var u = x[at];
            var g = dy[at];
            float g0 = channel.Gradient(g.X, u.X);
            float g1 = channel.Gradient(g.Y, u.Y);
            float g2 = channel.Gradient(g.Z, u.Z);
            float g3 = channel.Gradient(g.W, u.W);
            sumDy += (g0 + g1) + (g2 + g3);
            sumDyXhat += (g0 * (u.X - mu) + g1 * (u.Y - mu)) + (g2 * (u.Z - mu) + g3 * (u.W - mu));
        }
        sumDy = ReduceGroup.Sum(shared, sumDy);
        sumDyXhat = ReduceGroup.Sum(shared, sumDyXhat) * channel.InvStd;
        WritePiece(partials, sumDy, sumDyXhat);
    }

    /// <summary>One thread per channel: sums[c] = sum(dy), sums[C + c] = sum(dy xhat); dbeta and dgamma take them too.</summary>
    /// <param name="sums">(2, C)</param>
    /// <param name="dgamma">(C), accumulated</param>
    /// <param name="dbeta">(C), accumulated</param>
    /// <param name="partials">(2, C, splits) from BatchNormBackwardPartialsKernel</param>
    internal static void BatchNormBackwardSumsKernel(
        Index1D c, ArrayView<float> sums, ArrayView<float> dgamma, ArrayView<float> dbeta, ArrayView<float> partials, BatchNormDims s, int splits)
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

    /// <summary>dx = gamma * invStd * (dy - sum(dy) / m - xhat sum(dy xhat) / m), dy masked by the fused ReLU.</summary>
    /// <param name="dx">(N, C, HW), written</param>
    /// <param name="dy">(N, C, HW)</param>
    /// <param name="x">(N, C, HW)</param>
    /// <param name="sums">(2, C) from BatchNormBackwardSumsKernel</param>
    internal static void BatchNormBackwardDataKernel(
        Index1D i, ArrayView<float> dx, ArrayView<float> dy, ArrayView<float> x, BatchNormAffine affine, ArrayView<float> sums,
        BatchNormDims s, BatchNormPlanes planes)
    {
        int c = planes.Channel(i);
        float count = s.N * s.HW;
        var channel = affine.Of(c);
        dx[i] = channel.InputGradient(dy[i], x[i], sums[c] / count, sums[s.C + c] / count);
    }

    /// <summary><see cref="BatchNormBackwardDataKernel"/> on four neighbouring values of one channel (HW a multiple of 4).</summary>
    internal static void BatchNormBackwardDataQuadKernel(
        Index1D q, ArrayView<Float4> dx, ArrayView<Float4> dy, ArrayView<Float4> x, BatchNormAffine affine, ArrayView<float> sums,
        BatchNormDims s, BatchNormPlanes planes)
    {
        int c = planes.Channel(4 * q);
        float count = s.N * s.HW;
        var channel = affine.Of(c);
        float meanDy = sums[c] / count;
        float meanDyXhat = sums[s.C + c] / count;
        var g = dy[q];
        var v = x[q];
        dx[q] = new Float4(
            channel.InputGradient(g.X, v.X, meanDy, meanDyXhat), channel.InputGradient(g.Y, v.Y, meanDy, meanDyXhat),
            channel.InputGradient(g.Z, v.Z, meanDy, meanDyXhat), channel.InputGradient(g.W, v.W, meanDy, meanDyXhat));
    }

    /// <summary>Where piece p of a channel's count values starts: pieces differ in size by at most one.</summary>
    private static int PieceStart(int count, int splits, int p) => (int)((long)count * p / splits);
}

/// <summary>
/// <see cref="BatchNormShape"/> as the kernels take it: ILGPU passes only blittable parameters, and a bool is not.
/// </summary>
internal readonly struct BatchNormDims(in BatchNormShape s)
{
    public readonly int N = s.N;
    public readonly int C = s.C;
    public readonly int HW = s.HW;
    public readonly float Momentum = s.Momentum;
    public readonly float Eps = s.Eps;

    /// <summary>1 where the ReLU is fused.</summary>
    public readonly int Relu = s.Relu ? 1 : 0;
}

/// <summary>
/// What BatchNorm's backward kernels read per channel: gamma and beta, the saved batch statistics, and whether the
/// ReLU that followed is fused (<see cref="BatchNormShape.Relu"/>), whose mask they recompute from x.
/// </summary>
internal readonly struct BatchNormAffine(ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> mean, ArrayView<float> invStd, bool relu)
{
    private readonly ArrayView<float> _gamma = gamma;
    private readonly ArrayView<float> _beta = beta;
    private readonly ArrayView<float> _mean = mean;
    private readonly ArrayView<float> _invStd = invStd;
    private readonly int _relu = relu ? 1 : 0;

    /// <summary>
    /// BatchNorm's output before the ReLU. The forward (BatchNormApplyKernel) and the backward's masks both compute
    /// it through here, from the same floats, so they agree on which elements the ReLU let through.
    /// </summary>
    public static float Normalize(float x, float mean, float scale, float shift) => (x - mean) * scale + shift;

    /// <summary>The forward's output: <see cref="Normalize"/>, clamped at 0 where the ReLU is fused (relu 1).</summary>
    public static float Output(float x, float mean, float scale, float shift, int relu)
    {
        float v = Normalize(x, mean, scale, shift);
        return relu != 0 && v < 0f ? 0f : v;
    }

    public BatchNormChannel Of(int c)
    {
        float invStd = _invStd[c];
        float gamma = _gamma[c];
        return new BatchNormChannel(_mean[c], invStd, gamma * invStd, _beta[c], _relu);
    }
}

/// <summary>One channel's <see cref="BatchNormAffine"/>: Scale = gamma invStd, Shift = beta.</summary>
internal readonly struct BatchNormChannel(float mean, float invStd, float scale, float shift, int relu)
{
    public readonly float Mean = mean;
    public readonly float InvStd = invStd;
    public readonly float Scale = scale;
    public readonly float Shift = shift;
    public readonly int Relu = relu;

    /// <summary>dy, or 0 where the fused ReLU clamped the forward's output at x.</summary>
    public float Gradient(float dy, float x) => Relu != 0 && BatchNormAffine.Normalize(x, Mean, Scale, Shift) <= 0f ? 0f : dy;

    /// <summary>dx = gamma invStd (dy - mean(dy) - xhat mean(dy xhat)), dy masked by the fused ReLU.</summary>
    public float InputGradient(float dy, float x, float meanDy, float meanDyXhat)
        => Scale * (Gradient(dy, x) - meanDy - (x - Mean) * InvStd * meanDyXhat);
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

    /// <summary>
    /// Where the j-th of channel c's N*HW/4 quads lies in (N, C, HW) seen as quads (HW a multiple of 4).
    /// </summary>
    public long ChannelQuadOffset(int c, int j)
    {
        int quads = _hw / 4;
        int n = _byQuads.Divide(j);
        return ((long)n * _c + c) * quads + (j - n * quads);
    }

    private readonly ConvDivisor _byQuads = new(Math.Max(1, s.HW / 4));
}

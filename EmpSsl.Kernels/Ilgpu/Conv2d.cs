using ILGPU;
using ILGPU.Runtime;

namespace EmpSsl.Kernels.Ilgpu;

/// <summary>Whether the ILGPU convolutions prefetch the next stage (<see cref="IStagePolicy"/>).</summary>
public enum ConvPrefetch
{
    /// <summary>Forward and backward-data prefetch on grids of fewer than 3 blocks per multiprocessor; backward-weight always.</summary>
    Auto,

    /// <summary>Every pass prefetches.</summary>
    Always,

    /// <summary>No pass prefetches.</summary>
    Never,
}

/// <summary>
/// NCHW convolution as three implicit GEMMs on the tiling of <see cref="GemmBlock"/>; the im2col matrix is gathered
/// tile by tile into shared memory and never stored. Gradient rule: dx is written, dw accumulates (+=).
///   forward:         y (K, N OH OW)  = w (K, C R R)      x im2col(x) (C R R, N OH OW)
///   backward data:   dx (C, N H W)   = w^T (C, K R R)    x gather(dy) (K R R, N H W), per stride phase
///                    (Stride^2 launches, each over only the taps that reach its pixels; see ConvPhase)
///   backward weight: dw (K, C R R)  += dy (K, N OH OW)   x im2col(x)^T (N OH OW, C R R), split over N OH OW
/// </summary>
public sealed partial class IlgpuKernels
{
    /// <summary>Blocks per multiprocessor that backward-weight's split reduction aims for.</summary>
    private const int ConvSplitBlocksPerMultiprocessor = 8;

    /// <summary>
    /// Below this many blocks per multiprocessor, forward and backward-data prefetch. On the H100 (batch 64) the
    /// 8x8 and 4x4 planes (1-2 blocks per multiprocessor) ran 17-55% faster with it, 32x32 backward-data (8 per
    /// multiprocessor) 15% slower; backward-weight, split to about 8 per multiprocessor, gained 2-4%.
    /// </summary>
    private const int ConvPrefetchBelowBlocksPerMultiprocessor = 3;

    /// <summary>Pins the prefetch choice (the tests run both paths); Auto picks by grid size.</summary>
    public ConvPrefetch ConvPrefetch { get; set; } = ConvPrefetch.Auto;

    private bool PrefetchFor(KernelConfig config, bool weight) => ConvPrefetch switch
    {
        ConvPrefetch.Always => true,
        ConvPrefetch.Never => false,
        _ => weight || config.GridDim.Size < ConvPrefetchBelowBlocksPerMultiprocessor * Accelerator.NumMultiprocessors,
    };

    public void Conv2dForward(DeviceSpan y, DeviceSpan x, DeviceSpan w, in Conv2dShape s)
    {
        Checks.Conv2d("Conv2dForward", y, x, w, s);
        var d = new ConvDims(s);
        int rows = s.K;
        int cols = s.N * s.OutH * s.OutW;
        int depth = s.C * s.R * s.R;
        var config = GemmConfig(rows, cols);
        var kernel = PrefetchFor(config, weight: false)
            ? Load("Conv2dForwardPrefetch", acc => acc.LoadStreamKernel<GemmRowMajor, ConvInputColumns, ConvOutputStore, int, int, int>(Conv2dForwardPrefetchKernel))
            : Load("Conv2dForward", acc => acc.LoadStreamKernel<GemmRowMajor, ConvInputColumns, ConvOutputStore, int, int, int>(Conv2dForwardKernel));
        kernel(config, new GemmRowMajor(V(w), depth), new ConvInputColumns(V(x), d), new ConvOutputStore(V(y), d), rows, cols, depth);
    }

    public void Conv2dBackwardData(DeviceSpan dx, DeviceSpan dy, DeviceSpan w, in Conv2dShape s)
    {
        Checks.Conv2d("Conv2dBackwardData", dy, dx, w, s, yName: "dy", xName: "dx");
        var d = new ConvDims(s);
        for (int ph = 0; ph < s.Stride; ph++)
        {
            for (int pw = 0; pw < s.Stride; pw++)
            {
                var p = new ConvPhase(s, ph, pw);
                int cols = s.N * p.Pixels;
                if (cols == 0)
                {
                    continue;
                }
                // A phase that no tap reaches (1x1 stride 2, odd pixels) runs with depth 0 and writes its zeros.
                var config = GemmConfig(s.C, cols);
                var kernel = PrefetchFor(config, weight: false)
                    ? Load("Conv2dBackwardDataPrefetch", acc => acc.LoadStreamKernel<ConvWeightPhase, ConvGradOutputPhase, ConvInputPhaseStore, int, int, int>(Conv2dBackwardDataPrefetchKernel))
                    : Load("Conv2dBackwardData", acc => acc.LoadStreamKernel<ConvWeightPhase, ConvGradOutputPhase, ConvInputPhaseStore, int, int, int>(Conv2dBackwardDataKernel));
                kernel(config, new ConvWeightPhase(V(w), d, p), new ConvGradOutputPhase(V(dy), d, p), new ConvInputPhaseStore(V(dx), d, p),
                    s.C, cols, s.K * p.Taps);
            }
        }
    }

    public void Conv2dBackwardWeight(DeviceSpan dw, DeviceSpan dy, DeviceSpan x, in Conv2dShape s)
    {
        Checks.Conv2d("Conv2dBackwardWeight", dy, x, dw, s, yName: "dy", wName: "dw");
        var d = new ConvDims(s);
        int rows = s.K;
        int cols = s.C * s.R * s.R;
        int depth = s.N * s.OutH * s.OutW;
        int edge = GemmBlockEdge;
        int blocks = ((rows + edge - 1) / edge) * ((cols + edge - 1) / edge);
        int wanted = Math.Max(1, Accelerator.NumMultiprocessors * ConvSplitBlocksPerMultiprocessor / blocks);
        int splits = Math.Clamp(wanted, 1, (depth + GemmTileK - 1) / GemmTileK);
        int chunk = ((depth + splits - 1) / splits + GemmTileK - 1) / GemmTileK * GemmTileK;
        splits = (depth + chunk - 1) / chunk;
        var config = GemmConfig(rows, cols, splits);
        var kernel = PrefetchFor(config, weight: true)
            ? Load("Conv2dBackwardWeightPrefetch", acc => acc.LoadStreamKernel<ConvGradOutputRows, ConvInputRows, ConvWeightAccumulate, int, int, int, int>(Conv2dBackwardWeightPrefetchKernel))
            : Load("Conv2dBackwardWeight", acc => acc.LoadStreamKernel<ConvGradOutputRows, ConvInputRows, ConvWeightAccumulate, int, int, int, int>(Conv2dBackwardWeightKernel));
        kernel(config, new ConvGradOutputRows(V(dy), d), new ConvInputRows(V(x), d), new ConvWeightAccumulate(V(dw), cols),
            rows, cols, depth, chunk);
    }

    /// <param name="w">(K, C R R)</param>
    /// <param name="x">x (N, C, H, W) seen as (C R R, N OH OW)</param>
    /// <param name="y">y (N, K, OH, OW) seen as (K, N OH OW)</param>
    internal static void Conv2dForwardKernel(GemmRowMajor w, ConvInputColumns x, ConvOutputStore y, int rows, int cols, int depth)
        => GemmGridBlock(w, x, y, default(LoadAfter), rows, cols, depth, depth);

    internal static void Conv2dForwardPrefetchKernel(GemmRowMajor w, ConvInputColumns x, ConvOutputStore y, int rows, int cols, int depth)
        => GemmGridBlock(w, x, y, default(PrefetchNext), rows, cols, depth, depth);

    /// <summary>One stride phase of dx (see <see cref="ConvPhase"/>).</summary>
    /// <param name="w">w (K, C, R, R) at the phase's taps, seen as (C, K Taps)</param>
    /// <param name="dy">dy (N, K, OH, OW) seen as (K Taps, N Pixels)</param>
    /// <param name="dx">dx (N, C, H, W) at the phase's pixels, seen as (C, N Pixels)</param>
    internal static void Conv2dBackwardDataKernel(ConvWeightPhase w, ConvGradOutputPhase dy, ConvInputPhaseStore dx, int rows, int cols, int depth)
        => GemmGridBlock(w, dy, dx, default(LoadAfter), rows, cols, depth, depth);

    internal static void Conv2dBackwardDataPrefetchKernel(ConvWeightPhase w, ConvGradOutputPhase dy, ConvInputPhaseStore dx, int rows, int cols, int depth)
        => GemmGridBlock(w, dy, dx, default(PrefetchNext), rows, cols, depth, depth);

    /// <param name="dy">dy (N, K, OH, OW) seen as (K, N OH OW)</param>
    /// <param name="x">x (N, C, H, W) seen as (N OH OW, C R R)</param>
    /// <param name="dw">(K, C R R), accumulated</param>
    /// <param name="chunk">the depth of the reduction slice each grid z handles, a multiple of GemmTileK</param>
    internal static void Conv2dBackwardWeightKernel(
        ConvGradOutputRows dy, ConvInputRows x, ConvWeightAccumulate dw, int rows, int cols, int depth, int chunk)
        => GemmGridBlock(dy, x, dw, default(LoadAfter), rows, cols, depth, chunk);

    internal static void Conv2dBackwardWeightPrefetchKernel(
        ConvGradOutputRows dy, ConvInputRows x, ConvWeightAccumulate dw, int rows, int cols, int depth, int chunk)
        => GemmGridBlock(dy, x, dw, default(PrefetchNext), rows, cols, depth, chunk);
}

using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

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

    /// <summary>
    /// Runs the three convolutions on the tensor cores in TF32 (TensorCores.cs), as PyTorch does by default through
    /// cuDNN: inputs keep 10 mantissa bits, sums stay fp32, results differ from fp32 by about 1e-3 relative. CUDA on
    /// sm_80 or newer only; off by default, so every result matches the fp32 spec unless asked.
    /// </summary>
    public bool Tf32Convolutions
    {
        get => _tf32Convolutions;
        set
        {
            if (value && Accelerator is not CudaAccelerator { Architecture: { Major: >= 8 } })
            {
                throw new NotSupportedException(
                    $"TF32 convolutions need the tensor cores of a CUDA GPU of compute capability 8.0 or newer; the {Name} device ({Accelerator.Name}) has none");
            }
            _tf32Convolutions = value;
        }
    }

    private bool _tf32Convolutions;

    /// <summary>Index into a pass's four entry points: [fp32, fp32 prefetch, TF32, TF32 prefetch]; TF32 is 2 and up.</summary>
    private int ConvVariant(KernelConfig config, bool weight) => (Tf32Convolutions ? 2 : 0) + (PrefetchFor(config, weight) ? 1 : 0);

    private static readonly Action<GemmRowMajor, ConvInputColumns, ConvOutputStore, int, int, int>[] ForwardKernels =
        [Conv2dForwardKernel, Conv2dForwardPrefetchKernel, Conv2dForwardTf32Kernel, Conv2dForwardTf32PrefetchKernel];

    private static readonly Action<ConvWeightPhase, ConvGradOutputPhase, ConvInputPhaseStore, int, int, int>[] BackwardDataKernels =
        [Conv2dBackwardDataKernel, Conv2dBackwardDataPrefetchKernel, Conv2dBackwardDataTf32Kernel, Conv2dBackwardDataTf32PrefetchKernel];

    private static readonly Action<ConvGradOutputRows, ConvInputRows, ConvWeightAccumulate, int, int, int, int>[] BackwardWeightKernels =
        [Conv2dBackwardWeightKernel, Conv2dBackwardWeightPrefetchKernel, Conv2dBackwardWeightTf32Kernel, Conv2dBackwardWeightTf32PrefetchKernel];

    public void Conv2dForward(DeviceSpan y, DeviceSpan x, DeviceSpan w, in Conv2dShape s)
    {
        Checks.Conv2d("Conv2dForward", y, x, w, s);
        var d = new ConvDims(s);
        int rows = s.K;
        int cols = s.N * s.OutH * s.OutW;
        int depth = s.C * s.R * s.R;
        var config = GemmConfig(rows, cols);
        int v = ConvVariant(config, weight: false);
        var kernel = Load($"Conv2dForward{v}", acc => v >= 2 ? LoadPromoted(ForwardKernels[v]) : acc.LoadStreamKernel(ForwardKernels[v]));
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
                int v = ConvVariant(config, weight: false);
                var kernel = Load($"Conv2dBackwardData{v}", acc => v >= 2 ? LoadPromoted(BackwardDataKernels[v]) : acc.LoadStreamKernel(BackwardDataKernels[v]));
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
        int v = ConvVariant(config, weight: true);
        var kernel = Load($"Conv2dBackwardWeight{v}", acc => v >= 2 ? LoadPromoted(BackwardWeightKernels[v]) : acc.LoadStreamKernel(BackwardWeightKernels[v]));
        kernel(config, new ConvGradOutputRows(V(dy), d), new ConvInputRows(V(x), d), new ConvWeightAccumulate(V(dw), cols),
            rows, cols, depth, chunk);
    }

    /// <param name="w">(K, C R R)</param>
    /// <param name="x">x (N, C, H, W) seen as (C R R, N OH OW)</param>
    /// <param name="y">y (N, K, OH, OW) seen as (K, N OH OW)</param>
    internal static void Conv2dForwardKernel(GemmRowMajor w, ConvInputColumns x, ConvOutputStore y, int rows, int cols, int depth)
        => GemmGridBlock(w, x, y, default(LoadAfter), default(Fp32Fma), rows, cols, depth, depth);

    internal static void Conv2dForwardPrefetchKernel(GemmRowMajor w, ConvInputColumns x, ConvOutputStore y, int rows, int cols, int depth)
        => GemmGridBlock(w, x, y, default(PrefetchNext), default(Fp32Fma), rows, cols, depth, depth);

    internal static void Conv2dForwardTf32Kernel(GemmRowMajor w, ConvInputColumns x, ConvOutputStore y, int rows, int cols, int depth)
        => GemmGridBlock(w, x, y, default(LoadAfter), default(Tf32Mma), rows, cols, depth, depth);

    internal static void Conv2dForwardTf32PrefetchKernel(GemmRowMajor w, ConvInputColumns x, ConvOutputStore y, int rows, int cols, int depth)
        => GemmGridBlock(w, x, y, default(PrefetchNext), default(Tf32Mma), rows, cols, depth, depth);

    /// <summary>One stride phase of dx (see <see cref="ConvPhase"/>).</summary>
    /// <param name="w">w (K, C, R, R) at the phase's taps, seen as (C, K Taps)</param>
    /// <param name="dy">dy (N, K, OH, OW) seen as (K Taps, N Pixels)</param>
    /// <param name="dx">dx (N, C, H, W) at the phase's pixels, seen as (C, N Pixels)</param>
    internal static void Conv2dBackwardDataKernel(ConvWeightPhase w, ConvGradOutputPhase dy, ConvInputPhaseStore dx, int rows, int cols, int depth)
        => GemmGridBlock(w, dy, dx, default(LoadAfter), default(Fp32Fma), rows, cols, depth, depth);

    internal static void Conv2dBackwardDataPrefetchKernel(ConvWeightPhase w, ConvGradOutputPhase dy, ConvInputPhaseStore dx, int rows, int cols, int depth)
        => GemmGridBlock(w, dy, dx, default(PrefetchNext), default(Fp32Fma), rows, cols, depth, depth);

    internal static void Conv2dBackwardDataTf32Kernel(ConvWeightPhase w, ConvGradOutputPhase dy, ConvInputPhaseStore dx, int rows, int cols, int depth)
        => GemmGridBlock(w, dy, dx, default(LoadAfter), default(Tf32Mma), rows, cols, depth, depth);

    internal static void Conv2dBackwardDataTf32PrefetchKernel(ConvWeightPhase w, ConvGradOutputPhase dy, ConvInputPhaseStore dx, int rows, int cols, int depth)
        => GemmGridBlock(w, dy, dx, default(PrefetchNext), default(Tf32Mma), rows, cols, depth, depth);

    /// <param name="dy">dy (N, K, OH, OW) seen as (K, N OH OW)</param>
    /// <param name="x">x (N, C, H, W) seen as (N OH OW, C R R)</param>
    /// <param name="dw">(K, C R R), accumulated</param>
    /// <param name="chunk">the depth of the reduction slice each grid z handles, a multiple of GemmTileK</param>
    internal static void Conv2dBackwardWeightKernel(
        ConvGradOutputRows dy, ConvInputRows x, ConvWeightAccumulate dw, int rows, int cols, int depth, int chunk)
        => GemmGridBlock(dy, x, dw, default(LoadAfter), default(Fp32Fma), rows, cols, depth, chunk);

    internal static void Conv2dBackwardWeightPrefetchKernel(
        ConvGradOutputRows dy, ConvInputRows x, ConvWeightAccumulate dw, int rows, int cols, int depth, int chunk)
        => GemmGridBlock(dy, x, dw, default(PrefetchNext), default(Fp32Fma), rows, cols, depth, chunk);

    internal static void Conv2dBackwardWeightTf32Kernel(
        ConvGradOutputRows dy, ConvInputRows x, ConvWeightAccumulate dw, int rows, int cols, int depth, int chunk)
        => GemmGridBlock(dy, x, dw, default(LoadAfter), default(Tf32Mma), rows, cols, depth, chunk);

    internal static void Conv2dBackwardWeightTf32PrefetchKernel(
        ConvGradOutputRows dy, ConvInputRows x, ConvWeightAccumulate dw, int rows, int cols, int depth, int chunk)
        => GemmGridBlock(dy, x, dw, default(PrefetchNext), default(Tf32Mma), rows, cols, depth, chunk);
}

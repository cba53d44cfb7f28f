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

/// <summary>Which block the TF32 convolutions use (<see cref="IlgpuKernels.ConvTile"/>).</summary>
public enum ConvTile
{
    /// <summary>
    /// The 128 x 128 block where both sides of the product fill it, the 64 x 256 one where only its columns do,
    /// each only on a grid large enough; else the 64 x 64 one.
    /// </summary>
    Auto,

    /// <summary>Always the 64 x 64 block.</summary>
    Narrow,

    /// <summary>Always the 128 x 128 block (TF32 only).</summary>
    Wide,

    /// <summary>The 64 x 256 block for forward and backward-data, the 64 x 64 one for backward-weight (TF32 only).</summary>
    Flat,
}

/// <summary>
/// NCHW convolution as three implicit GEMMs on the tiling of <see cref="GemmBlock"/>; the im2col matrix is gathered
/// tile by tile into shared memory and never stored. Gradient rule: dx is written, dw accumulates (+=).
///   forward:         y (K, N OH OW)  = w (K, R R Cp)     x im2col(x) (R R Cp, N OH OW)
///   backward data:   dx (C, N H W)   = w^T (C, R R Kp)   x gather(dy) (R R Kp, N H W), per stride phase
///                    (Stride^2 launches, each over only the taps that reach its pixels; see ConvPhase)
/// Those two reduce tap-major, over channels padded to a whole stage (ConvDims); backward weight reduces over pixels.
///   backward weight: dw (K, C R R)  += dy (K, N OH OW)   x im2col(x)^T (N OH OW, C R R), split over N OH OW
/// </summary>
public sealed partial class IlgpuKernels
{
    /// <summary>Blocks per multiprocessor that backward-weight's split reduction aims for on the 64 x 64 tile.</summary>
    private const int ConvSplitBlocksPerMultiprocessor = 8;

    /// <summary>
    /// Blocks of the 128 x 128 tile's kernels that run at once on one multiprocessor: its register cap leaves room for
    /// two of its 256-thread blocks, so backward-weight's split reduction fills whole waves of two per multiprocessor.
    /// </summary>
    private const int WideWeightResident = 2;

    /// <summary>
    /// Below this many blocks per multiprocessor, forward and backward-data prefetch. On the H100 (batch 64) the
    /// 8x8 and 4x4 planes (1-2 blocks per multiprocessor) ran 17-55% faster with it, 32x32 backward-data (8 per
    /// multiprocessor) 15% slower; backward-weight, split to about 8 per multiprocessor, gained 2-4%.
    /// </summary>
    private const int ConvPrefetchBelowBlocksPerMultiprocessor = 3;

    /// <summary>
    /// The big TF32 tiles (128 x 128, 64 x 256) need at least this many of their blocks per multiprocessor (2 fit at
    /// a time) to be picked by <see cref="ConvTile.Auto"/>, so that their grid still fills the machine.
    /// </summary>
    private const int WideBlocksPerMultiprocessor = 4;

    /// <summary>The register cap of the big tiles' kernels: two of their blocks per multiprocessor (MaxRegistersAttribute).</summary>
    internal const int BigTileRegisters = 128;

    /// <summary>
    /// The register cap of the 64 x 64 TF32 weight gradients: four blocks per multiprocessor instead of the three
    /// that ptxas's 72-76 registers allowed, for more gathers in flight.
    /// </summary>
    internal const int NarrowWeightRegisters = 64;

    /// <summary>
    /// Below this many 64 x 64 blocks per multiprocessor a TF32 forward or backward-data launch splits its reduction:
    /// such a grid leaves multiprocessors idle while each block runs the whole 2,304-4,608-deep reduction. One H200,
    /// batch 64, forward, in one call against the unsplit code: 512 channels at 4x4 (128 blocks on 132
    /// multiprocessors) 10.5 -> 17.1 TFLOP/s, 256 -> 512 stride 2 10.2 -> 15.8, its 1x1 shortcut 7.5 -> 9.0; split in two
    /// at 256 blocks (1.9 per multiprocessor) they lost 4-7%, and in fp32 11-29%, so fp32 and fuller grids stay whole.
    /// </summary>
    private const int SplitBelowBlocksPerMultiprocessor = 1;

    /// <summary>The blocks per multiprocessor a split launch aims for.</summary>
    private const int SplitBlocksPerMultiprocessor = 4;

    /// <summary>A split launch's slices keep at least this many stages of the reduction each.</summary>
    private const int SplitMinimumStages = 8;

    /// <summary>
    /// Pins the number of slices the forward's and backward-data's reductions are split into on the 64 x 64 block (1:
    /// never split; the tests pin both ways); null picks by grid size (<see cref="SmallGridSplits"/>). Split slices add
    /// into their output atomically, so their sum's order, and the output's last bits, can differ from run to run, as
    /// backward-weight's already do.
    /// </summary>
    public int? ConvSplits { get; set; }

    /// <summary>Pins the prefetch choice (the tests run both paths); Auto picks by grid size.</summary>
    public ConvPrefetch ConvPrefetch { get; set; } = ConvPrefetch.Auto;

    /// <summary>Pins the TF32 convolutions' block (the tests run each); fp32 always uses the 64 x 64 one.</summary>
    public ConvTile ConvTile { get; set; } = ConvTile.Auto;

    /// <summary>
    /// The block of a (rows x cols) product: 64 x 64 in fp32; in TF32 as pinned, or under Auto the 128 x 128 block
    /// where both sides fill it, the 64 x 256 one where only the columns do (64-channel layers; not for
    /// backward-weight, whose 576 columns would leave a quarter of the last block idle), each only where the grid
    /// gives every multiprocessor <see cref="WideBlocksPerMultiprocessor"/> blocks.
    /// </summary>
    private ConvTile TileFor(int rows, int cols, bool weight, int splits = 1)
    {
        if (!Tf32Convolutions)
        {
            return ConvTile.Narrow;
        }
        if (ConvTile != ConvTile.Auto)
        {
            return ConvTile == ConvTile.Flat && weight ? ConvTile.Narrow : ConvTile;
        }
        long enough = (long)WideBlocksPerMultiprocessor * Accelerator.NumMultiprocessors;
        if (rows >= WideTile && cols >= WideTile && Blocks(rows, WideTile) * Blocks(cols, WideTile) * splits >= enough)
        {
            return ConvTile.Wide;
        }
        return !weight && rows <= GemmMaxTile && cols >= FlatTile && Blocks(cols, FlatTile) >= enough ? ConvTile.Flat : ConvTile.Narrow;
    }

    private static long Blocks(int extent, int edge) => (extent + edge - 1) / edge;

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

    /// <summary>
    /// Index into a pass's entry points: [fp32, fp32 prefetch, TF32, TF32 prefetch, 128 x 128, its prefetch,
    /// 64 x 256, its prefetch] (backward-weight has the first six); TF32 is 2 and up.
    /// </summary>
    private int ConvVariant(KernelConfig config, bool weight, ConvTile tile)
        => (tile == ConvTile.Flat ? 6 : tile == ConvTile.Wide ? 4 : Tf32Convolutions ? 2 : 0) + (PrefetchFor(config, weight) ? 1 : 0);

    private static readonly Action<ConvWeightTaps, ConvInputColumns, ConvOutputStore, int, int, int>[] ForwardKernels =
    [
        Conv2dForwardKernel, Conv2dForwardPrefetchKernel, Conv2dForwardTf32Kernel, Conv2dForwardTf32PrefetchKernel,
        Conv2dForwardTf32WideKernel, Conv2dForwardTf32WidePrefetchKernel, Conv2dForwardTf32FlatKernel, Conv2dForwardTf32FlatPrefetchKernel,
    ];

    /// <summary>The 64 x 64 block's forwards over one slice of the reduction, adding into y: [fp32, its prefetch, TF32, its prefetch].</summary>
    private static readonly Action<ConvWeightTaps, ConvInputColumns, ConvOutputAccumulate, int, int, int, int>[] ForwardSplitKernels =
    [
        Conv2dForwardSplitKernel, Conv2dForwardSplitPrefetchKernel, Conv2dForwardTf32SplitKernel, Conv2dForwardTf32SplitPrefetchKernel,
    ];

    /// <summary>The 64 x 64 block's backward-data over one slice of the reduction, adding into dx: [fp32, its prefetch, TF32, its prefetch].</summary>
    private static readonly Action<ConvWeightPhase, ConvGradOutputPhase, ConvInputPhaseAccumulate, int, int, int, int>[] BackwardDataSplitKernels =
    [
        Conv2dBackwardDataSplitKernel, Conv2dBackwardDataSplitPrefetchKernel, Conv2dBackwardDataTf32SplitKernel, Conv2dBackwardDataTf32SplitPrefetchKernel,
    ];

    private static readonly Action<ConvWeightPhase, ConvGradOutputPhase, ConvInputPhaseStore, int, int, int>[] BackwardDataKernels =
    [
        Conv2dBackwardDataKernel, Conv2dBackwardDataPrefetchKernel, Conv2dBackwardDataTf32Kernel, Conv2dBackwardDataTf32PrefetchKernel,
        Conv2dBackwardDataTf32WideKernel, Conv2dBackwardDataTf32WidePrefetchKernel,
        Conv2dBackwardDataTf32FlatKernel, Conv2dBackwardDataTf32FlatPrefetchKernel,
    ];

    private static readonly Action<ConvGradOutputRows, ConvInputRows, ConvWeightAccumulate, int, int, int, int>[] BackwardWeightKernels =
    [
        Conv2dBackwardWeightKernel, Conv2dBackwardWeightPrefetchKernel, Conv2dBackwardWeightTf32Kernel, Conv2dBackwardWeightTf32PrefetchKernel,
        Conv2dBackwardWeightTf32WideKernel, Conv2dBackwardWeightTf32WidePrefetchKernel,
    ];

    public void Conv2dForward(DeviceSpan y, DeviceSpan x, DeviceSpan w, in Conv2dShape s)
    {
        Checks.Conv2d("Conv2dForward", y, x, w, s);
        var d = new ConvDims(s);
        int rows = s.K;
        int cols = s.N * s.OutH * s.OutW;
        int depth = d.TapDepth;
        var tile = TileFor(rows, cols, weight: false);
        var (splits, chunk) = tile == ConvTile.Narrow ? SmallGridSplits(rows, cols, depth) : (1, depth);
        var config = GemmConfig(rows, cols, splits, tile);
        int v = ConvVariant(config, weight: false, tile);
        if (splits > 1)
        {
            Fill(y, 0f);
            var split = Load($"Conv2dForwardSplit{v}", acc => v >= 2 ? LoadPromoted(ForwardSplitKernels[v]) : acc.LoadStreamKernel(ForwardSplitKernels[v]));
            split(config, new ConvWeightTaps(V(w), d), new ConvInputColumns(V(x), d), new ConvOutputAccumulate(V(y), d), rows, cols, depth, chunk);
            return;
        }
        var kernel = Load($"Conv2dForward{v}", acc => v >= 2 ? LoadPromoted(ForwardKernels[v]) : acc.LoadStreamKernel(ForwardKernels[v]));
        kernel(config, new ConvWeightTaps(V(w), d), new ConvInputColumns(V(x), d), new ConvOutputStore(V(y), d), rows, cols, depth);
    }

    /// <summary>
    /// The reduction slices of a forward or backward-data launch on the 64 x 64 block: as pinned, else one in fp32 or where the grid has
    /// <see cref="SplitBelowBlocksPerMultiprocessor"/> blocks per multiprocessor or more, else enough slices
    /// of whole stages for about <see cref="SplitBlocksPerMultiprocessor"/>, each at least
    /// <see cref="SplitMinimumStages"/> stages deep.
    /// </summary>
    private (int Splits, int Chunk) SmallGridSplits(int rows, int cols, int depth)
        => SplitsFor(rows, cols, depth, GemmBlockEdge, Accelerator.NumMultiprocessors, Tf32Convolutions, ConvSplits);

    /// <summary><see cref="SmallGridSplits"/> for a machine of <paramref name="multiprocessors"/> and blocks of <paramref name="edge"/>.</summary>
    internal static (int Splits, int Chunk) SplitsFor(int rows, int cols, int depth, int edge, int multiprocessors, bool tf32, int? pinned)
    {
        int splits;
        if (pinned is int p)
        {
            splits = Math.Clamp(p, 1, Math.Max(1, (depth + GemmTileK - 1) / GemmTileK));
        }
        else
        {
            long blocks = Blocks(rows, edge) * Blocks(cols, edge);
            long wanted = !tf32 || blocks >= (long)SplitBelowBlocksPerMultiprocessor * multiprocessors
                ? 1
                : (long)SplitBlocksPerMultiprocessor * multiprocessors / blocks;
            splits = (int)Math.Clamp(wanted, 1, Math.Max(1, depth / (SplitMinimumStages * GemmTileK)));
        }
        var sliced = Slices(depth, splits);
        return sliced.Splits > 1 ? sliced : (1, depth);
    }

    public void Conv2dBackwardData(DeviceSpan dx, DeviceSpan dy, DeviceSpan w, in Conv2dShape s, bool accumulate = false)
    {
        Checks.Conv2d("Conv2dBackwardData", dy, dx, w, s, yName: "dy", xName: "dx");
        var d = new ConvDims(s);
        // Phases that no tap reaches (1x1 stride 2: three of the four) get their zeros from one contiguous fill of
        // dx, not from a product of depth 0 scattering them (the H100 step's 1x1 stride-2 backward-data ran at
        // 4-11 TFLOP/s that way); accumulating, they add nothing. A phase whose reduction is split adds its slices
        // into dx, so it needs the same fill. Each phase's block and slices are chosen once, here, before any launch.
        int phases = s.Stride * s.Stride;
        Span<(ConvTile Tile, int Splits, int Chunk)> plan = stackalloc (ConvTile, int, int)[phases];
        bool fill = false;
        for (int i = 0; i < phases; i++)
        {
            var p = new ConvPhase(s, i / s.Stride, i % s.Stride);
            int cols = s.N * p.Pixels;
            int depth = p.Taps * d.Kp;
            var tile = TileFor(s.C, cols, weight: false);
            var (splits, chunk) = cols > 0 && p.Taps > 0 && tile == ConvTile.Narrow ? SmallGridSplits(s.C, cols, depth) : (1, depth);
            plan[i] = (tile, splits, chunk);
            fill |= (p.Taps == 0 && p.Pixels > 0) || splits > 1;
        }
        if (fill && !accumulate)
        {
            Fill(dx, 0f);
        }
        for (int i = 0; i < phases; i++)
        {
            var p = new ConvPhase(s, i / s.Stride, i % s.Stride);
            int cols = s.N * p.Pixels;
            if (cols == 0 || p.Taps == 0)
            {
                continue;
            }
            var (tile, splits, chunk) = plan[i];
            var config = GemmConfig(s.C, cols, splits, tile);
            int v = ConvVariant(config, weight: false, tile);
            if (splits > 1)
            {
                var split = Load($"Conv2dBackwardDataSplit{v}", acc => v >= 2 ? LoadPromoted(BackwardDataSplitKernels[v]) : acc.LoadStreamKernel(BackwardDataSplitKernels[v]));
                split(config, new ConvWeightPhase(V(w), d, p), new ConvGradOutputPhase(V(dy), d, p), new ConvInputPhaseAccumulate(V(dx), d, p),
                    s.C, cols, p.Taps * d.Kp, chunk);
                continue;
            }
            var kernel = Load($"Conv2dBackwardData{v}", acc => v >= 2 ? LoadPromoted(BackwardDataKernels[v]) : acc.LoadStreamKernel(BackwardDataKernels[v]));
            kernel(config, new ConvWeightPhase(V(w), d, p), new ConvGradOutputPhase(V(dy), d, p), new ConvInputPhaseStore(V(dx), d, p, accumulate),
                s.C, cols, p.Taps * d.Kp);
        }
    }

    public void Conv2dBackwardWeight(DeviceSpan dw, DeviceSpan dy, DeviceSpan x, in Conv2dShape s)
    {
        Checks.Conv2d("Conv2dBackwardWeight", dy, x, dw, s, yName: "dy", wName: "dw");
        var d = new ConvDims(s);
        int rows = s.K;
        int cols = s.C * s.R * s.R;
        int depth = s.N * s.OutH * s.OutW;
        var wide = WeightSplitsInWaves(rows, cols, depth, WideTile, WideWeightResident);
        var tile = TileFor(rows, cols, weight: true, wide.Splits);
        var (splits, chunk) = tile == ConvTile.Wide ? wide : WeightSplits(rows, cols, depth, GemmBlockEdge, ConvSplitBlocksPerMultiprocessor);
        var config = GemmConfig(rows, cols, splits, tile);
        int v = ConvVariant(config, weight: true, tile);
        var kernel = Load($"Conv2dBackwardWeight{v}", acc => v >= 2 ? LoadPromoted(BackwardWeightKernels[v]) : acc.LoadStreamKernel(BackwardWeightKernels[v]));
        kernel(config, new ConvGradOutputRows(V(dy), d), new ConvInputRows(V(x), d), new ConvWeightAccumulate(V(dw), cols),
            rows, cols, depth, chunk);
    }

    /// <summary>
    /// Splits backward-weight's reduction over pixels into slices of whole stages so that the grid has about
    /// <paramref name="perMultiprocessor"/> blocks of <paramref name="edge"/> per multiprocessor.
    /// </summary>
    private (int Splits, int Chunk) WeightSplits(int rows, int cols, int depth, int edge, int perMultiprocessor)
    {
        long blocks = Blocks(rows, edge) * Blocks(cols, edge);
        int wanted = (int)Math.Max(1, Accelerator.NumMultiprocessors * perMultiprocessor / blocks);
        return Slices(depth, Math.Clamp(wanted, 1, (depth + GemmTileK - 1) / GemmTileK));
    }

    /// <summary>
    /// Splits backward-weight's reduction over pixels for a tile whose blocks run <paramref name="resident"/> at a time
    /// per multiprocessor, so that their waves come out full: a last wave that is partly empty leaves
    /// multiprocessors idle (the H100 step's 512-channel weight gradient had 432 blocks of 128 x 128, 1.64 waves of
    /// 264, at 25 TFLOP/s; in 9 splits, 4.9 waves, 47-49). Takes the fewest splits, from two waves' worth up to six,
    /// whose waves are fullest.
    /// </summary>
    private (int Splits, int Chunk) WeightSplitsInWaves(int rows, int cols, int depth, int edge, int resident)
    {
        long tiles = Blocks(rows, edge) * Blocks(cols, edge);
        long wave = (long)Accelerator.NumMultiprocessors * resident;
        int most = Math.Max(1, (depth + GemmTileK - 1) / GemmTileK);
        int first = (int)Math.Clamp((2 * wave + tiles - 1) / tiles, 1, most);
        int splits = first;
        double best = -1;
        for (int s = first; s <= most && (s == first || tiles * s <= 6 * wave); s++)
        {
            long blocks = tiles * s;
            double filled = (double)blocks / ((blocks + wave - 1) / wave * wave);
            // A split must fill the waves clearly better to be worth its extra atomic sums.
            if (filled > best + 0.02)
            {
                (splits, best) = (s, filled);
            }
        }
        return Slices(depth, splits);
    }

    /// <summary>The reduction cut into about <paramref name="splits"/> slices of whole stages: (slices, their depth).</summary>
    private static (int Splits, int Chunk) Slices(int depth, int splits)
    {
        int chunk = ((depth + splits - 1) / splits + GemmTileK - 1) / GemmTileK * GemmTileK;
        return ((depth + chunk - 1) / chunk, chunk);
    }

    /// <param name="w">(K, C, R, R) seen tap-major as (K, R R Cp)</param>
    /// <param name="x">x (N, C, H, W) seen as (R R Cp, N OH OW)</param>
    /// <param name="y">y (N, K, OH, OW) seen as (K, N OH OW)</param>
    internal static void Conv2dForwardKernel(ConvWeightTaps w, ConvInputColumns x, ConvOutputStore y, int rows, int cols, int depth)
        => GemmGridBlock(w, x, y, default(LoadAfter), default(Fp32Fma), rows, cols, depth, depth);

    internal static void Conv2dForwardPrefetchKernel(ConvWeightTaps w, ConvInputColumns x, ConvOutputStore y, int rows, int cols, int depth)
        => GemmGridBlock(w, x, y, default(PrefetchNext), default(Fp32Fma), rows, cols, depth, depth);

    internal static void Conv2dForwardTf32Kernel(ConvWeightTaps w, ConvInputColumns x, ConvOutputStore y, int rows, int cols, int depth)
        => GemmGridBlock(w, x, y, default(LoadAfter), default(Tf32Mma), rows, cols, depth, depth);

    internal static void Conv2dForwardTf32PrefetchKernel(ConvWeightTaps w, ConvInputColumns x, ConvOutputStore y, int rows, int cols, int depth)
        => GemmGridBlock(w, x, y, default(PrefetchNext), default(Tf32Mma), rows, cols, depth, depth);

    [MaxRegisters(BigTileRegisters)]
    internal static void Conv2dForwardTf32WideKernel(ConvWeightTaps w, ConvInputColumns x, ConvOutputStore y, int rows, int cols, int depth)
        => GemmGridBlockWide(w, x, y, default(LoadAfter), rows, cols, depth, depth);

    [MaxRegisters(BigTileRegisters)]
    internal static void Conv2dForwardTf32WidePrefetchKernel(ConvWeightTaps w, ConvInputColumns x, ConvOutputStore y, int rows, int cols, int depth)
        => GemmGridBlockWide(w, x, y, default(PrefetchNext), rows, cols, depth, depth);

    [MaxRegisters(BigTileRegisters)]
    internal static void Conv2dForwardTf32FlatKernel(ConvWeightTaps w, ConvInputColumns x, ConvOutputStore y, int rows, int cols, int depth)
        => GemmGridBlockFlat(w, x, y, default(LoadAfter), rows, cols, depth);

    [MaxRegisters(BigTileRegisters)]
    internal static void Conv2dForwardTf32FlatPrefetchKernel(ConvWeightTaps w, ConvInputColumns x, ConvOutputStore y, int rows, int cols, int depth)
        => GemmGridBlockFlat(w, x, y, default(PrefetchNext), rows, cols, depth);

    /// <summary>The forward over reduction slice z (<see cref="SmallGridSplits"/>), added into y, which starts at zero.</summary>
    internal static void Conv2dForwardSplitKernel(ConvWeightTaps w, ConvInputColumns x, ConvOutputAccumulate y, int rows, int cols, int depth, int chunk)
        => GemmGridBlock(w, x, y, default(LoadAfter), default(Fp32Fma), rows, cols, depth, chunk);

    internal static void Conv2dForwardSplitPrefetchKernel(ConvWeightTaps w, ConvInputColumns x, ConvOutputAccumulate y, int rows, int cols, int depth, int chunk)
        => GemmGridBlock(w, x, y, default(PrefetchNext), default(Fp32Fma), rows, cols, depth, chunk);

    internal static void Conv2dForwardTf32SplitKernel(ConvWeightTaps w, ConvInputColumns x, ConvOutputAccumulate y, int rows, int cols, int depth, int chunk)
        => GemmGridBlock(w, x, y, default(LoadAfter), default(Tf32Mma), rows, cols, depth, chunk);

    internal static void Conv2dForwardTf32SplitPrefetchKernel(ConvWeightTaps w, ConvInputColumns x, ConvOutputAccumulate y, int rows, int cols, int depth, int chunk)
        => GemmGridBlock(w, x, y, default(PrefetchNext), default(Tf32Mma), rows, cols, depth, chunk);

    /// <summary>One stride phase of dx (see <see cref="ConvPhase"/>).</summary>
    /// <param name="w">w (K, C, R, R) at the phase's taps, seen as (C, Taps Kp)</param>
    /// <param name="dy">dy (N, K, OH, OW) seen as (Taps Kp, N Pixels)</param>
    /// <param name="dx">dx (N, C, H, W) at the phase's pixels, seen as (C, N Pixels)</param>
    internal static void Conv2dBackwardDataKernel(ConvWeightPhase w, ConvGradOutputPhase dy, ConvInputPhaseStore dx, int rows, int cols, int depth)
        => GemmGridBlock(w, dy, dx, default(LoadAfter), default(Fp32Fma), rows, cols, depth, depth);

    internal static void Conv2dBackwardDataPrefetchKernel(ConvWeightPhase w, ConvGradOutputPhase dy, ConvInputPhaseStore dx, int rows, int cols, int depth)
        => GemmGridBlock(w, dy, dx, default(PrefetchNext), default(Fp32Fma), rows, cols, depth, depth);

    internal static void Conv2dBackwardDataTf32Kernel(ConvWeightPhase w, ConvGradOutputPhase dy, ConvInputPhaseStore dx, int rows, int cols, int depth)
        => GemmGridBlock(w, dy, dx, default(LoadAfter), default(Tf32Mma), rows, cols, depth, depth);

    internal static void Conv2dBackwardDataTf32PrefetchKernel(ConvWeightPhase w, ConvGradOutputPhase dy, ConvInputPhaseStore dx, int rows, int cols, int depth)
        => GemmGridBlock(w, dy, dx, default(PrefetchNext), default(Tf32Mma), rows, cols, depth, depth);

    /// <summary>One stride phase of dx over reduction slice z (<see cref="SmallGridSplits"/>), added into dx.</summary>
    internal static void Conv2dBackwardDataSplitKernel(ConvWeightPhase w, ConvGradOutputPhase dy, ConvInputPhaseAccumulate dx, int rows, int cols, int depth, int chunk)
        => GemmGridBlock(w, dy, dx, default(LoadAfter), default(Fp32Fma), rows, cols, depth, chunk);

    internal static void Conv2dBackwardDataSplitPrefetchKernel(ConvWeightPhase w, ConvGradOutputPhase dy, ConvInputPhaseAccumulate dx, int rows, int cols, int depth, int chunk)
        => GemmGridBlock(w, dy, dx, default(PrefetchNext), default(Fp32Fma), rows, cols, depth, chunk);

    internal static void Conv2dBackwardDataTf32SplitKernel(ConvWeightPhase w, ConvGradOutputPhase dy, ConvInputPhaseAccumulate dx, int rows, int cols, int depth, int chunk)
        => GemmGridBlock(w, dy, dx, default(LoadAfter), default(Tf32Mma), rows, cols, depth, chunk);

    internal static void Conv2dBackwardDataTf32SplitPrefetchKernel(ConvWeightPhase w, ConvGradOutputPhase dy, ConvInputPhaseAccumulate dx, int rows, int cols, int depth, int chunk)
        => GemmGridBlock(w, dy, dx, default(PrefetchNext), default(Tf32Mma), rows, cols, depth, chunk);

    [MaxRegisters(BigTileRegisters)]
    internal static void Conv2dBackwardDataTf32WideKernel(ConvWeightPhase w, ConvGradOutputPhase dy, ConvInputPhaseStore dx, int rows, int cols, int depth)
        => GemmGridBlockWide(w, dy, dx, default(LoadAfter), rows, cols, depth, depth);

    [MaxRegisters(BigTileRegisters)]
    internal static void Conv2dBackwardDataTf32WidePrefetchKernel(ConvWeightPhase w, ConvGradOutputPhase dy, ConvInputPhaseStore dx, int rows, int cols, int depth)
        => GemmGridBlockWide(w, dy, dx, default(PrefetchNext), rows, cols, depth, depth);

    [MaxRegisters(BigTileRegisters)]
    internal static void Conv2dBackwardDataTf32FlatKernel(ConvWeightPhase w, ConvGradOutputPhase dy, ConvInputPhaseStore dx, int rows, int cols, int depth)
        => GemmGridBlockFlat(w, dy, dx, default(LoadAfter), rows, cols, depth);

    [MaxRegisters(BigTileRegisters)]
    internal static void Conv2dBackwardDataTf32FlatPrefetchKernel(ConvWeightPhase w, ConvGradOutputPhase dy, ConvInputPhaseStore dx, int rows, int cols, int depth)
        => GemmGridBlockFlat(w, dy, dx, default(PrefetchNext), rows, cols, depth);

    /// <param name="dy">dy (N, K, OH, OW) seen as (K, N OH OW)</param>
    /// <param name="x">x (N, C, H, W) seen as (N OH OW, C R R)</param>
    /// <param name="dw">(K, C R R), accumulated</param>
    /// <param name="chunk">the depth of the reduction slice each grid z handles, a multiple of GemmTileK</param>
    internal static void Conv2dBackwardWeightKernel(
        ConvGradOutputRows dy, ConvInputRows x, ConvWeightAccumulate dw, int rows, int cols, int depth, int chunk)
        => GemmGridBlock(dy, x.InBlock(4 * Group.DimX, cols), dw, default(LoadAfter), default(Fp32Fma), rows, cols, depth, chunk);

    internal static void Conv2dBackwardWeightPrefetchKernel(
        ConvGradOutputRows dy, ConvInputRows x, ConvWeightAccumulate dw, int rows, int cols, int depth, int chunk)
        => GemmGridBlock(dy, x.InBlock(4 * Group.DimX, cols), dw, default(PrefetchNext), default(Fp32Fma), rows, cols, depth, chunk);

    [MaxRegisters(NarrowWeightRegisters)]
    internal static void Conv2dBackwardWeightTf32Kernel(
        ConvGradOutputRows dy, ConvInputRows x, ConvWeightAccumulate dw, int rows, int cols, int depth, int chunk)
        => GemmGridBlock(dy, x.InBlock(4 * Group.DimX, cols), dw, default(LoadAfter), default(Tf32Mma), rows, cols, depth, chunk);

    [MaxRegisters(NarrowWeightRegisters)]
    internal static void Conv2dBackwardWeightTf32PrefetchKernel(
        ConvGradOutputRows dy, ConvInputRows x, ConvWeightAccumulate dw, int rows, int cols, int depth, int chunk)
        => GemmGridBlock(dy, x.InBlock(4 * Group.DimX, cols), dw, default(PrefetchNext), default(Tf32Mma), rows, cols, depth, chunk);

    [MaxRegisters(BigTileRegisters)]
    internal static void Conv2dBackwardWeightTf32WideKernel(
        ConvGradOutputRows dy, ConvInputRows x, ConvWeightAccumulate dw, int rows, int cols, int depth, int chunk)
        => GemmGridBlockWide(dy, x.InBlock(WideTile, cols), dw, default(LoadAfter), rows, cols, depth, chunk);

    [MaxRegisters(BigTileRegisters)]
    internal static void Conv2dBackwardWeightTf32WidePrefetchKernel(
        ConvGradOutputRows dy, ConvInputRows x, ConvWeightAccumulate dw, int rows, int cols, int depth, int chunk)
        => GemmGridBlockWide(dy, x.InBlock(WideTile, cols), dw, default(PrefetchNext), rows, cols, depth, chunk);
}

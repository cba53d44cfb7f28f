using ILGPU;
using ILGPU.Runtime;
using ILGPU.Util;

// ILGPU's CPU accelerator emits a dynamic assembly named ILGPURuntime that must see the internal operand structs
// passed as kernel parameters.
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("ILGPURuntime")]

namespace EmpSsl.Kernels.Ilgpu;

/// <summary>
/// One operand of a tiled product, seen as a logical matrix (i, j): for the left operand i is the output row and
/// j the reduction index; for the right operand i is the reduction index and j the output column. Convolutions
/// implement it as a gather, so no im2col matrix is ever materialized.
/// </summary>
internal interface IGemmOperand
{
    /// <summary>
    /// What the elements of one staged slice have in common, worked out once per thread and stage instead of once
    /// per element: the slice covers reduction indices [k0, k0 + GemmTileK), k0 a multiple of GemmTileK. A
    /// convolution ordered tap-major (ConvOperands.cs) returns the slice's kernel tap here, so its gathers need no
    /// division; plain matrices return 0.
    /// </summary>
    int Stage(int k0);

    /// <summary>
    /// The element at (i, j), with <paramref name="stage"/> what <see cref="Stage"/> returned for the slice that
    /// holds it; only called for indices inside the product's bounds.
    /// </summary>
    float Load(int i, int j, int stage);

    /// <summary>
    /// True when neighbouring j sit next to each other in memory: the tile loader then gives neighbouring
    /// threads neighbouring j so that global loads coalesce.
    /// </summary>
    bool ContiguousInJ { get; }
}

/// <summary>
/// Whether a tiled product prefetches the next stage's global loads into registers before computing the current
/// one. Prefetching hides the loads' latency when a grid has few blocks per multiprocessor, but it holds more
/// registers, so fewer blocks fit on each; on large grids the extra blocks hide the latency better (H100: conv
/// backward-data at 64 channels, 32x32, batch 64 ran 15% slower with it, the 4x4 planes 40-55% faster).
/// </summary>
internal interface IStagePolicy
{
    bool Prefetch { get; }
}

internal readonly struct PrefetchNext : IStagePolicy
{
    public bool Prefetch => true;
}

internal readonly struct LoadAfter : IStagePolicy
{
    public bool Prefetch => false;
}

/// <summary>
/// How a tiled product multiplies its staged slices into a thread's sums <typeparamref name="TS"/>:
/// <see cref="Fp32Fma"/>, each thread's 4 x 4 block by fp32 FMAs; <see cref="Tf32Mma"/>, each warp's 16 x 32 block
/// of a 64 x 64 tile on the tensor cores in TF32; <see cref="Tf32MmaWide"/>, each warp's 64 x 32 block of a
/// 128 x 128 tile; <see cref="Tf32MmaFlat"/>, each warp's 32 x 64 block of a 64 x 256 tile (the last three CUDA
/// only; see TensorCores.cs).
/// </summary>
internal interface IStageMath<TS>
    where TS : struct
{
    /// <summary>Whether the slices feed the tensor cores: staged as TF32, with a row stride of edge + 8.</summary>
    bool TensorCores { get; }

    /// <summary>The block's rows and columns.</summary>
    int EdgeA { get; }

    int EdgeB { get; }

    /// <summary>
    /// Whether EdgeA equals EdgeB, as a constant: the loader then compiles without the loops for a longer slice's
    /// extra slots, which cost the 128 x 128 forward 15 registers even though they never ran.
    /// </summary>
    bool Square { get; }

    /// <summary>4-float vectors between the starts of the two alternating stages of each operand.</summary>
    int StageLengthA { get; }

    int StageLengthB { get; }

    TS Compute(TS sums, ArrayView<Float4> sa, ArrayView<Float4> sb, int stage);
}

internal readonly struct Fp32Fma : IStageMath<IlgpuKernels.Quad>
{
    public bool TensorCores => false;

    public int EdgeA => 4 * Group.DimX;

    public int EdgeB => 4 * Group.DimX;

    public bool Square => true;

    public int StageLengthA => IlgpuKernels.GemmStageLength;

    public int StageLengthB => IlgpuKernels.GemmStageLength;

    public IlgpuKernels.Quad Compute(IlgpuKernels.Quad sums, ArrayView<Float4> sa, ArrayView<Float4> sb, int stage)
        => IlgpuKernels.ComputeStageFma(sums, sa, sb, stage);
}

internal readonly struct Tf32Mma : IStageMath<IlgpuKernels.Quad>
{
    public bool TensorCores => true;

    public int EdgeA => 4 * Group.DimX;

    public int EdgeB => 4 * Group.DimX;

    public bool Square => true;

    public int StageLengthA => IlgpuKernels.GemmStageLength;

    public int StageLengthB => IlgpuKernels.GemmStageLength;

    public IlgpuKernels.Quad Compute(IlgpuKernels.Quad sums, ArrayView<Float4> sa, ArrayView<Float4> sb, int stage)
        => IlgpuKernels.ComputeStageMma(sums, sa, sb, stage);
}

internal readonly struct Tf32MmaWide : IStageMath<IlgpuKernels.Wide>
{
    public bool TensorCores => true;

    public int EdgeA => IlgpuKernels.WideTile;

    public int EdgeB => IlgpuKernels.WideTile;

    public bool Square => true;

    public int StageLengthA => IlgpuKernels.WideStageLength;

    public int StageLengthB => IlgpuKernels.WideStageLength;

    public IlgpuKernels.Wide Compute(IlgpuKernels.Wide sums, ArrayView<Float4> sa, ArrayView<Float4> sb, int stage)
        => IlgpuKernels.ComputeStageMmaBig(sums, sa, sb, stage, flat: false);
}

internal readonly struct Tf32MmaFlat : IStageMath<IlgpuKernels.Wide>
{
    public bool TensorCores => true;

    public int EdgeA => IlgpuKernels.GemmMaxTile;

    public int EdgeB => IlgpuKernels.FlatTile;

    public bool Square => false;

    public int StageLengthA => IlgpuKernels.GemmStageLength;

    public int StageLengthB => IlgpuKernels.FlatStageLength;

    public IlgpuKernels.Wide Compute(IlgpuKernels.Wide sums, ArrayView<Float4> sa, ArrayView<Float4> sb, int stage)
        => IlgpuKernels.ComputeStageMmaBig(sums, sa, sb, stage, flat: true);
}

/// <summary>Where a tile's finished sums go (with alpha, beta, scatter or atomics as the op needs).</summary>
internal interface IGemmOutput
{
    /// <summary>Receives the full sum for (row, col); only called inside the product's bounds.</summary>
    void Store(int row, int col, float sum);
}

/// <summary>
/// The shared-memory tiling behind Gemm, the three implicit-GEMM convolutions, Cholesky's trailing update and the
/// off-diagonal updates of CholeskySolve.
///
/// A group of T x T threads (T = 16 on GPUs: 256 threads; T = 4 on ILGPU's CPU accelerator, which allows at most
/// 16 threads per group) owns a (4T x 4T) block of the output, so 64 x 64 on a GPU and 16 x 16 on the CPU
/// accelerator (small enough that tiny test shapes cross tile edges). Each step stages a (4T x 16) slice of the
/// left operand and a (16 x 4T) slice of the right operand in shared memory, k-major. Each thread keeps a 4 x 4
/// register block of sums for rows 4 ty + i and columns 4 tx + j, and per k reads its 4 rows and 4 columns as
/// two 16-byte vector loads (ld.shared.v4) for 16 FMAs; with scalar loads the shared-memory port, not the FMA
/// units, would bound the loop. The slices' row stride is padded by 4 floats, which keeps the vectors 16-byte
/// aligned and limits the transposing stores of the loader to 2-way bank conflicts. The tensor-core math
/// (<see cref="Tf32Mma"/>, TensorCores.cs) stages the same slices with 8 floats of padding instead.
///
/// Two schedules (<see cref="IStagePolicy"/>). <see cref="LoadAfter"/>: one stage in shared memory, loaded, a
/// barrier, computed, a barrier. <see cref="PrefetchNext"/>: two stages alternate, so one barrier per stage
/// suffices, and each thread issues the global loads of the next stage's first four slots (all of them for the
/// 64 x 64 tile on a GPU, where a thread loads 4 elements of each slice) before it computes the current stage,
/// storing them only afterwards, so the gathers' latency overlaps the FMAs. On the CPU accelerator a thread loads 16 elements per
/// slice; its other 12 are loaded after the FMAs, so the tests there run the GPU's prefetch path too.
/// </summary>
public sealed partial class IlgpuKernels
{
    /// <summary>The reduction depth of one shared-memory stage (and Cholesky's panel width).</summary>
    internal const int GemmTileK = 16;

    /// <summary>The largest block edge, 4 x 16 threads; the shared arrays are sized for it.</summary>
    internal const int GemmMaxTile = 64;

    /// <summary>Row stride of a staged slice in floats for the FMA path: padded, and a multiple of 4 for the vector loads.</summary>
    internal const int GemmSharedStride = GemmMaxTile + 4;

    /// <summary>Row stride of a staged slice in 4-float vectors (FMA path).</summary>
    private const int GemmSharedQuads = GemmSharedStride / 4;

    /// <summary>
    /// Row stride for the tensor-core path: its fragment loads read rows k = t and t + 4 (t = lane % 4) at 8
    /// neighbouring columns, and a stride of 8 banks (72 floats) puts those 32 lanes on 32 banks; at 68 they pair up.
    /// </summary>
    internal const int MmaSharedStride = GemmMaxTile + 8;

    /// <summary>4-float vectors in one staged operand slice, sized for the wider of the two strides.</summary>
    internal const int GemmStageLength = GemmTileK * MmaSharedStride / 4;

    /// <summary>The wide tensor-core tile's block edge (<see cref="Tf32MmaWide"/>), 8 outputs per thread per side.</summary>
    internal const int WideTile = 128;

    /// <summary>4-float vectors in one staged slice of the wide tile: GemmTileK rows of WideTile + 8 floats.</summary>
    internal const int WideStageLength = GemmTileK * (WideTile + 8) / 4;

    /// <summary>4-float vectors in the two alternating stages of one operand of the wide tile.</summary>
    internal const int WideSharedLength = 2 * WideStageLength;

    /// <summary>The columns of the flat tensor-core tile (<see cref="Tf32MmaFlat"/>), 64 rows by 256.</summary>
    internal const int FlatTile = 256;

    /// <summary>4-float vectors in one staged column slice of the flat tile: GemmTileK rows of FlatTile + 8 floats.</summary>
    internal const int FlatStageLength = GemmTileK * (FlatTile + 8) / 4;

    /// <summary>4-float vectors in the two alternating stages of the flat tile's column operand.</summary>
    internal const int FlatSharedLength = 2 * FlatStageLength;

    /// <summary>4-float vectors in the two alternating stages of one operand.</summary>
    internal const int GemmSharedLength = 2 * GemmStageLength;

    /// <summary>CUDA's limit on a grid's y and z extents.</summary>
    private const int MaxGridY = 65535;

    /// <summary>Threads along each side of a tiling group on this accelerator.</summary>
    internal int GemmGroupSide => Accelerator.MaxNumThreadsPerGroup >= 256 ? 16 : 4;

    /// <summary>The output block edge (4 outputs per thread per side) on this accelerator.</summary>
    internal int GemmBlockEdge => 4 * GemmGroupSide;

    /// <summary>The prefetched values of a thread's first four slots in one operand slice.</summary>
    private struct Slots4
    {
        public float V0, V1, V2, V3;
    }

    /// <summary>
    /// Where a thread's loads go in one operand slice. Because the thread count is a multiple of both the block edge
    /// and GemmTileK (T is 4 or 16), each thread keeps one fixed index along the slice's fast axis, so slot i is
    /// (fixed, first + i step) and the runtime divisions happen once per block rather than per element.
    /// </summary>
    private readonly struct SlicePlan
    {
        /// <summary>
        /// True when the thread's k is fixed and m steps (slot i is m = First + i Step, k = Fixed); else m is fixed
        /// and k steps. m is the row (left operand) or column (right operand); elements sit at
        /// [k * Stride + m].
        /// </summary>
        public readonly bool KFixed;

        /// <summary>Whether the slice feeds the tensor cores: stride edge + 8, values stored as TF32.</summary>
        public readonly bool Tf32;
        public readonly int Fixed;
        public readonly int First;
        public readonly int Step;
        public readonly int Count;
        public readonly int Stride;

        public SlicePlan(bool contiguousInJ, bool left, int tid, int threads, int edge, bool tf32)
        {
            Tf32 = tf32;
            // The FMA path's vector loads assume GemmSharedStride whatever the edge (16 on the CPU accelerator).
            Stride = tf32 ? edge + 8 : GemmSharedStride;
            // Neighbouring threads take neighbouring elements along whichever axis is contiguous in memory: k for a
            // left operand contiguous in j, m for a right operand contiguous in j, and the other way round.
            KFixed = contiguousInJ == left;
            if (KFixed)
            {
                Fixed = tid % GemmTileK;
                First = tid / GemmTileK;
                Step = threads / GemmTileK;
                Count = edge / Step;
            }
            else
            {
                Fixed = tid % edge;
                First = tid / edge;
                Step = threads / edge;
                Count = GemmTileK / Step;
            }
        }

        public int K(int slot) => KFixed ? Fixed : First + slot * Step;

        public int M(int slot) => KFixed ? First + slot * Step : Fixed;
    }

    /// <summary>
    /// The right operand seen the way the left one is, as (m, k) with m the output column, so that one loader
    /// serves both slices.
    /// </summary>
    private readonly struct ColumnsFirst<TB>(TB b) : IGemmOperand
        where TB : struct, IGemmOperand
    {
        private readonly TB _b = b;

        public bool ContiguousInJ => !_b.ContiguousInJ;

        public int Stage(int k0) => _b.Stage(k0);

        public float Load(int i, int j, int stage) => _b.Load(j, i, stage);
    }

    /// <summary>
    /// Element (m, k) of slot i for the stage at k0 (m = row for the left operand, column for the right one seen
    /// through <see cref="ColumnsFirst{TB}"/>), or 0 outside the product. Outside, it still loads, at the nearest
    /// index inside, and discards the value: the load's index arithmetic then runs on every path, so the compiler
    /// can share what a thread's slots have in common (a gather's split of its fixed pixel index) instead of
    /// redoing it under each slot's bounds test.
    /// </summary>
    private static float LoadSlot<T>(T op, SlicePlan p, int slot, int m0, int extent, int k0, int kEnd, int stage)
        where T : struct, IGemmOperand
    {
        int gm = m0 + p.M(slot);
        int gk = k0 + p.K(slot);
        float v = op.Load(gm < extent ? gm : extent - 1, gk < kEnd ? gk : kEnd - 1, stage);
        return gm < extent && gk < kEnd ? v : 0f;
    }

    /// <summary>
    /// Stages one loaded element; for the tensor cores it is rounded to TF32 here, once, rather than at each of the
    /// fragment loads that read it (each staged element feeds 2 to 4 warps).
    /// </summary>
    private static void StoreSlot(ArrayView<float> stage, SlicePlan p, int slot, float value) =>
        stage[p.K(slot) * p.Stride + p.M(slot)] = p.Tf32 ? RoundTf32(value) : value;

    /// <summary>
    /// Issues the global loads of slots [first, first + 4) together, before any of their stores, so that a thread
    /// has four gathers in flight instead of waiting out each one's latency in turn.
    /// </summary>
    private static Slots4 LoadSlots<T>(T op, SlicePlan p, int first, int m0, int extent, int k0, int kEnd, int stage)
        where T : struct, IGemmOperand
    {
        Slots4 v;
        v.V0 = LoadSlot(op, p, first, m0, extent, k0, kEnd, stage);
        v.V1 = LoadSlot(op, p, first + 1, m0, extent, k0, kEnd, stage);
        v.V2 = LoadSlot(op, p, first + 2, m0, extent, k0, kEnd, stage);
        v.V3 = LoadSlot(op, p, first + 3, m0, extent, k0, kEnd, stage);
        return v;
    }

    private static void StoreSlots(ArrayView<float> stage, SlicePlan p, int first, Slots4 v)
    {
        StoreSlot(stage, p, first, v.V0);
        StoreSlot(stage, p, first + 1, v.V1);
        StoreSlot(stage, p, first + 2, v.V2);
        StoreSlot(stage, p, first + 3, v.V3);
    }

    /// <summary>
    /// Adds op(a) (rows [row0, row0 + 4T)) times op(b) (columns [col0, col0 + 4T)) over k in [kBegin, kEnd) and
    /// hands each in-bounds sum to <paramref name="c"/>. Every thread of the group must call it (it has barriers).
    /// </summary>
    /// <param name="sa">shared, two stages of GemmStageLength: the staged slices of a, GemmTileK rows each</param>
    /// <param name="sb">shared, two stages of GemmStageLength: the staged slices of b, GemmTileK rows each</param>
    internal static void GemmBlock<TA, TB, TC, TP, TM>(
        TA a, TB b, TC c, TP policy, TM math, ArrayView<Float4> sa, ArrayView<Float4> sb, int rows, int cols, int row0, int col0, int kBegin, int kEnd)
        where TA : struct, IGemmOperand
        where TB : struct, IGemmOperand
        where TC : struct, IGemmOutput
        where TP : struct, IStagePolicy
        where TM : struct, IStageMath<Quad>
    {
        var sums = Stages<TA, TB, TP, Quad, TM>(a, b, policy, math, sa, sb, rows, cols, row0, col0, kBegin, kEnd);
        if (math.TensorCores)
        {
            StoreMma(c, sums, rows, cols, row0, col0);
        }
        else
        {
            StoreQuad(c, sums, rows, cols, row0 + 4 * Group.IdxY, col0 + 4 * Group.IdxX);
        }
    }

    /// <summary>
    /// <see cref="GemmBlock"/> for the big tensor-core tiles, 128 x 128 (<see cref="Tf32MmaWide"/>) or 64 x 256
    /// (<see cref="Tf32MmaFlat"/>, for 64-channel layers), of 256 threads (CUDA only), each warp's 2048 outputs on
    /// the tensor cores. Per staged element they do twice the multiply-adds of the 64 x 64 tile, and per mma half
    /// the fragment loads: the 64 x 64 kernels spend most of their issue slots on the gathers and shared-memory
    /// traffic around the tensor cores (H100, Nsight Compute: 0.62-0.77 warps issued per scheduler and cycle), so
    /// those are what a larger tile divides.
    /// </summary>
    /// <param name="sa">shared, two stages of the math's StageLengthA</param>
    /// <param name="sb">shared, two stages of the math's StageLengthB</param>
    internal static void GemmBlockBig<TA, TB, TC, TP, TM>(
        TA a, TB b, TC c, TP policy, TM math, ArrayView<Float4> sa, ArrayView<Float4> sb, int rows, int cols, int row0, int col0, int kBegin, int kEnd)
        where TA : struct, IGemmOperand
        where TB : struct, IGemmOperand
        where TC : struct, IGemmOutput
        where TP : struct, IStagePolicy
        where TM : struct, IStageMath<Wide>
    {
        var sums = Stages<TA, TB, TP, Wide, TM>(a, b, policy, math, sa, sb, rows, cols, row0, col0, kBegin, kEnd);
        StoreMmaBig(c, sums, rows, cols, row0, col0, flat: math.EdgeB == FlatTile);
    }

    /// <summary>Plans both operands' slices for this thread and runs the reduction under the policy's schedule.</summary>
    private static TS Stages<TA, TB, TP, TS, TM>(
        TA a, TB b, TP policy, TM math, ArrayView<Float4> sa, ArrayView<Float4> sb, int rows, int cols, int row0, int col0, int kBegin, int kEnd)
        where TA : struct, IGemmOperand
        where TB : struct, IGemmOperand
        where TP : struct, IStagePolicy
        where TS : struct
        where TM : struct, IStageMath<TS>
    {
        int side = Group.DimX;
        int tid = Group.IdxY * side + Group.IdxX;
        int threads = side * Group.DimY;
        var pa = new SlicePlan(a.ContiguousInJ, left: true, tid, threads, math.EdgeA, math.TensorCores);
        var pb = new SlicePlan(b.ContiguousInJ, left: false, tid, threads, math.EdgeB, math.TensorCores);
        var bt = new ColumnsFirst<TB>(b);
        return policy.Prefetch
            ? PrefetchingStages<TA, ColumnsFirst<TB>, TS, TM>(a, bt, math, pa, pb, sa, sb, rows, cols, row0, col0, kBegin, kEnd)
            : OneStage<TA, ColumnsFirst<TB>, TS, TM>(a, bt, math, pa, pb, sa, sb, rows, cols, row0, col0, kBegin, kEnd);
    }

    /// <summary>Adds one staged k-slice into a thread's 4 x 4 block by fp32 FMAs.</summary>
    internal static Quad ComputeStageFma(Quad sums, ArrayView<Float4> sa, ArrayView<Float4> sb, int stage)
    {
        int at = stage * GemmStageLength;
        for (int k = 0; k < GemmTileK; k++)
        {
            sums = Fma(sums, sa[at + k * GemmSharedQuads + Group.IdxY], sb[at + k * GemmSharedQuads + Group.IdxX]);
        }
        return sums;
    }

    /// <summary>
    /// Loads slots [first, Count) of both operands' slices for the stage at k0 into one stage buffer, four of each
    /// at a time (Count is 16 x edge / threads: 4 for the 64 x 64 tile on a GPU, 16 on the CPU accelerator, 8 for
    /// the 128 x 128 tile, 4 and 16 for the 64 x 256 one).
    /// </summary>
    private static void LoadStage<TA, TB>(
        TA a, TB bt, SlicePlan pa, SlicePlan pb, ArrayView<float> stageA, ArrayView<float> stageB, int first, int rows, int cols, int row0, int col0, int k0, int kEnd,
        bool square)
        where TA : struct, IGemmOperand
        where TB : struct, IGemmOperand
    {
        int keyA = a.Stage(k0);
        int keyB = bt.Stage(k0);
        int common = pa.Count < pb.Count ? pa.Count : pb.Count;
        for (int i = first; i < common; i += 4)
        {
            var va = LoadSlots(a, pa, i, row0, rows, k0, kEnd, keyA);
            var vb = LoadSlots(bt, pb, i, col0, cols, k0, kEnd, keyB);
            StoreSlots(stageA, pa, i, va);
            StoreSlots(stageB, pb, i, vb);
        }
        // The flat tile's column slice has more slots than its row slice.
        if (square)
        {
            return;
        }
        int rest = first > common ? first : common;
        for (int i = rest; i < pa.Count; i += 4)
        {
            StoreSlots(stageA, pa, i, LoadSlots(a, pa, i, row0, rows, k0, kEnd, keyA));
        }
        for (int i = rest; i < pb.Count; i += 4)
        {
            StoreSlots(stageB, pb, i, LoadSlots(bt, pb, i, col0, cols, k0, kEnd, keyB));
        }
    }

    /// <summary>
    /// <see cref="LoadAfter"/>'s schedule: one stage in shared memory, loaded, then computed, with a barrier after
    /// each. It holds the fewest registers (the 64 x 64 convolutions: 56-80 on sm_90, against 80-96 prefetching),
    /// so the most blocks fit on a multiprocessor; a two-stage version without prefetch ran slower on large grids.
    /// </summary>
    private static TS OneStage<TA, TB, TS, TM>(
        TA a, TB bt, TM math, SlicePlan pa, SlicePlan pb, ArrayView<Float4> sa, ArrayView<Float4> sb, int rows, int cols, int row0, int col0, int kBegin, int kEnd)
        where TA : struct, IGemmOperand
        where TB : struct, IGemmOperand
        where TS : struct
        where TM : struct, IStageMath<TS>
    {
        var fa = sa.Cast<float>();
        var fb = sb.Cast<float>();
        var sums = default(TS);
        for (int k0 = kBegin; k0 < kEnd; k0 += GemmTileK)
        {
            LoadStage(a, bt, pa, pb, fa, fb, 0, rows, cols, row0, col0, k0, kEnd, math.Square);
            Group.Barrier();
            sums = math.Compute(sums, sa, sb, 0);
            Group.Barrier();
        }
        return sums;
    }

    /// <summary><see cref="PrefetchNext"/>'s schedule: two stages alternate, the next one's first slots prefetched.</summary>
    private static TS PrefetchingStages<TA, TB, TS, TM>(
        TA a, TB bt, TM math, SlicePlan pa, SlicePlan pb, ArrayView<Float4> sa, ArrayView<Float4> sb, int rows, int cols, int row0, int col0, int kBegin, int kEnd)
        where TA : struct, IGemmOperand
        where TB : struct, IGemmOperand
        where TS : struct
        where TM : struct, IStageMath<TS>
    {
        var fa = sa.Cast<float>();
        var fb = sb.Cast<float>();
        int stageFloatsA = math.StageLengthA * 4;
        int stageFloatsB = math.StageLengthB * 4;

        // Stage 0 before the loop; the loop then prefetches stage s + 1 while it computes stage s. An empty
        // reduction loads nothing: LoadSlot reads even outside the product.
        if (kBegin < kEnd)
        {
            LoadStage(a, bt, pa, pb, fa, fb, 0, rows, cols, row0, col0, kBegin, kEnd, math.Square);
        }
        Group.Barrier();

        var sums = default(TS);
        int current = 0;
        for (int k0 = kBegin; k0 < kEnd; k0 += GemmTileK)
        {
            int next = k0 + GemmTileK;
            bool more = next < kEnd;
            var nextA = default(Slots4);
            var nextB = default(Slots4);
            if (more)
            {
                nextA = LoadSlots(a, pa, 0, row0, rows, next, kEnd, a.Stage(next));
                nextB = LoadSlots(bt, pb, 0, col0, cols, next, kEnd, bt.Stage(next));
            }

            sums = math.Compute(sums, sa, sb, current);

            if (more)
            {
                // The other stage was last read before the previous barrier, so it is free to overwrite.
                var stageA = fa.SubView((1 - current) * stageFloatsA, stageFloatsA);
                var stageB = fb.SubView((1 - current) * stageFloatsB, stageFloatsB);
                StoreSlots(stageA, pa, 0, nextA);
                StoreSlots(stageB, pb, 0, nextB);
                LoadStage(a, bt, pa, pb, stageA, stageB, 4, rows, cols, row0, col0, next, kEnd, math.Square);
            }
            Group.Barrier();
            current = 1 - current;
        }
        return sums;
    }

    /// <summary>Sums of a thread's 4 x 4 block; a value type, so the compiler keeps it in registers.</summary>
    internal struct Quad
    {
        public float S00, S01, S02, S03, S10, S11, S12, S13, S20, S21, S22, S23, S30, S31, S32, S33;
    }

    /// <summary>A thread's sums in the wide tile: four 16 x 32 warp tiles stacked down the warp's 64 rows.</summary>
    internal struct Wide
    {
        public Quad T0, T1, T2, T3;
    }

    private static Quad Fma(Quad q, Float4 a, Float4 b)
    {
        q.S00 += a.X * b.X; q.S01 += a.X * b.Y; q.S02 += a.X * b.Z; q.S03 += a.X * b.W;
        q.S10 += a.Y * b.X; q.S11 += a.Y * b.Y; q.S12 += a.Y * b.Z; q.S13 += a.Y * b.W;
        q.S20 += a.Z * b.X; q.S21 += a.Z * b.Y; q.S22 += a.Z * b.Z; q.S23 += a.Z * b.W;
        q.S30 += a.W * b.X; q.S31 += a.W * b.Y; q.S32 += a.W * b.Z; q.S33 += a.W * b.W;
        return q;
    }

    private static void StoreQuad<TC>(TC c, Quad q, int rows, int cols, int row, int col)
        where TC : struct, IGemmOutput
    {
        GemmStoreRow(c, rows, cols, row, col, q.S00, q.S01, q.S02, q.S03);
        GemmStoreRow(c, rows, cols, row + 1, col, q.S10, q.S11, q.S12, q.S13);
        GemmStoreRow(c, rows, cols, row + 2, col, q.S20, q.S21, q.S22, q.S23);
        GemmStoreRow(c, rows, cols, row + 3, col, q.S30, q.S31, q.S32, q.S33);
    }

    private static void GemmStoreRow<TC>(TC c, int rows, int cols, int row, int col, float s0, float s1, float s2, float s3)
        where TC : struct, IGemmOutput
    {
        StorePair(c, rows, cols, row, col, s0, s1);
        StorePair(c, rows, cols, row, col + 2, s2, s3);
    }

    /// <summary>Hands (row, col) and (row, col + 1) to the output, each only inside the product's bounds.</summary>
    private static void StorePair<TC>(TC c, int rows, int cols, int row, int col, float s0, float s1)
        where TC : struct, IGemmOutput
    {
        if (row >= rows)
        {
            return;
        }
        if (col < cols)
        {
            c.Store(row, col, s0);
        }
        if (col + 1 < cols)
        {
            c.Store(row, col + 1, s1);
        }
    }

    /// <summary>
    /// The launch shape for a (rows x cols) product split into <paramref name="splits"/> reduction slices:
    /// grid x = column blocks, y = row blocks (CUDA allows 65535 there), z = slices; blocks of
    /// <see cref="GemmBlockEdge"/>, or of <see cref="WideTile"/> for the wide tensor-core tile.
    /// </summary>
    internal KernelConfig GemmConfig(int rows, int cols, int splits = 1, ConvTile tile = ConvTile.Narrow)
    {
        int side = GemmGroupSide;
        int edge = tile == ConvTile.Wide ? WideTile : 4 * side;
        int colEdge = tile == ConvTile.Wide ? WideTile : tile == ConvTile.Flat ? FlatTile : edge;
        int rowBlocks = (rows + edge - 1) / edge;
        if (rowBlocks > MaxGridY)
        {
            throw new NotSupportedException(
                $"a {rows} x {cols} product needs {rowBlocks} row blocks of {edge}, more than the {MaxGridY} a CUDA grid allows; swap the operands (C^T = B^T A^T)");
        }
        return new KernelConfig(
            new Index3D((cols + colEdge - 1) / colEdge, rowBlocks, splits),
            new Index3D(side, side, 1));
    }

    /// <summary>
    /// Runs the block at grid (x, y) over reduction slice z, each slice <paramref name="chunk"/> deep (a multiple of
    /// GemmTileK): the body of every kernel that is one tiled product.
    /// </summary>
    internal static void GemmGridBlock<TA, TB, TC, TP, TM>(TA a, TB b, TC c, TP policy, TM math, int rows, int cols, int depth, int chunk)
        where TA : struct, IGemmOperand
        where TB : struct, IGemmOperand
        where TC : struct, IGemmOutput
        where TP : struct, IStagePolicy
        where TM : struct, IStageMath<Quad>
    {
        var sa = SharedMemory.Allocate<Float4>(GemmSharedLength);
        var sb = SharedMemory.Allocate<Float4>(GemmSharedLength);
        int edge = 4 * Group.DimX;
        int kBegin = Grid.IdxZ * chunk;
        int kEnd = kBegin + chunk < depth ? kBegin + chunk : depth;
        GemmBlock(a, b, c, policy, math, sa, sb, rows, cols, Grid.IdxY * edge, Grid.IdxX * edge, kBegin, kEnd);
    }

    /// <summary><see cref="GemmGridBlock"/> for the 128 x 128 tensor-core tile (<see cref="GemmBlockBig"/>).</summary>
    internal static void GemmGridBlockWide<TA, TB, TC, TP>(TA a, TB b, TC c, TP policy, int rows, int cols, int depth, int chunk)
        where TA : struct, IGemmOperand
        where TB : struct, IGemmOperand
        where TC : struct, IGemmOutput
        where TP : struct, IStagePolicy
    {
        var sa = SharedMemory.Allocate<Float4>(WideSharedLength);
        var sb = SharedMemory.Allocate<Float4>(WideSharedLength);
        int kBegin = Grid.IdxZ * chunk;
        int kEnd = kBegin + chunk < depth ? kBegin + chunk : depth;
        GemmBlockBig(a, b, c, policy, default(Tf32MmaWide), sa, sb, rows, cols, Grid.IdxY * WideTile, Grid.IdxX * WideTile, kBegin, kEnd);
    }

    /// <summary><see cref="GemmGridBlock"/> for the 64 x 256 tensor-core tile (<see cref="GemmBlockBig"/>); one reduction slice.</summary>
    internal static void GemmGridBlockFlat<TA, TB, TC, TP>(TA a, TB b, TC c, TP policy, int rows, int cols, int depth)
        where TA : struct, IGemmOperand
        where TB : struct, IGemmOperand
        where TC : struct, IGemmOutput
        where TP : struct, IStagePolicy
    {
        var sa = SharedMemory.Allocate<Float4>(GemmSharedLength);
        var sb = SharedMemory.Allocate<Float4>(FlatSharedLength);
        GemmBlockBig(a, b, c, policy, default(Tf32MmaFlat), sa, sb, rows, cols, Grid.IdxY * GemmMaxTile, Grid.IdxX * FlatTile, 0, depth);
    }
}

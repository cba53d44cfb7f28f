using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// 3x3 stride-1 convolutions by Winograd's minimal filtering F(4x4, 3x3) (Lavin and Gray, "Fast Algorithms for
/// Convolutional Neural Networks", 2016), for AVX2 + FMA; the methods are generic over the tile (WinogradTiles.cs), and
/// WinogradStride2 runs 3x3 stride-2 convolutions on them as F(4x4, 2x2) over the four phases of x. Each 4x4 output tile is A^T [ (G g G^T) . (B^T d B) ] A,
/// with d the 6x6 input tile and g the 3x3 kernel, so a tile costs 36 multiply-adds per (k, c) pair instead of
/// 144: the 36 elementwise products summed over c are 36 GEMMs, U[e] (K x C) . V[e] (C x tiles), which run on the
/// GEMM's micro-kernel. The transforms write straight into the micro-kernel's packed layouts, so nothing is packed
/// twice; tiles go in blocks whose V and M stay in L2 where channels are few, in L3 where they are many.
///   forward          y = A^T M A,  M[e] = U[e] V[e]
///   backward data    the forward of dy with w's kernels swapped and flipped, read so by the weight transform
///   backward weight  dw += G^T dU G,  dU[e] = sum over tiles of (A dy A^T)[e] V[e]^T
/// fp32 rounding: the sums over channels happen in the transformed domain, and the output transform (coefficients up
/// to 8 x 8) amplifies their rounding: about 3e-6 of the outputs' rms, 7-12x the plain GEMM's error (measured in
/// docs/BENCHMARKS.md, "Winograd"), held to Tol.Winograd by the tests.
/// </summary>
internal static unsafe class Winograd
{
    /// <summary>The most cells a tile has (6 x 6): each channel's cells in the transforms' work arrays lie this far apart.</summary>
    private const int Cells = 36;

    /// <summary>Cells per tile, the count of products and GEMMs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int E<T>()
        where T : struct, IWinogradTile => T.Alpha * T.Alpha;

    /// <summary>Floats of V and M (or dM) one block may hold per thread where channels are many: they stay in L3.</summary>
    private const long BlockFloats = 4L << 20;

    /// <summary>Floats of V and M one block may hold where channels are few: they stay in a 512 KiB L2.</summary>
    private const long L2Floats = 80L << 10;

    [ThreadStatic]
    private static float[]? s_weights;

    // The weight gradient's accumulators, one per part of the tiles; held by the calling thread.
    [ThreadStatic]
    private static float[]?[]? s_gradients;

    // Each part's V and M (or dM), held by the calling thread: a part keeps the same arrays from call to call
    // whichever pool thread runs it; held per pool thread, every new pool thread grew its own. A part is one of
    // Environment.ProcessorCount workers.
    [ThreadStatic]
    private static float[]?[]? s_v;

    [ThreadStatic]
    private static float[]?[]? s_m;

    // Each part's phases of the images of its block of tiles (BlockInput), held by the calling thread.
    [ThreadStatic]
    private static float[]?[]? s_images;

    /// <summary>3x3 stride 1 on AVX2 + FMA, with x and y small enough for the gathers' 32-bit offsets.</summary>
    public static bool Supports(in Conv2dShape s)
        => s.R == 3 && s.Stride == 1 && Avx2.IsSupported && Fma.IsSupported && s.OutH > 0 && s.OutW > 0
            && (long)s.N * s.C * s.H * s.W < int.MaxValue && (long)s.N * s.K * s.OutH * s.OutW < int.MaxValue;

    /// <summary>y (N, K, OH, OW) = conv(x, w), written.</summary>
    public static void Forward(float* y, float* x, float* w, in Conv2dShape s, GemmTiling tiling)
        => Forward<Tile4x4K3>(y, x, w, new Geometry(s), tiling, swapped: false, accumulate: false);

    /// <summary>
    /// dx (N, C, H, W) = the gradient of conv(x, w) given dy, written, or added to dx with
    /// <paramref name="accumulate"/>: the forward of dy with w's kernels swapped (C, K) and flipped, padded 2 - pad.
    /// The weight transform reads w that way, so no flipped copy is made.
    /// </summary>
    public static void BackwardData(float* dx, float* dy, float* w, in Conv2dShape s, GemmTiling tiling, bool accumulate = false)
        => Forward<Tile4x4K3>(dx, dy, w, new Geometry(new Conv2dShape(s.N, s.K, s.OutH, s.OutW, s.C, 3, 1, 2 - s.Pad)), tiling, swapped: true, accumulate);

    /// <summary>
    /// The forward over g; with <paramref name="swapped"/>, w is stored (C, K, R, R) and each kernel is flipped; with
    /// <paramref name="accumulate"/>, the output transform adds to y instead of writing it.
    /// </summary>
    internal static void Forward<T>(float* y, float* x, float* w, in Geometry g, GemmTiling tiling, bool swapped, bool accumulate)
        where T : struct, IWinogradTile
    {
        int mr = tiling.MR;
        int kSlivers = (g.K + mr - 1) / mr;
        float* u = Scratch.Floats(ref s_weights, (long)E<T>() * kSlivers * mr * g.C);
        TransformWeights<T>(u, w, g, mr, swapped);
        var (tb, blocks) = Blocks<T>(g, tiling.NR);
        int parts = Math.Min(Environment.ProcessorCount, blocks);
        int most = (tb + tiling.NR - 1) / tiling.NR * tiling.NR;
        var work = stackalloc nint[2 * parts];
        PartBuffers(parts, (long)E<T>() * g.C * most, (long)E<T>() * g.K * most, work);
        var images = stackalloc nint[parts];
        ImageBuffers(parts, g, tb, images);
        nint yp = (nint)y, xp = (nint)x, up = (nint)u, wp = (nint)work, ip = (nint)images;
        var geometry = g;
        int next = -1;
        void Part(int p)
        {
            float* v = (float*)((nint*)wp)[2 * p];
            float* m = (float*)((nint*)wp)[2 * p + 1];
            float* buffer = (float*)((nint*)ip)[p];
            // Blocks are taken in turn as parts finish, so a core the host slows down does fewer of them; each block's
            // outputs are computed the same way whichever part takes it, so the result does not depend on the order.
            for (int b = Interlocked.Increment(ref next); b < blocks; b = Interlocked.Increment(ref next))
            {
                int t0 = b * tb;
                int count = Math.Min(tb, geometry.Tiles - t0);
                int cols = (count + tiling.NR - 1) / tiling.NR * tiling.NR;
                TransformInput<T>(v, BlockInput((float*)xp, buffer, geometry, t0, count, parallel: false), geometry, t0, count, tiling.NR);
                Multiply<T>(m, (float*)up, v, geometry, cols, tiling);
                if (geometry.Phases == PhaseSide.Outputs)
                {
                    TransformOutputMerged<T>((float*)yp, m, geometry, t0, count, cols, accumulate);
                }
                else
                {
                    TransformOutput<T>((float*)yp, m, geometry, t0, count, cols, accumulate);
                }
            }
        }
        Run(parts, Part);
    }

    /// <summary>work[2 p] and work[2 p + 1]: part p's V and M arrays, of at least vFloats and mFloats.</summary>
    private static void PartBuffers(int parts, long vFloats, long mFloats, nint* work)
    {
        s_v ??= [];
        s_m ??= [];
        if (s_v.Length < parts)
        {
            Array.Resize(ref s_v, parts);
            Array.Resize(ref s_m, parts);
        }
        for (int p = 0; p < parts; p++)
        {
            work[2 * p] = (nint)Scratch.Floats(ref s_v[p], vFloats);
            work[2 * p + 1] = (nint)Scratch.Floats(ref s_m![p], mFloats);
        }
    }

    /// <summary>
    /// images[p]: part p's array for the phases of the images that a block of tb tiles touches, where the inputs are a
    /// stride-2 convolution's phases (Geometry.Strided); else nothing.
    /// </summary>
    private static void ImageBuffers(int parts, in Geometry g, int tb, nint* images)
    {
        if (g.Phases != PhaseSide.Inputs)
        {
            return;
        }
        s_images ??= [];
        if (s_images.Length < parts)
        {
            Array.Resize(ref s_images, parts);
        }
        // A block of tb tiles starting anywhere touches at most tb / perImage + 2 images.
        long floats = ((tb / (g.TilesH * g.TilesW)) + 2) * WinogradStride2.ImagePhases(g.Strided);
        for (int p = 0; p < parts; p++)
        {
            images[p] = (nint)Scratch.Floats(ref s_images[p], floats);
        }
    }

    /// <summary>
    /// The x that the input transform reads for tiles t0 .. t0+count: x itself, or where the inputs are a stride-2
    /// convolution's phases, those of the tiles' images, split from that convolution's x into buffer now. Split block by
    /// block, the phases are still in cache when the transform reads them, and no copy of the whole of x is made
    /// (524 MB at 64 -> 128 channels and 2,000 crops of 32x32). Split whole beforehand, the forward ran 2-3% and the
    /// weight gradient up to 3% slower (medians, calls alternating; docs/BENCHMARKS.md).
    /// </summary>
    private static float* BlockInput(float* x, float* buffer, in Geometry g, int t0, int count, bool parallel)
    {
        if (g.Phases != PhaseSide.Inputs)
        {
            return x;
        }
        int perImage = g.TilesH * g.TilesW;
        return WinogradStride2.SplitImages(buffer, x, g.Strided, t0 / perImage, ((t0 + count - 1) / perImage) + 1, parallel);
    }

    /// <summary>body(0 .. count-1) on the pool, or inline when there is one or the work is too small to share.</summary>
    private static void Run(int count, Action<int> body, bool parallel = true)
    {
        if (count == 1 || !parallel)
        {
            for (int i = 0; i < count; i++)
            {
                body(i);
            }
        }
        else
        {
            Parallel.For(0, count, body);
        }
    }

    /// <summary>
    /// From this many (k, c) pairs (256 x 256: 9.4 MB of accumulators per part) the weight gradient shares its blocks
    /// between the threads (BackwardWeightShared). Paths bench at batch 64, both ways in turn: 512 channels at 4x4
    /// 123 -> 317-381 GFLOP/s best, 256 at 8x8 262-290 -> 337-354; at 64 and 128 channels the best and the median
    /// disagreed on which was faster, so those keep a part per thread.
    /// </summary>
    private const long SharedBlockPairs = 256 * 256;

    /// <summary>Per-row transforms of the weights below this many (k, c) pairs run on the calling thread.</summary>
    private const long ParallelPairs = 4096;

    /// <summary>dw (K, C, 3, 3) += the gradient of conv(x, w) given dy, accumulated.</summary>
    public static void BackwardWeight(float* dw, float* dy, float* x, in Conv2dShape s, GemmTiling tiling)
        => BackwardWeight(dw, dy, x, s, tiling, sharedBlocks: SharesBlocks(new Geometry(s)));

    /// <summary>As above, with the blocks of tiles shared between the threads or a fixed share per thread (tests pin both).</summary>
    internal static void BackwardWeight(float* dw, float* dy, float* x, in Conv2dShape s, GemmTiling tiling, bool sharedBlocks)
        => BackwardWeight<Tile4x4K3>(dw, dy, x, new Geometry(s), tiling, sharedBlocks);

    /// <summary>Whether the weight gradient over g shares its blocks between the threads (SharedBlockPairs).</summary>
    internal static bool SharesBlocks(in Geometry g) => (long)g.K * g.C >= SharedBlockPairs;

    /// <summary>dw += the weight gradient over g (stored as <see cref="AccumulateRow{T}"/> says).</summary>
    internal static void BackwardWeight<T>(float* dw, float* dy, float* x, in Geometry geometry, GemmTiling tiling, bool sharedBlocks)
        where T : struct, IWinogradTile
    {
        var g = geometry;
        if (sharedBlocks)
        {
            BackwardWeightShared<T>(dw, dy, x, g, tiling);
            return;
        }
        int parts = Math.Max(1, Math.Min(Environment.ProcessorCount, g.Tiles / 8));
        int tb = WeightBlockTiles<T>(g, BlockFloats);
        var sums = stackalloc nint[parts];
        var work = stackalloc nint[2 * parts];
        WeightGradientBuffers<T>(parts, g, tb, tiling, sums, work);
        var images = stackalloc nint[parts];
        ImageBuffers(parts, g, tb, images);
        nint dyp = (nint)dy, xp = (nint)x, sp = (nint)sums, wp = (nint)work, ip = (nint)images;
        void Part(int p)
        {
            float* du = (float*)((nint*)sp)[p];
            float* v = (float*)((nint*)wp)[2 * p];
            float* m = (float*)((nint*)wp)[2 * p + 1];
            float* buffer = (float*)((nint*)ip)[p];
            // A fixed share of the tiles per part, unlike the forward's blocks taken in turn: which tiles a part
            // sums decides the rounding, and the gradient must come out the same, bit for bit, on every run.
            int first = (int)((long)g.Tiles * p / parts);
            int last = (int)((long)g.Tiles * (p + 1) / parts);
            for (int t0 = first; t0 < last; t0 += tb)
            {
                int count = Math.Min(tb, last - t0);
                // The part's first block writes its accumulator whole (beta 0), so it need not be cleared.
                float* xb = BlockInput((float*)xp, buffer, g, t0, count, parallel: false);
                WeightGradientBlock<T>(du, v, m, (float*)dyp, xb, g, t0, count, tb, t0 == first ? 0f : 1f, tiling);
            }
        }
        Run(parts, Part);
        AccumulateWeights<T>(dw, sums, parts, g);
    }

    /// <summary>
    /// du[e] (K x C) = beta du[e] + the sum over tiles t0 .. t0+count of dM[e] V[e]^T. The tiles are the GEMM's
    /// reduction, so both transforms write tile-major slivers (dM as the packed A, mr output channels per tile; V as
    /// the packed B, nr input channels per tile), and only real tiles are written, so nothing past count is summed.
    /// </summary>
    private static void WeightGradientBlock<T>(float* du, float* v, float* m, float* dy, float* x, in Geometry g, int t0, int count, int tb, float beta, GemmTiling tiling)
        where T : struct, IWinogradTile
    {
        TransformInputByTile<T>(v, x, g, t0, count, tb, tiling.NR);
        TransformOutputGradient<T>(m, dy, g, t0, count, tb, tiling.MR);
        WeightGradientProducts<T>(du, v, m, g, count, tb, beta, tiling, 0, E<T>());
    }

    /// <summary>
    /// The weight gradient where the channels are many and the tiles few (512 channels at 4x4): there, one part's
    /// accumulators (36 K C floats, 38 MB) outweigh its tiles' transforms, and a second part's set, written and then
    /// summed, cost more than it saved. So both threads work on one block of tiles at a time, first transforming
    /// it (one V, one dM), then taking the E products (36, or 25) in turn into one accumulator. Each e still sums its blocks in
    /// order, so the gradient comes out the same on every run.
    /// </summary>
    private static void BackwardWeightShared<T>(float* dw, float* dy, float* x, Geometry g, GemmTiling tiling)
        where T : struct, IWinogradTile
    {
        int most = WeightBlockTiles<T>(g, SharedBlockFloats);
        int blocks = (g.Tiles + most - 1) / most;
        int tb = (g.Tiles + blocks - 1) / blocks;
        var sums = stackalloc nint[1];
        var work = stackalloc nint[2];
        WeightGradientBuffers<T>(1, g, tb, tiling, sums, work);
        var images = stackalloc nint[1];
        ImageBuffers(1, g, tb, images);
        nint dyp = (nint)dy, dup = sums[0], vp = work[0], mp = work[1];
        for (int b = 0; b < blocks; b++)
        {
            int t0 = b * tb;
            int count = Math.Min(tb, g.Tiles - t0);
            float beta = b == 0 ? 0f : 1f;
            nint xp = (nint)BlockInput(x, (float*)images[0], g, t0, count, parallel: true);
            Parallel.Invoke(
                () => TransformInputByTile<T>((float*)vp, (float*)xp, g, t0, count, tb, tiling.NR),
                () => TransformOutputGradient<T>((float*)mp, (float*)dyp, g, t0, count, tb, tiling.MR));
            Parallel.For(0, E<T>(), e => WeightGradientProducts<T>((float*)dup, (float*)vp, (float*)mp, g, count, tb, beta, tiling, e, e + 1));
        }
        AccumulateWeights<T>(dw, sums, 1, g);
    }

    /// <summary>
    /// Floats of V and dM the shared weight gradient's one block may hold: what two threads' blocks would (32 MB, the
    /// L3 of the machine measured). Each block after the first reads and adds to all the accumulators (13 MB at
    /// 128 -> 256 channels, stride 2) where the first only writes them, so fewer, larger blocks pay: there, at batch 64,
    /// one block of 256 tiles instead of two of 128 ran 4-7% faster, and at 256 -> 512, batch 160, one of 160 instead
    /// of two of 80 ran 5-13% faster (medians, calls alternating; docs/BENCHMARKS.md). The stride-1 shapes that share
    /// blocks (256 and 512 channels) ran the same.
    /// </summary>
    private const long SharedBlockFloats = 2 * BlockFloats;

    /// <summary>
    /// Tiles per block of the weight gradient: as many as keep its V and dM within <paramref name="floats"/>, and at
    /// most one KC step of the micro-kernel, whose reduction they are.
    /// </summary>
    private static int WeightBlockTiles<T>(in Geometry g, long floats)
        where T : struct, IWinogradTile => (int)Math.Clamp(floats / (E<T>() * (long)(g.C + g.K)), 8, GemmBlocking.KC);

    /// <summary>
    /// sums[p]: part p's accumulator (E K C floats); work[2 p], work[2 p + 1]: its V and dM for blocks of tb tiles,
    /// tile-major slivers (<see cref="WeightGradientBlock"/>). All held by the calling thread.
    /// </summary>
    private static void WeightGradientBuffers<T>(int parts, in Geometry g, int tb, GemmTiling tiling, nint* sums, nint* work)
        where T : struct, IWinogradTile
    {
        s_gradients ??= [];
        if (s_gradients.Length < parts)
        {
            Array.Resize(ref s_gradients, parts);
        }
        for (int p = 0; p < parts; p++)
        {
            sums[p] = (nint)Scratch.Floats(ref s_gradients[p], E<T>() * (long)g.K * g.C);
        }
        PartBuffers(
            parts,
            (long)E<T>() * ((g.C + tiling.NR - 1) / tiling.NR) * tb * tiling.NR,
            (long)E<T>() * ((g.K + tiling.MR - 1) / tiling.MR) * SliverA(tb, tiling.MR),
            work);
    }

    /// <summary>du[e] = beta du[e] + dM[e] V[e]^T over a block's count tiles, for e0 &lt;= e &lt; e1.</summary>
    /// <remarks>With phases, only the slivers of channels whose products at e are not all zero; AccumulateRow ignores the rest.</remarks>
    private static void WeightGradientProducts<T>(float* du, float* v, float* m, in Geometry g, int count, int tb, float beta, GemmTiling tiling, int e0, int e1)
        where T : struct, IWinogradTile
    {
        int mr = tiling.MR;
        int nr = tiling.NR;
        int kSlivers = (g.K + mr - 1) / mr;
        int cSlivers = (g.C + nr - 1) / nr;
        for (int e = e0; e < e1; e++)
        {
            var c = new GemmMatrix(du + (long)e * g.K * g.C, g.C);
            var (from, to) = g.Active(e, T.Alpha, PhaseSide.Inputs);
            for (int j = from / nr; j < (to + nr - 1) / nr; j++)
            {
                float* b = v + ((long)e * cSlivers + j) * tb * nr;
                for (int i = 0; i < kSlivers; i++)
                {
                    float* a = m + ((long)e * kSlivers + i) * SliverA(tb, mr);
                    GemmDriver.Tile(a, b, count, c, i * mr, j * nr, Math.Min(mr, g.K - i * mr), Math.Min(nr, g.C - j * nr), 1f, beta, tiling);
                }
            }
        }
    }

    /// <summary>
    /// v gets V[e] of tiles t0 .. t0+count as packed B slivers with the tiles as the reduction: per e and sliver of
    /// nr channels, tile-major with nr floats per tile (channels past C zero). Eight channels of eight tiles are
    /// transformed, then turned by an 8x8 transpose so each tile's eight channels are stored as one vector.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformInputByTile<T>(float* v, float* x, in Geometry g, int t0, int count, int tb, int nr)
        where T : struct, IWinogradTile
    {
        int cSlivers = (g.C + nr - 1) / nr;
        var cells = stackalloc Vector256<float>[8 * Cells];
        var masks = stackalloc Vector256<float>[6 * 8];
        int* offsets = stackalloc int[8];
        var o = stackalloc Vector256<float>[8];
        for (int t = 0; t < count; t += 8)
        {
            bool inside = InputLanes<T>(g, t0, t, count, masks, offsets);
            int lanes = Math.Min(8, count - t);
            for (int c0 = 0; c0 < cSlivers * nr; c0 += 8)
            {
                for (int q = 0; q < 8; q++)
                {
                    if (c0 + q < g.C)
                    {
                        if (c0 + q + 2 < g.C)
                        {
                            PrefetchRows(x + (c0 + q + 2) * g.InputPlane, g.W, offsets, T.Alpha);
                        }
                        InputTile<T>(x + (c0 + q) * g.InputPlane, g.W, offsets, masks, inside, cells + Cells * q);
                    }
                    else
                    {
                        new Span<Vector256<float>>(cells + Cells * q, Cells).Clear();
                    }
                }
                float* dst = v + (long)(c0 / nr) * tb * nr + (long)t * nr + c0 % nr;
                for (int e = 0; e < E<T>(); e++)
                {
                    CellAcrossChannels(cells, e, o);
                    float* to = dst + (long)e * cSlivers * tb * nr;
                    for (int l = 0; l < lanes; l++)
                    {
                        Avx.Store(to + l * nr, o[l]);
                    }
                }
            }
        }
    }

    /// <summary>
    /// m gets dM[e] = (A dy A^T)[e] of tiles t0 .. t0+count as packed A slivers with the tiles as the reduction:
    /// per e and sliver of mr output channels, tile-major with mr floats per tile (channels past K zero). A tile's
    /// cells past the output plane's edge read 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformOutputGradient<T>(float* m, float* dy, in Geometry g, int t0, int count, int tb, int mr)
        where T : struct, IWinogradTile
    {
        int kSlivers = (g.K + mr - 1) / mr;
        long plane = (long)g.OutH * g.OutW;
        var cells = stackalloc Vector256<float>[8 * Cells];
        var masks = stackalloc Vector128<float>[4 * 8];
        var o = stackalloc Vector256<float>[8];
        int* lanesAt = stackalloc int[8];
        int* tiles = stackalloc int[8];
        long* bases = stackalloc long[count];
        int* heights = stackalloc int[count];
        int* widths = stackalloc int[count];
        TileBlocks(g, t0, count, 4, g.OutH, g.OutW, g.K * plane, bases, heights, widths);
        new Span<Vector256<float>>(cells, 8 * Cells).Clear();
        for (int t = 0; t < count; t += 8)
        {
            bool inside = true;
            for (int l = 0; l < 8; l++)
            {
                int q = Math.Min(t + l, count - 1);
                tiles[l] = q;
                lanesAt[l] = (int)bases[q];
                inside &= heights[q] == 4 && widths[q] == 4;
            }
            if (!inside)
            {
                for (int l = 0; l < 8; l++)
                {
                    int q = tiles[l];
                    var row = InRange(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), widths[q]).GetLower();
                    for (int i = 0; i < 4; i++)
                    {
                        masks[4 * l + i] = i < heights[q] ? row : Vector128<float>.Zero;
                    }
                }
            }
            int lanes = Math.Min(8, count - t);
            for (int k0 = 0; k0 < g.K; k0 += mr)
            {
                for (int q = 0; q < mr; q++)
                {
                    if (k0 + q < g.K)
                    {
                        // One channel ahead, not two as for x: on 2 Xeon cores (AVX-512) the 64ch@32x32 weight gradient
                        // at batch 160 ran 300 -> 350 GFLOP/s (median) one ahead and unchanged two, three or eight
                        // ahead; at 128 channels +6%, smaller planes within the noise.
                        if (k0 + q + 1 < g.K)
                        {
                            PrefetchRows(dy + (k0 + q + 1) * plane, g.OutW, lanesAt, 4);
                        }
                        GradientTile<T>(dy + (k0 + q) * plane, g.OutW, lanesAt, masks, inside, cells + Cells * q);
                    }
                    else
                    {
                        new Span<Vector256<float>>(cells + Cells * q, Cells).Clear();
                    }
                }
                float* dst = m + (long)(k0 / mr) * SliverA(tb, mr) + (long)t * mr;
                for (int e = 0; e < E<T>(); e++)
                {
                    CellAcrossChannels(cells, e, o);
                    // 8-wide stores in increasing tile order: each spills mr - 8 floats into the next tile's slot, which
                    // the next store overwrites; the last spills into the sliver's slack.
                    float* to = dst + (long)e * kSlivers * SliverA(tb, mr);
                    for (int l = 0; l < lanes; l++)
                    {
                        Avx.Store(to + l * mr, o[l]);
                    }
                }
            }
        }
    }

    /// <summary>
    /// o[l] gets lane l of cell e from eight cell arrays (Cells apart), array q's in lane q: one 8x8 transpose, so that
    /// what the eight arrays (channels, or kernel rows) hold for lane l goes out as one vector.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CellAcrossChannels(Vector256<float>* cells, int e, Vector256<float>* o)
        => Transpose8x8.Core(
            cells[e], cells[Cells + e], cells[(2 * Cells) + e], cells[(3 * Cells) + e], cells[(4 * Cells) + e], cells[(5 * Cells) + e], cells[(6 * Cells) + e], cells[(7 * Cells) + e],
            out o[0], out o[1], out o[2], out o[3], out o[4], out o[5], out o[6], out o[7]);

    /// <summary>Floats per packed dM sliver: tb tiles of mr, and slack for the last 8-wide store's spill.</summary>
    private static long SliverA(int tb, int mr) => (long)tb * mr + 8;

    /// <summary>
    /// cells[Alpha i + j] = (A dy A^T)[i, j] for eight 4x4 tiles of one dy plane: rows through A first, then columns.
    /// Each tile's row comes in as one 4-float load (masked at the plane's edges); rows r and r + 4 share a register
    /// and a 4x4 transpose within the 128-bit lanes leaves one column of all eight tiles per vector (no gathers).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradientTile<T>(float* plane, int ld, int* offsets, Vector128<float>* masks, bool inside, Vector256<float>* cells)
        where T : struct, IWinogradTile
    {
        int alpha = T.Alpha;
        for (int i = 0; i < 4; i++)
        {
            float* row = plane + (long)i * ld;
            var v0 = Vector256.Create(Row4(row + offsets[0], masks[i], inside), Row4(row + offsets[4], masks[16 + i], inside));
            var v1 = Vector256.Create(Row4(row + offsets[1], masks[4 + i], inside), Row4(row + offsets[5], masks[20 + i], inside));
            var v2 = Vector256.Create(Row4(row + offsets[2], masks[8 + i], inside), Row4(row + offsets[6], masks[24 + i], inside));
            var v3 = Vector256.Create(Row4(row + offsets[3], masks[12 + i], inside), Row4(row + offsets[7], masks[28 + i], inside));
            var t0 = Avx.UnpackLow(v0, v1);
            var t1 = Avx.UnpackHigh(v0, v1);
            var t2 = Avx.UnpackLow(v2, v3);
            var t3 = Avx.UnpackHigh(v2, v3);
            T.Gradient1D(Avx.Shuffle(t0, t2, 0x44), Avx.Shuffle(t0, t2, 0xEE), Avx.Shuffle(t1, t3, 0x44), Avx.Shuffle(t1, t3, 0xEE), cells + alpha * i, 1);
        }
        for (int j = 0; j < alpha; j++)
        {
            T.Gradient1D(cells[j], cells[alpha + j], cells[(2 * alpha) + j], cells[(3 * alpha) + j], cells + j, alpha);
        }
    }

    /// <summary>4 floats of one tile's dy row: a plain load inside the plane, else masked (masked lanes read 0, never fault).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Row4(float* at, Vector128<float> mask, bool inside)
        => inside ? Sse.LoadVector128(at) : Avx.MaskLoad(at, mask);

    /// <summary>dw[k, c] += G^T dU[k, c] G, with dU the sum of the parts' accumulators; eight channels at once.</summary>
    private static void AccumulateWeights<T>(float* dw, nint* sums, int parts, in Geometry g)
        where T : struct, IWinogradTile
    {
        nint dwp = (nint)dw, sp = (nint)sums;
        var geometry = g;
        Run(g.K, k => AccumulateRow<T>((float*)dwp, (nint*)sp, parts, geometry, k), (long)g.K * g.C >= ParallelPairs);
    }

    /// <summary>
    /// Row k of <see cref="AccumulateWeights{T}"/>: dw is (K, C, R, R), or with phases on the inputs the 3x3 stride-2
    /// kernel (K, C / 4, 3, 3) that each phase's 2x2 taps belong to (<see cref="WinogradStride2.Tap"/>); the phases'
    /// cells whose products were skipped are read as zero.
    /// </summary>
    private static void AccumulateRow<T>(float* dw, nint* sums, int parts, in Geometry g, int k)
        where T : struct, IWinogradTile
    {
        int alpha = T.Alpha;
        int r = T.R;
        long perE = (long)g.K * g.C;
        bool phased = g.Phases == PhaseSide.Inputs;
        int group = phased ? g.C / 4 : g.C;
        var u = stackalloc Vector256<float>[Cells];
        float* outs = stackalloc float[9 * 8];
        var channels = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        int* taps = stackalloc int[16];
        if (phased)
        {
            WinogradStride2.Taps(taps);
        }
        for (int c0 = 0; c0 < g.C; c0 += 8)
        {
            int lanes = Math.Min(8, g.C - c0);
            for (int e = 0; e < E<T>(); e++)
            {
                var sum = Vector256<float>.Zero;
                for (int p = 0; p < parts; p++)
                {
                    float* at = (float*)sums[p] + e * perE + (long)k * g.C + c0;
                    sum += lanes == 8 ? Avx.LoadVector256(at) : SimdDriver.LoadTail(at, lanes);
                }
                if (phased)
                {
                    // Unwritten accumulators may hold anything, NaN included, so they are masked, not multiplied by 0.
                    var (from, to) = g.Active(e, alpha, PhaseSide.Inputs);
                    if (c0 < from || c0 + 8 > to)
                    {
                        sum = Avx.And(sum, InRange(Avx2.Add(channels, Vector256.Create(c0 - from)), to - from));
                    }
                }
                u[e] = sum;
            }
            // G^T u G: columns through G^T first (Alpha rows of R), then rows.
            for (int j = 0; j < alpha; j++)
            {
                T.Filter1D(
                    u[j], u[alpha + j], u[(2 * alpha) + j], u[(3 * alpha) + j], u[(4 * alpha) + j],
                    alpha > 5 ? u[(5 * alpha) + j] : default, u + j, alpha);
            }
            for (int i = 0; i < r; i++)
            {
                var row = u + (alpha * i);
                T.Filter1D(row[0], row[1], row[2], row[3], row[4], alpha > 5 ? row[5] : default, row, 1);
                for (int j = 0; j < r; j++)
                {
                    Avx.Store(outs + ((r * i) + j) * 8, row[j]);
                }
            }
            for (int l = 0; l < lanes; l++)
            {
                int c = c0 + l;
                if (!phased)
                {
                    float* w = dw + ((long)k * g.C + c) * r * r;
                    for (int rq = 0; rq < r * r; rq++)
                    {
                        w[rq] += outs[rq * 8 + l];
                    }
                    continue;
                }
                int* phase = taps + (4 * (c / group));
                float* kernel = dw + ((long)k * group + (c % group)) * 9;
                for (int t = 0; t < 4; t++)
                {
                    if (phase[t] >= 0)
                    {
                        kernel[phase[t]] += outs[(t * 8) + l];
                    }
                }
            }
        }
    }

    /// <summary>
    /// The tiling of one convolution: 4x4 output tiles, row-major within an image, images one after another. A
    /// tile's Alpha x Alpha input starts at (4 ty - pad, 4 tx - pad) and may hang over the plane's edge (past the
    /// bottom and right too, however small OutH and OutW leave the plane), where it reads zeros.
    /// </summary>
    internal readonly record struct Geometry(int N, int C, int K, int H, int W, int Pad, int OutH, int OutW)
    {
        public Geometry(in Conv2dShape s)
            : this(s.N, s.C, s.K, s.H, s.W, s.Pad, s.OutH, s.OutW)
        {
        }

        /// <summary>Which side's channels are the four stride-2 phases of WinogradStride2, in its order, a quarter each.</summary>
        public PhaseSide Phases { get; init; }

        /// <summary>
        /// With the phases on the inputs, the stride-2 convolution whose x they are: the x given is that convolution's,
        /// and the input transforms split each block's images into phases as they come (<see cref="BlockInput"/>).
        /// </summary>
        public Conv2dShape Strided { get; init; }

        /// <summary>
        /// With the phases on the outputs, the plane they interleave into (dx, MergedH x MergedW, of K / 4 channels):
        /// the output transform writes there, not the OutH x OutW phase planes.
        /// </summary>
        public int MergedH { get; init; }

        /// <inheritdoc cref="MergedH"/>
        public int MergedW { get; init; }

        /// <summary>
        /// The channels of one side (all of them unless it holds the phases) whose products at cell e are not all zero:
        /// a phase of even rows has one kernel row, whose transform is zero in one row of cells (row 0 of the forward's
        /// and weight gradient's, Alpha - 1 of backward data's flipped kernels), and likewise for columns;
        /// WinogradStride2 orders the phases so that the others lie together.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public (int From, int To) Active(int e, int alpha, PhaseSide side)
        {
            int channels = side == PhaseSide.Outputs ? K : C;
            if (Phases != side)
            {
                return (0, channels);
            }
            int zero = side == PhaseSide.Inputs ? 0 : alpha - 1;
            var (first, last) = WinogradStride2.ActivePhases(e / alpha == zero, e % alpha == zero);
            return (first * (channels / 4), last * (channels / 4));
        }

        public int TilesH => (OutH + 3) / 4;

        public int TilesW => (OutW + 3) / 4;

        public int Tiles => N * TilesH * TilesW;

        public long InputPlane => (long)H * W;

        /// <summary>Tile t's image and the top-left corner of its input, which may lie outside the plane.</summary>
        public (int N, int Y, int X) Origin(int t)
        {
            int perImage = TilesH * TilesW;
            int r = t % perImage;
            return (t / perImage, 4 * (r / TilesW) - Pad, 4 * (r % TilesW) - Pad);
        }
    }

    /// <summary>
    /// Tiles per block and the block count. Where channels are few (C + K at most 256) a block's V and M fit
    /// the 512 KiB L2 with all of U read from L3 once per block; with more channels, U (36 K C floats, 38 MB at
    /// 512) must be reused over many tiles, so blocks grow to what the L3 holds, one or more per thread.
    /// </summary>
    private static (int Tiles, int Blocks) Blocks<T>(in Geometry g, int nr)
        where T : struct, IWinogradTile
    {
        int channels = g.C + g.K;
        if (channels <= 256)
        {
            int tb = Math.Max(nr, (int)(L2Floats / (E<T>() * (long)channels)) / nr * nr);
            return (tb, (g.Tiles + tb - 1) / tb);
        }
        int threads = Environment.ProcessorCount;
        int most = (int)Math.Max(8, BlockFloats / (E<T>() * (long)channels));
        for (int split = threads; ; split += threads)
        {
            int tb = (g.Tiles + split - 1) / split;
            if (tb <= most || tb <= 8)
            {
                return (tb, (g.Tiles + tb - 1) / tb);
            }
        }
    }

    /// <summary>
    /// u gets U[e] = (G g G^T)[e] for every (k, c) in the micro-kernel's packed A layout: per e, slivers of mr
    /// output channels, each c-major with mr floats per c; rows past K are zero. Eight channels at once, in parallel
    /// over k: at 512 x 512 channels a scalar float64 version took 58 ms, as long as the GEMMs it feeds. With
    /// <paramref name="swapped"/>, g[k, c] is w[c, k] flipped (w stored (C, K, R, R)): backward data's kernels.
    /// </summary>
    /// <remarks>With phases, the (e, channels) whose products Multiply skips are not stored.</remarks>
    private static void TransformWeights<T>(float* u, float* w, in Geometry geometry, int mr, bool swapped)
        where T : struct, IWinogradTile
    {
        var g = geometry;
        int kCount = g.K;
        int cCount = g.C;
        int kSlivers = (kCount + mr - 1) / mr;
        long perE = (long)kSlivers * mr * cCount;
        nint up = (nint)u, wp = (nint)w;
        bool streamed = StreamsWeights(E<T>() * perE, cCount, mr);
        // A sliver at a time, so that each e's 8 channels x mr rows go out as mr whole vectors, in order: written a
        // row k at a time (one float in every mr), the 38 MB of U at 512 channels took 3% of the b = 8 step.
        void Sliver(int sliver)
        {
            var cells = stackalloc Vector256<float>[8 * Cells];
            var o = stackalloc Vector256<float>[8];
            int rows = Math.Min(mr, kCount - sliver * mr);
            int r = T.R;
            int rr = r * r;
            int alpha = T.Alpha;
            // Eight channels' kernels lie R x R floats apart, or a whole row of w apart when swapped.
            int stride = swapped ? rr * kCount : rr;
            var taps = Avx2.MultiplyLow(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(stride));
            for (int q = rows; q < 8; q++)
            {
                new Span<Vector256<float>>(cells + Cells * q, Cells).Clear();
            }
            for (int c0 = 0; c0 < cCount; c0 += 8)
            {
                int count = Math.Min(8, cCount - c0);
                // Channels past C repeat the last one; their results are not stored.
                var at = count == 8 ? taps : Avx2.Min(taps, Vector256.Create(stride * (count - 1)));
                for (int q = 0; q < rows; q++)
                {
                    int k = sliver * mr + q;
                    float* g = (float*)wp + (swapped ? (long)c0 * kCount + k : (long)k * cCount + c0) * rr;
                    var kc = cells + Cells * q;
                    // G g: Alpha x R from the kernel's columns, then (G g) G^T: Alpha x Alpha from its rows. Tap i of g
                    // is, when swapped, tap R R - 1 - i of the stored kernel (flipped).
                    for (int t = 0; t < r; t++)
                    {
                        int t0 = swapped ? rr - 1 - t : t, t1 = swapped ? rr - 1 - r - t : r + t, t2 = swapped ? rr - 1 - (2 * r) - t : (2 * r) + t;
                        T.Kernel1D(
                            Avx2.GatherVector256(g + t0, at, 4), Avx2.GatherVector256(g + t1, at, 4),
                            r > 2 ? Avx2.GatherVector256(g + t2, at, 4) : default, kc + t, alpha);
                    }
                    for (int i = 0; i < alpha; i++)
                    {
                        var row = kc + (alpha * i);
                        T.Kernel1D(row[0], row[1], r > 2 ? row[2] : default, row, 1);
                    }
                }
                float* dst = (float*)up + (long)sliver * mr * cCount + (long)c0 * mr;
                for (int e = 0; e < E<T>(); e++)
                {
                    var (cFrom, cTo) = g.Active(e, alpha, PhaseSide.Inputs);
                    var (kFrom, kTo) = g.Active(e, alpha, PhaseSide.Outputs);
                    if (c0 + count <= cFrom || c0 >= cTo || sliver * mr + rows <= kFrom || sliver * mr >= kTo)
                    {
                        continue;
                    }
                    // Lane l of o[l]: channel c0 + l's mr rows. 8-wide stores in increasing order: each spills 8 - mr
                    // floats into the next channel's slot, which the next store overwrites; the last stores mr floats.
                    CellAcrossChannels(cells, e, o);
                    float* to = dst + e * perE;
                    if (streamed && count == 8)
                    {
                        StreamRows(to, o, mr);
                        continue;
                    }
                    for (int l = 0; l < count - 1; l++)
                    {
                        Avx.Store(to + l * mr, o[l]);
                    }
                    StoreRows(to + (count - 1) * mr, o[count - 1], mr);
                }
            }
            if (streamed)
            {
                // Non-temporal stores are weakly ordered: drained before the GEMMs, on any thread, read U.
                Sse.StoreFence();
            }
        }
        Run(kSlivers, Sliver, (long)kCount * cCount >= ParallelPairs);
    }

    /// <summary>
    /// From this many floats of U (24 MB) the weight transform writes past the caches (<see cref="StreamRows"/>): U then
    /// outgrows the 32 MB L3 of the machine measured, so the GEMMs read it from memory either way, and its lines need
    /// not be read in before they are written. At 256 -> 512 channels, stride 2, batch 64 (U 52 MB) the forward and
    /// backward data ran 5-6% faster, and 512 channels at 4x4, stride 1 (38 MB) 6% (medians, calls alternating);
    /// 256 channels at 8x8 (9 MB), below the bound, ran the same either way (docs/BENCHMARKS.md).
    /// </summary>
    internal const long StreamedWeightFloats = 6L << 20;

    /// <summary>Whether the weight transform streams U: large enough (StreamedWeightFloats), and every 8 channels' rows whole, aligned vectors.</summary>
    internal static bool StreamsWeights(long floats, int channels, int mr) => floats >= StreamedWeightFloats && channels % 8 == 0 && (mr == 6 || mr == 8);

    /// <summary>
    /// o[0..7]'s first mr (6 or 8) floats each, 8 mr floats in all, to 8 mr aligned floats at to, past the caches:
    /// repacked into whole vectors and written with non-temporal stores, which need not read the lines first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StreamRows(float* to, Vector256<float>* o, int mr)
    {
        if (mr == 8)
        {
            for (int l = 0; l < 8; l++)
            {
                Avx.StoreAlignedNonTemporal(to + (8 * l), o[l]);
            }
            return;
        }
        // Four rows of six floats are three vectors: (a0-5, b0-1), (b2-5, c0-3), (c4-5, d0-5).
        var head = Vector256.Create(0, 0, 0, 0, 0, 0, 0, 1);
        var middleA = Vector256.Create(2, 3, 4, 5, 0, 0, 0, 0);
        var middleB = Vector256.Create(0, 0, 0, 0, 0, 1, 2, 3);
        var tailA = Vector256.Create(4, 5, 0, 0, 0, 0, 0, 0);
        var tailB = Vector256.Create(0, 0, 0, 1, 2, 3, 4, 5);
        for (int half = 0; half < 2; half++)
        {
            var a = o[4 * half];
            var b = o[(4 * half) + 1];
            var c = o[(4 * half) + 2];
            var d = o[(4 * half) + 3];
            float* at = to + (24 * half);
            Avx.StoreAlignedNonTemporal(at, Avx.Blend(a, Avx2.PermuteVar8x32(b, head), 0xC0));
            Avx.StoreAlignedNonTemporal(at + 8, Avx.Blend(Avx2.PermuteVar8x32(b, middleA), Avx2.PermuteVar8x32(c, middleB), 0xF0));
            Avx.StoreAlignedNonTemporal(at + 16, Avx.Blend(Avx2.PermuteVar8x32(c, tailA), Avx2.PermuteVar8x32(d, tailB), 0xFC));
        }
    }

    /// <summary>
    /// The first mr (6 or 8) floats of v: AVX's masked store would do, but it is microcoded on AMD's cores, where it
    /// made the whole transform slower than the scalar stores it replaced.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRows(float* to, Vector256<float> v, int mr)
    {
        if (mr == 8)
        {
            Avx.Store(to, v);
            return;
        }
        Sse.Store(to, v.GetLower());
        Sse.StoreLow(to + 4, v.GetUpper());
    }

    /// <summary>
    /// v gets V[e] = (B^T d B)[e] of tiles t0 .. t0+count for every channel, in the micro-kernel's packed B
    /// layout: per e, slivers of nr tiles, each c-major with nr floats per c. Eight tiles go through at once,
    /// one per lane; lanes past count repeat the last tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformInput<T>(float* v, float* x, in Geometry g, int t0, int count, int nr)
        where T : struct, IWinogradTile
    {
        int slivers = (count + nr - 1) / nr;
        long perE = (long)slivers * nr * g.C;
        var cells = stackalloc Vector256<float>[Cells];
        var masks = stackalloc Vector256<float>[6 * 8];
        int* offsets = stackalloc int[8];
        for (int t = 0; t < count; t += 8)
        {
            bool inside = InputLanes<T>(g, t0, t, count, masks, offsets);
            float* dst = v + (long)(t / nr) * nr * g.C + t % nr;
            for (int c = 0; c < g.C; c++)
            {
                if (c + 2 < g.C)
                {
                    PrefetchRows(x + (c + 2) * g.InputPlane, g.W, offsets, T.Alpha);
                }
                InputTile<T>(x + c * g.InputPlane, g.W, offsets, masks, inside, cells);
                float* to = dst + (long)c * nr;
                for (int e = 0; e < E<T>(); e++)
                {
                    Avx.Store(to + e * perE, cells[e]);
                }
            }
        }
    }

    /// <summary>
    /// Asks for the first rows (rows wide and tall) of eight tiles of a plane, a channel or two ahead of the loads (x's
    /// Alpha x Alpha inputs, dy's 4 x 4 tiles): the planes are 4-16 KiB apart, which the hardware prefetcher does not
    /// follow, and each channel's loads would otherwise wait on L3 for about 18 lines. Lanes 0, 4 and 7 cover the rows'
    /// lines when the tiles share a tile row; prefetches never fault, so hanging lanes are fine.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchRows(float* plane, int ld, int* offsets, int rows)
    {
        float* a = plane + offsets[0];
        float* b = plane + offsets[4];
        float* c = plane + offsets[7] + rows - 1;
        for (int i = 0; i < rows; i++)
        {
            Sse.Prefetch0(a + i * ld);
            Sse.Prefetch0(b + i * ld);
            Sse.Prefetch0(c + i * ld);
        }
    }

    /// <summary>
    /// offsets gets where (from a plane's start) the 6x6 inputs of tiles t0+t .. t0+t+7 begin, one per lane, lanes
    /// past count repeating the last tile. Returns whether every lane's Alpha rows can be read 8 floats wide inside the
    /// plane; if not, masks[8 i + l] gets the floats of lane l's row i that lie inside (none where the row does not).
    /// </summary>
    private static bool InputLanes<T>(in Geometry g, int t0, int t, int count, Vector256<float>* masks, int* offsets)
        where T : struct, IWinogradTile
    {
        int alpha = T.Alpha;
        int* ys = stackalloc int[8];
        int* xs = stackalloc int[8];
        bool inside = true;
        for (int l = 0; l < 8; l++)
        {
            var (n, oy, ox) = g.Origin(t0 + Math.Min(t + l, count - 1));
            offsets[l] = (int)(n * g.C * g.InputPlane) + oy * g.W + ox;
            ys[l] = oy;
            xs[l] = ox;
            inside &= oy >= 0 && ox >= 0 && oy + alpha <= g.H && ox + 8 <= g.W;
        }
        if (!inside)
        {
            var columns = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
            for (int l = 0; l < 8; l++)
            {
                // Columns from Alpha on are loaded but not used: masked off, they cannot fault past the tensor's end.
                var row = Avx.And(InRange(Avx2.Add(Vector256.Create(xs[l]), columns), g.W), InRange(columns, alpha));
                for (int i = 0; i < alpha; i++)
                {
                    int y = ys[l] + i;
                    masks[8 * i + l] = y >= 0 && y < g.H ? row : Vector256<float>.Zero;
                }
            }
        }
        return inside;
    }

    /// <summary>All ones in the lanes where 0 &lt;= p &lt; size.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> InRange(Vector256<int> p, int size)
        => Avx2.AndNot(Avx2.CompareGreaterThan(Vector256<int>.Zero, p), Avx2.CompareGreaterThan(Vector256.Create(size), p)).AsSingle();

    /// <summary>
    /// cells[Alpha i + j] = (B^T d B)[i, j] for eight tiles of one input plane: rows through B first, then columns.
    /// Each row i comes in as one 8-float load per tile (masked at the plane's edges), turned by an 8x8 transpose into
    /// Alpha vectors of one column each: on Zen 3 that ran faster than the 36 gathers it replaced.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputTile<T>(float* plane, int ld, int* offsets, Vector256<float>* masks, bool inside, Vector256<float>* cells)
        where T : struct, IWinogradTile
    {
        int alpha = T.Alpha;
        for (int i = 0; i < alpha; i++)
        {
            float* row = plane + (long)i * ld;
            var m = masks + 8 * i;
            Transpose8x8.Core(
                Row(row + offsets[0], m[0], inside), Row(row + offsets[1], m[1], inside),
                Row(row + offsets[2], m[2], inside), Row(row + offsets[3], m[3], inside),
                Row(row + offsets[4], m[4], inside), Row(row + offsets[5], m[5], inside),
                Row(row + offsets[6], m[6], inside), Row(row + offsets[7], m[7], inside),
                out var d0, out var d1, out var d2, out var d3, out var d4, out var d5, out _, out _);
            T.Input1D(d0, d1, d2, d3, d4, d5, cells + (alpha * i), 1);
        }
        for (int j = 0; j < alpha; j++)
        {
            T.Input1D(
                cells[j], cells[alpha + j], cells[(2 * alpha) + j], cells[(3 * alpha) + j], cells[(4 * alpha) + j],
                alpha > 5 ? cells[(5 * alpha) + j] : default, cells + j, alpha);
        }
    }

    /// <summary>8 floats of one tile's input row: a plain load inside the plane, else masked (masked lanes read 0, never fault).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Row(float* at, Vector256<float> mask, bool inside)
        => inside ? Avx.LoadVector256(at) : Avx.MaskLoad(at, mask);

    /// <summary>
    /// M[e] (K x cols, row-major) = U[e] V[e] for every e, on the GEMM micro-kernel, C in KC steps. With phases, only
    /// over the channels whose products are not all zero: the inputs' as the sum's range, the outputs' as the rows,
    /// the others' rows of M[e] cleared.
    /// </summary>
    private static void Multiply<T>(float* m, float* u, float* v, in Geometry g, int cols, GemmTiling tiling)
        where T : struct, IWinogradTile
    {
        int mr = tiling.MR;
        int nr = tiling.NR;
        int kSlivers = (g.K + mr - 1) / mr;
        long uPerE = (long)kSlivers * mr * g.C;
        long vPerE = (long)cols * g.C;
        for (int e = 0; e < E<T>(); e++)
        {
            float* me = m + (long)e * g.K * cols;
            var c = new GemmMatrix(me, cols);
            var (cFrom, cTo) = g.Active(e, T.Alpha, PhaseSide.Inputs);
            var (kFrom, kTo) = g.Active(e, T.Alpha, PhaseSide.Outputs);
            kFrom = kFrom / mr * mr;
            kTo = Math.Min(g.K, (kTo + mr - 1) / mr * mr);
            new Span<float>(me, kFrom * cols).Clear();
            new Span<float>(me + (long)kTo * cols, (g.K - kTo) * cols).Clear();
            for (int pc = cFrom; pc < cTo; pc += GemmBlocking.KC)
            {
                int kc = Math.Min(GemmBlocking.KC, cTo - pc);
                float beta = pc == cFrom ? 0f : 1f;
                // U[e] is up to 1 MiB (512 channels), V[e] of a block at most a few hundred KiB: each U sliver is
                // read once and stays in L1 while the block's V slivers stream from L2 past it.
                for (int i = kFrom; i < kTo; i += mr)
                {
                    float* a = u + e * uPerE + (long)i * g.C + (long)pc * mr;
                    for (int j = 0; j < cols; j += nr)
                    {
                        float* b = v + e * vPerE + (long)j * g.C + (long)pc * nr;
                        GemmDriver.Tile(a, b, kc, c, i, j, Math.Min(mr, g.K - i), nr, 1f, beta, tiling);
                    }
                }
            }
        }
    }

    /// <summary>
    /// y's tiles t0 .. t0+count from M: A^T M A per (k, tile), eight tiles at once, cut at the plane's edge; written,
    /// or added to y with <paramref name="accumulate"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformOutput<T>(float* y, float* m, in Geometry g, int t0, int count, int cols, bool accumulate)
        where T : struct, IWinogradTile
    {
        int alpha = T.Alpha;
        long perE = (long)g.K * cols;
        long plane = (long)g.OutH * g.OutW;
        var cells = stackalloc Vector256<float>[Cells];
        var tl = stackalloc Vector256<float>[8];
        long* bases = stackalloc long[count];
        int* heights = stackalloc int[count];
        int* widths = stackalloc int[count];
        TileBlocks(g, t0, count, 4, g.OutH, g.OutW, g.K * plane, bases, heights, widths);
        // Channels outside, tiles inside: row k of each M[e] is then read once, whole, front to back. With the tiles
        // outside, each pass read half of every line, and the 36 rows 4 KiB apart (64 channels) met in one L1 set,
        // so both halves came from L2.
        for (int k = 0; k < g.K; k++)
        {
            for (int t = 0; t < count; t += 8)
            {
                int lanes = Math.Min(8, count - t);
                OutputTiles<T>(m + (long)k * cols + t, perE, cells);
                // Lanes to tiles: rows 0-1 of every tile, then rows 2-3, each lane's 8 floats as two 4-float rows.
                float* yk = y + k * plane;
                for (int half = 0; half < 2; half++)
                {
                    var r = cells + (2 * alpha * half);
                    Transpose8x8.Core(
                        r[0], r[1], r[2], r[3], r[alpha], r[alpha + 1], r[alpha + 2], r[alpha + 3],
                        out tl[0], out tl[1], out tl[2], out tl[3], out tl[4], out tl[5], out tl[6], out tl[7]);
                    for (int l = 0; l < lanes; l++)
                    {
                        float* dst = yk + bases[t + l] + 2L * half * g.OutW;
                        int rowsLeft = heights[t + l] - 2 * half;
                        if (widths[t + l] == 4 && rowsLeft >= 2)
                        {
                            var upper = tl[l].GetUpper();
                            var lower = tl[l].GetLower();
                            if (accumulate)
                            {
                                lower = Sse.Add(lower, Sse.LoadVector128(dst));
                                upper = Sse.Add(upper, Sse.LoadVector128(dst + g.OutW));
                            }
                            Sse.Store(dst, lower);
                            Sse.Store(dst + g.OutW, upper);
                            continue;
                        }
                        float* lane = (float*)(tl + l);
                        for (int i = 0; i < Math.Min(2, rowsLeft); i++)
                        {
                            for (int j = 0; j < widths[t + l]; j++)
                            {
                                float* at = dst + (long)i * g.OutW + j;
                                *at = accumulate ? *at + lane[4 * i + j] : lane[4 * i + j];
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// For output tiles t0 .. t0+count, the side x side block each covers in a height x width plane (4x4 in y and dy;
    /// 8x8 in dx, where backward data interleaves a tile's four phases), images imageFloats apart: where the block
    /// starts (bases), and how many of its rows and columns lie inside the plane.
    /// </summary>
    private static void TileBlocks(in Geometry g, int t0, int count, int side, int height, int width, long imageFloats, long* bases, int* heights, int* widths)
    {
        int perImage = g.TilesH * g.TilesW;
        for (int t = 0; t < count; t++)
        {
            int tt = t0 + t;
            int r = tt % perImage;
            int oy = side * (r / g.TilesW);
            int ox = side * (r % g.TilesW);
            bases[t] = (tt / perImage * imageFloats) + ((long)oy * width) + ox;
            heights[t] = Math.Min(side, height - oy);
            widths[t] = Math.Min(side, width - ox);
        }
    }

    /// <summary>
    /// cells[Alpha i + j] (i, j &lt; 4) = (A^T M A)[i, j] for eight tiles, one per lane, whose M[e] rows start at src,
    /// perE floats from one e to the next: columns through A^T first, then the four rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputTiles<T>(float* src, long perE, Vector256<float>* cells)
        where T : struct, IWinogradTile
    {
        int alpha = T.Alpha;
        for (int j = 0; j < alpha; j++)
        {
            T.Output1D(
                Avx.LoadVector256(src + j * perE), Avx.LoadVector256(src + (alpha + j) * perE),
                Avx.LoadVector256(src + ((2 * alpha) + j) * perE), Avx.LoadVector256(src + ((3 * alpha) + j) * perE),
                Avx.LoadVector256(src + ((4 * alpha) + j) * perE),
                alpha > 5 ? Avx.LoadVector256(src + ((5 * alpha) + j) * perE) : default,
                cells + j, alpha);
        }
        for (int i = 0; i < 4; i++)
        {
            var row = cells + (alpha * i);
            T.Output1D(row[0], row[1], row[2], row[3], row[4], alpha > 5 ? row[5] : default, row, 1);
        }
    }

    /// <summary>
    /// TransformOutput for a stride-2 backward data: the four phases of channel c (rows PhaseOf(a, b) K / 4 + c of
    /// M) go through A^T M A together and are interleaved as they are stored, phase (a, b)'s (i, j) at
    /// dx[n, c, 2 i + a, 2 j + b], so each tile writes an 8x8 block of dx in whole rows: no phase planes are
    /// written and read back, and no separate merge pass runs. Written, or added to dx with <paramref name="accumulate"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformOutputMerged<T>(float* dx, float* m, in Geometry g, int t0, int count, int cols, bool accumulate)
        where T : struct, IWinogradTile
    {
        int alpha = T.Alpha;
        long perE = (long)g.K * cols;
        int channels = g.K / 4;
        int h = g.MergedH;
        int w = g.MergedW;
        long plane = (long)h * w;
        var cells = stackalloc Vector256<float>[2 * Cells];
        var tl = stackalloc Vector256<float>[16];
        float* rows = stackalloc float[16];
        long* bases = stackalloc long[count];
        int* heights = stackalloc int[count];
        int* widths = stackalloc int[count];
        TileBlocks(g, t0, count, 8, h, w, channels * plane, bases, heights, widths);
        for (int c = 0; c < channels; c++)
        {
            float* dc = dx + c * plane;
            for (int a = 0; a < 2; a++)
            {
                for (int t = 0; t < count; t += 8)
                {
                    int lanes = Math.Min(8, count - t);
                    // Phases (a, 0) and (a, 1): the even and odd columns of dx's rows 2 i + a.
                    for (int b = 0; b < 2; b++)
                    {
                        float* src = m + (WinogradStride2.PhaseOf(a, b) * channels + c) * (long)cols + t;
                        var cb = cells + (Cells * b);
                        // Two lines ahead in each of the 2 x 25 rows of M read here: more streams than the hardware
                        // prefetcher follows (the whole pass 1-8% faster, medians, in-process alternation).
                        for (int e = 0; e < E<T>(); e++)
                        {
                            Sse.Prefetch0(src + (e * perE) + 32);
                        }
                        OutputTiles<T>(src, perE, cb);
                    }
                    for (int half = 0; half < 2; half++)
                    {
                        // Lanes to tiles: each lane's rows 2 half and 2 half + 1 of both phases, then the two
                        // phases' columns interleaved into two whole rows of dx.
                        var re = cells + (2 * alpha * half);
                        var ro = re + Cells;
                        Transpose8x8.Core(
                            re[0], re[1], re[2], re[3], re[alpha], re[alpha + 1], re[alpha + 2], re[alpha + 3],
                            out tl[0], out tl[1], out tl[2], out tl[3], out tl[4], out tl[5], out tl[6], out tl[7]);
                        Transpose8x8.Core(
                            ro[0], ro[1], ro[2], ro[3], ro[alpha], ro[alpha + 1], ro[alpha + 2], ro[alpha + 3],
                            out tl[8], out tl[9], out tl[10], out tl[11], out tl[12], out tl[13], out tl[14], out tl[15]);
                        int top = (2 * (2 * half)) + a;
                        for (int l = 0; l < lanes; l++)
                        {
                            var lo = Avx.UnpackLow(tl[l], tl[8 + l]);
                            var hi = Avx.UnpackHigh(tl[l], tl[8 + l]);
                            var first = Avx.Permute2x128(lo, hi, 0x20);
                            var second = Avx.Permute2x128(lo, hi, 0x31);
                            float* dst = dc + bases[t + l] + (long)top * w;
                            if (widths[t + l] == 8 && heights[t + l] > top + 2)
                            {
                                if (accumulate)
                                {
                                    first += Avx.LoadVector256(dst);
                                    second += Avx.LoadVector256(dst + (2 * w));
                                }
                                Avx.Store(dst, first);
                                Avx.Store(dst + (2 * w), second);
                                continue;
                            }
                            Avx.Store(rows, first);
                            Avx.Store(rows + 8, second);
                            for (int i = 0; i < 2 && top + (2 * i) < heights[t + l]; i++)
                            {
                                for (int j = 0; j < widths[t + l]; j++)
                                {
                                    float* at = dst + (2L * i * w) + j;
                                    *at = accumulate ? *at + rows[(8 * i) + j] : rows[(8 * i) + j];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

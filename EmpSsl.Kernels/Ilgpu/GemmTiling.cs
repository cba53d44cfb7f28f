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
    /// <summary>The element at (i, j); only called for indices inside the product's bounds.</summary>
    float Load(int i, int j);

    /// <summary>
    /// True when neighbouring j sit next to each other in memory: the tile loader then gives neighbouring
    /// threads neighbouring j so that global loads coalesce.
    /// </summary>
    bool ContiguousInJ { get; }
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
/// aligned and limits the transposing stores of the loader to 2-way bank conflicts.
/// </summary>
public sealed partial class IlgpuKernels
{
    /// <summary>The reduction depth of one shared-memory stage (and Cholesky's panel width).</summary>
    internal const int GemmTileK = 16;

    /// <summary>The largest block edge, 4 x 16 threads; the shared arrays are sized for it.</summary>
    internal const int GemmMaxTile = 64;

    /// <summary>Row stride of a staged slice in floats: padded, and a multiple of 4 for the vector loads.</summary>
    internal const int GemmSharedStride = GemmMaxTile + 4;

    /// <summary>Row stride of a staged slice in 4-float vectors.</summary>
    private const int GemmSharedQuads = GemmSharedStride / 4;

    /// <summary>4-float vectors in one staged operand slice.</summary>
    internal const int GemmSharedLength = GemmTileK * GemmSharedQuads;

    /// <summary>CUDA's limit on a grid's y and z extents.</summary>
    private const int MaxGridY = 65535;

    /// <summary>Threads along each side of a tiling group on this accelerator.</summary>
    internal int GemmGroupSide => Accelerator.MaxNumThreadsPerGroup >= 256 ? 16 : 4;

    /// <summary>The output block edge (4 outputs per thread per side) on this accelerator.</summary>
    internal int GemmBlockEdge => 4 * GemmGroupSide;

    /// <summary>
    /// Adds op(a) (rows [row0, row0 + 4T)) times op(b) (columns [col0, col0 + 4T)) over k in [kBegin, kEnd) and
    /// hands each in-bounds sum to <paramref name="c"/>. Every thread of the group must call it (it has barriers).
    /// </summary>
    /// <param name="sa">shared (GemmTileK, GemmSharedQuads): the staged slice of a</param>
    /// <param name="sb">shared (GemmTileK, GemmSharedQuads): the staged slice of b</param>
    internal static void GemmBlock<TA, TB, TC>(
        TA a, TB b, TC c, ArrayView<Float4> sa, ArrayView<Float4> sb, int rows, int cols, int row0, int col0, int kBegin, int kEnd)
        where TA : struct, IGemmOperand
        where TB : struct, IGemmOperand
        where TC : struct, IGemmOutput
    {
        int tx = Group.IdxX;
        int ty = Group.IdxY;
        int side = Group.DimX;
        int edge = 4 * side;
        int tid = ty * side + tx;
        int threads = side * Group.DimY;
        var fa = sa.Cast<float>();
        var fb = sb.Cast<float>();
        // The loaders walk a slice with all threads. Because the thread count is a multiple of both the block edge
        // and GemmTileK (T is 4 or 16), each thread keeps one fixed index along the slice's fast axis, and the
        // runtime divisions happen once here rather than per element.
        int fastK = tid % GemmTileK;
        int firstRow = tid / GemmTileK;
        int rowStep = threads / GemmTileK;
        int fastRow = tid % edge;
        int firstK = tid / edge;
        int kStep = threads / edge;

        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f;
        float c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f;
        float c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f;

        for (int k0 = kBegin; k0 < kEnd; k0 += GemmTileK)
        {
            if (a.ContiguousInJ)
            {
                int gk = k0 + fastK;
                for (int r = firstRow; r < edge; r += rowStep)
                {
                    int gr = row0 + r;
                    fa[fastK * GemmSharedStride + r] = gr < rows && gk < kEnd ? a.Load(gr, gk) : 0f;
                }
            }
            else
            {
                int gr = row0 + fastRow;
                for (int k = firstK; k < GemmTileK; k += kStep)
                {
                    int gk = k0 + k;
                    fa[k * GemmSharedStride + fastRow] = gr < rows && gk < kEnd ? a.Load(gr, gk) : 0f;
                }
            }
            if (b.ContiguousInJ)
            {
                int gq = col0 + fastRow;
                for (int k = firstK; k < GemmTileK; k += kStep)
                {
                    int gk = k0 + k;
                    fb[k * GemmSharedStride + fastRow] = gq < cols && gk < kEnd ? b.Load(gk, gq) : 0f;
                }
            }
            else
            {
                int gk = k0 + fastK;
                for (int q = firstRow; q < edge; q += rowStep)
                {
                    int gq = col0 + q;
                    fb[fastK * GemmSharedStride + q] = gq < cols && gk < kEnd ? b.Load(gk, gq) : 0f;
                }
            }
            Group.Barrier();

            for (int k = 0; k < GemmTileK; k++)
            {
                Float4 av = sa[k * GemmSharedQuads + ty];
                Float4 bv = sb[k * GemmSharedQuads + tx];
                float a0 = av.X, a1 = av.Y, a2 = av.Z, a3 = av.W;
                float b0 = bv.X, b1 = bv.Y, b2 = bv.Z, b3 = bv.W;
                c00 += a0 * b0;
                c01 += a0 * b1;
                c02 += a0 * b2;
                c03 += a0 * b3;
                c10 += a1 * b0;
                c11 += a1 * b1;
                c12 += a1 * b2;
                c13 += a1 * b3;
                c20 += a2 * b0;
                c21 += a2 * b1;
                c22 += a2 * b2;
                c23 += a2 * b3;
                c30 += a3 * b0;
                c31 += a3 * b1;
                c32 += a3 * b2;
                c33 += a3 * b3;
            }
            Group.Barrier();
        }

        int row = row0 + 4 * ty;
        int col = col0 + 4 * tx;
        GemmStoreRow(c, rows, cols, row, col, c00, c01, c02, c03);
        GemmStoreRow(c, rows, cols, row + 1, col, c10, c11, c12, c13);
        GemmStoreRow(c, rows, cols, row + 2, col, c20, c21, c22, c23);
        GemmStoreRow(c, rows, cols, row + 3, col, c30, c31, c32, c33);
    }

    private static void GemmStoreRow<TC>(TC c, int rows, int cols, int row, int col, float s0, float s1, float s2, float s3)
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
        if (col + 2 < cols)
        {
            c.Store(row, col + 2, s2);
        }
        if (col + 3 < cols)
        {
            c.Store(row, col + 3, s3);
        }
    }

    /// <summary>
    /// The launch shape for a (rows x cols) product split into <paramref name="splits"/> reduction slices:
    /// grid x = column blocks, y = row blocks (CUDA allows 65535 there), z = slices.
    /// </summary>
    internal KernelConfig GemmConfig(int rows, int cols, int splits = 1)
    {
        int side = GemmGroupSide;
        int edge = 4 * side;
        int rowBlocks = (rows + edge - 1) / edge;
        if (rowBlocks > MaxGridY)
        {
            throw new NotSupportedException(
                $"a {rows} x {cols} product needs {rowBlocks} row blocks of {edge}, more than the {MaxGridY} a CUDA grid allows; swap the operands (C^T = B^T A^T)");
        }
        return new KernelConfig(
            new Index3D((cols + edge - 1) / edge, rowBlocks, splits),
            new Index3D(side, side, 1));
    }

    /// <summary>
    /// Runs the block at grid (x, y) over reduction slice z, each slice <paramref name="chunk"/> deep (a multiple of
    /// GemmTileK): the body of every kernel that is one tiled product.
    /// </summary>
    internal static void GemmGridBlock<TA, TB, TC>(TA a, TB b, TC c, int rows, int cols, int depth, int chunk)
        where TA : struct, IGemmOperand
        where TB : struct, IGemmOperand
        where TC : struct, IGemmOutput
    {
        var sa = SharedMemory.Allocate<Float4>(GemmSharedLength);
        var sb = SharedMemory.Allocate<Float4>(GemmSharedLength);
        int edge = 4 * Group.DimX;
        int kBegin = Grid.IdxZ * chunk;
        int kEnd = kBegin + chunk < depth ? kBegin + chunk : depth;
        GemmBlock(a, b, c, sa, sb, rows, cols, Grid.IdxY * edge, Grid.IdxX * edge, kBegin, kEnd);
    }
}

using ILGPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Util;

namespace EmpSsl.Kernels.Ilgpu;

/// <summary>
/// The tensor-core math of a tiled product (<see cref="Tf32Mma"/>): the same staged slices as the FMA path, the same
/// 64 x 64 block and 256 threads, but each of the 8 warps multiplies a 16 x 32 part of the block with
/// mma.sync.m16n8k8 in TF32 (inputs rounded to 10 mantissa bits, products summed in fp32), through ILGPU's inline
/// PTX. That is what cuDNN does for PyTorch's convolutions by default (torch.backends.cudnn.allow_tf32 = True);
/// results differ from fp32 by about 1e-3 relative, so it is opt-in (<see cref="IlgpuKernels.Tf32Convolutions"/>)
/// and checked against its own tolerance.
///
/// Warp w owns block rows 16 (w / 2) .. + 16 and columns 32 (w % 2) .. + 32: four 16 x 8 tiles, whose four
/// accumulators per lane fill the thread's 16 sums (tile j in S j0 .. S j3). PTX's fragment layout for
/// m16n8k8 .tf32, with g = lane / 4 and t = lane % 4: A (16 x 8, row) a0 = (g, t), a1 = (g + 8, t), a2 = (g, t + 4),
/// a3 = (g + 8, t + 4); B (8 x 8, col) b0 = (t, g), b1 = (t + 4, g); C c0, c1 = (g, 2t), (g, 2t + 1), c2, c3 the
/// same at row g + 8. The staged slices are k-major ([k][m] and [k][n], row stride <see cref="MmaSharedStride"/>),
/// so each fragment element is one scalar shared-memory load at a fixed offset, on a bank of its own.
///
/// The wide tile (<see cref="Tf32MmaWide"/>) is 128 x 128 for the same 256 threads: warp w owns rows 64 (w / 4) ..
/// + 64 and columns 32 (w % 4) .. + 32, four of the 16 x 32 tiles above stacked, which share each k8 step's B
/// fragments; its slices' row stride is 136 floats, again 8 banks past a multiple of 32. The flat tile
/// (<see cref="Tf32MmaFlat"/>) is 64 x 256: warp w owns rows 32 (w / 4) .. + 32 and columns 64 (w % 4) .. + 64, two
/// by two of those tiles; its column slices' stride is 264.
/// </summary>
public sealed partial class IlgpuKernels
{
    /// <summary>
    /// Where this thread sits in the block's warp tiling: its warp's first row (16 rows per warp pair) and column
    /// (32 per warp), and its lane's group g = lane / 4 and index t = lane % 4 in the fragment layouts.
    /// </summary>
    private readonly struct MmaLane
    {
        public readonly int Row;
        public readonly int Col;
        public readonly int G;
        public readonly int T;

        /// <param name="tile">the block: <see cref="ConvTile.Narrow"/> 64 x 64, Wide 128 x 128, Flat 64 x 256</param>
        public MmaLane(int tid, ConvTile tile)
        {
            int warp = tid >> 5;
            Row = tile == ConvTile.Wide ? 64 * (warp >> 2) : tile == ConvTile.Flat ? 32 * (warp >> 2) : 16 * (warp >> 1);
            Col = tile == ConvTile.Wide ? 32 * (warp & 3) : tile == ConvTile.Flat ? 64 * (warp & 3) : 32 * (warp & 1);
            G = (tid & 31) >> 2;
            T = tid & 3;
        }

        public static MmaLane OfThread(ConvTile tile = ConvTile.Narrow) => new(Group.IdxY * Group.DimX + Group.IdxX, tile);
    }

    /// <summary>Adds one staged k-slice (two k8 steps) into a warp's four 16 x 8 tiles on the tensor cores.</summary>
    internal static Quad ComputeStageMma(Quad sums, ArrayView<Float4> sa, ArrayView<Float4> sb, int stage)
    {
        var fa = sa.Cast<float>();
        var fb = sb.Cast<float>();
        var lane = MmaLane.OfThread();
        int m = lane.Row + lane.G;
        int n = lane.Col + lane.G;
        int at = stage * GemmStageLength * 4;
        for (int kk = 0; kk < GemmTileK; kk += 8)
        {
            int k0 = at + (kk + lane.T) * MmaSharedStride;
            int k4 = k0 + 4 * MmaSharedStride;
            sums = MmaRow(sums, FragmentA(fa, k0, k4, m), FragmentsB(fb, k0, k4, n));
        }
        return sums;
    }

    /// <summary>
    /// Adds one staged k-slice into a warp's part of a big tile: 64 x 32 of the wide tile, whose k8 steps load the
    /// four 16 x 8 B fragments once for all four row tiles, or 32 x 64 of the flat one, whose two A fragments and
    /// two sets of B fragments make four 16 x 32 products.
    /// </summary>
    internal static Wide ComputeStageMmaBig(Wide sums, ArrayView<Float4> sa, ArrayView<Float4> sb, int stage, bool flat)
    {
        int strideA = flat ? MmaSharedStride : WideTile + 8;
        int strideB = flat ? FlatTile + 8 : WideTile + 8;
        var fa = sa.Cast<float>();
        var fb = sb.Cast<float>();
        var lane = MmaLane.OfThread(flat ? ConvTile.Flat : ConvTile.Wide);
        int m = lane.Row + lane.G;
        int n = lane.Col + lane.G;
        int atA = stage * (flat ? GemmStageLength : WideStageLength) * 4;
        int atB = stage * (flat ? FlatStageLength : WideStageLength) * 4;
        for (int kk = 0; kk < GemmTileK; kk += 8)
        {
            int a0 = atA + (kk + lane.T) * strideA;
            int a4 = a0 + 4 * strideA;
            // The wide tile's two slices share one layout, so its B rows start where its A rows do.
            int b0 = flat ? atB + (kk + lane.T) * strideB : a0;
            int b4 = flat ? b0 + 4 * strideB : a4;
            var b = FragmentsB(fb, b0, b4, n);
            var top = FragmentA(fa, a0, a4, m);
            sums.T0 = MmaRow(sums.T0, top, b);
            if (flat)
            {
                var right = FragmentsB(fb, b0, b4, n + 32);
                var bottom = FragmentA(fa, a0, a4, m + 16);
                sums.T1 = MmaRow(sums.T1, top, right);
                sums.T2 = MmaRow(sums.T2, bottom, b);
                sums.T3 = MmaRow(sums.T3, bottom, right);
            }
            else
            {
                sums.T1 = MmaRow(sums.T1, FragmentA(fa, a0, a4, m + 16), b);
                sums.T2 = MmaRow(sums.T2, FragmentA(fa, a0, a4, m + 32), b);
                sums.T3 = MmaRow(sums.T3, FragmentA(fa, a0, a4, m + 48), b);
            }
        }
        return sums;
    }

    /// <summary>A lane's A fragment of the 16 x 8 tile at rows m - g .. of the k8 step whose rows t, t + 4 start at k0, k4.</summary>
    private static TfA FragmentA(ArrayView<float> fa, int k0, int k4, int m)
        => new(Bits(fa[k0 + m]), Bits(fa[k0 + m + 8]), Bits(fa[k4 + m]), Bits(fa[k4 + m + 8]));

    /// <summary>A lane's B fragments of the four 8 x 8 tiles at columns n - g, + 8, + 16, + 24.</summary>
    private static TfB FragmentsB(ArrayView<float> fb, int k0, int k4, int n)
        => new(
            Bits(fb[k0 + n]), Bits(fb[k4 + n]), Bits(fb[k0 + n + 8]), Bits(fb[k4 + n + 8]),
            Bits(fb[k0 + n + 16]), Bits(fb[k4 + n + 16]), Bits(fb[k0 + n + 24]), Bits(fb[k4 + n + 24]));

    /// <summary>One k8 step of a warp's 16 x 32 tile: four mma.sync, one per 16 x 8 tile.</summary>
    private static Quad MmaRow(Quad sums, TfA a, TfB b)
    {
        (sums.S00, sums.S01, sums.S02, sums.S03) = Mma(a, b.B0, b.B1, sums.S00, sums.S01, sums.S02, sums.S03);
        (sums.S10, sums.S11, sums.S12, sums.S13) = Mma(a, b.B2, b.B3, sums.S10, sums.S11, sums.S12, sums.S13);
        (sums.S20, sums.S21, sums.S22, sums.S23) = Mma(a, b.B4, b.B5, sums.S20, sums.S21, sums.S22, sums.S23);
        (sums.S30, sums.S31, sums.S32, sums.S33) = Mma(a, b.B6, b.B7, sums.S30, sums.S31, sums.S32, sums.S33);
        return sums;
    }

    /// <summary>Hands a warp's four 16 x 8 tiles to the output: each lane has rows g and g + 8, columns 2t and 2t + 1.</summary>
    private static void StoreMma<TC>(TC c, Quad q, int rows, int cols, int row0, int col0)
        where TC : struct, IGemmOutput
    {
        var lane = MmaLane.OfThread();
        StoreMmaTile(c, q, rows, cols, row0 + lane.Row + lane.G, col0 + lane.Col + 2 * lane.T);
    }

    /// <summary>Hands a warp's part of a big tile to the output, one 16 x 32 tile at a time, placed as ComputeStageMmaBig adds them.</summary>
    private static void StoreMmaBig<TC>(TC c, Wide w, int rows, int cols, int row0, int col0, bool flat)
        where TC : struct, IGemmOutput
    {
        var lane = MmaLane.OfThread(flat ? ConvTile.Flat : ConvTile.Wide);
        int row = row0 + lane.Row + lane.G;
        int col = col0 + lane.Col + 2 * lane.T;
        StoreMmaTile(c, w.T0, rows, cols, row, col);
        StoreMmaTile(c, w.T1, rows, cols, flat ? row : row + 16, flat ? col + 32 : col);
        StoreMmaTile(c, w.T2, rows, cols, flat ? row + 16 : row + 32, col);
        StoreMmaTile(c, w.T3, rows, cols, flat ? row + 16 : row + 48, flat ? col + 32 : col);
    }

    /// <summary>One 16 x 32 warp tile: the lane's rows row and row + 8, columns col + 8 j and col + 8 j + 1.</summary>
    private static void StoreMmaTile<TC>(TC c, Quad q, int rows, int cols, int row, int col)
        where TC : struct, IGemmOutput
    {
        StorePair(c, rows, cols, row, col, q.S00, q.S01);
        StorePair(c, rows, cols, row + 8, col, q.S02, q.S03);
        StorePair(c, rows, cols, row, col + 8, q.S10, q.S11);
        StorePair(c, rows, cols, row + 8, col + 8, q.S12, q.S13);
        StorePair(c, rows, cols, row, col + 16, q.S20, q.S21);
        StorePair(c, rows, cols, row + 8, col + 16, q.S22, q.S23);
        StorePair(c, rows, cols, row, col + 24, q.S30, q.S31);
        StorePair(c, rows, cols, row + 8, col + 24, q.S32, q.S33);
    }

    /// <summary>
    /// fp32 to TF32, rounding to nearest (ties away), as cuDNN and CUTLASS do; the tensor cores would otherwise
    /// ignore the low 13 bits, a truncation with twice the error and a bias toward zero. The staging loader
    /// applies it (SlicePlan.Tf32), so staged TF32 slices hold rounded values.
    /// </summary>
    private static float RoundTf32(float x)
    {
        if (!CudaAsm.IsSupported)
        {
            return x;
        }
        CudaAsm.Emit("cvt.rna.tf32.f32 %0, %1;", out uint r, x);
        return Interop.IntAsFloat(r);
    }

    /// <summary>A staged (already rounded) element as the b32 register an mma operand takes.</summary>
    private static uint Bits(float x) => Interop.FloatAsInt(x);

    /// <summary>A lane's A fragment of one 16 x 8 TF32 tile.</summary>
    private readonly record struct TfA(uint A0, uint A1, uint A2, uint A3);

    /// <summary>A lane's B fragments of four neighbouring 8 x 8 TF32 tiles, two registers each.</summary>
    private readonly record struct TfB(uint B0, uint B1, uint B2, uint B3, uint B4, uint B5, uint B6, uint B7);

    /// <summary>
    /// D = A B + C for one 16 x 8 x 8 TF32 tile of the warp. Only CUDA has the instruction; the host picks the
    /// tensor-core kernels only for a CUDA accelerator (<see cref="IlgpuKernels.Tf32Convolutions"/>), so the other
    /// branch is never run and returns C unchanged.
    /// </summary>
    /// <remarks>
    /// ILGPU hands each operand of an inline statement through a local-memory slot, which ptxas keeps in the stack
    /// frame; the TF32 kernels are loaded through <see cref="PtxRegisterPromotion"/>, which turns those slots into
    /// registers.
    /// </remarks>
    private static (float, float, float, float) Mma(TfA a, uint b0, uint b1, float c0, float c1, float c2, float c3)
    {
        if (!CudaAsm.IsSupported)
        {
            return (c0, c1, c2, c3);
        }
        Ref<float> d0 = c0;
        Ref<float> d1 = c1;
        Ref<float> d2 = c2;
        Ref<float> d3 = c3;
        Input<uint> a0 = a.A0;
        Input<uint> a1 = a.A1;
        Input<uint> a2 = a.A2;
        Input<uint> a3 = a.A3;
        Input<uint> ib0 = b0;
        Input<uint> ib1 = b1;
        CudaAsm.EmitRef(
            "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};",
            ref d0, ref d1, ref d2, ref d3, ref a0, ref a1, ref a2, ref a3, ref ib0, ref ib1);
        return (d0.Value, d1.Value, d2.Value, d3.Value);
    }
}

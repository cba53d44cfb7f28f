using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// Tile and cache-block sizes, chosen for Zen 4 (32 KiB L1d, 1 MiB L2 per core, 32 MiB shared L3):
/// a B sliver (KC x NR, 16 KiB with AVX2) stays in L1 while the A slivers of an MC x KC block (144 KiB)
/// stream from L2 past it; the packed KC x NC block of B sits in L3. KC 192-384 and MC 96-288 measured
/// the same within the noise of a shared machine.
/// </summary>
internal static class GemmBlocking
{
    /// <summary>The register tile this CPU runs fastest: the wide one wherever Vector512 is in hardware.</summary>
    public static GemmTiling Native => new(Vector512.IsHardwareAccelerated);

    public const int KC = 256;

    public const int MC = 144;

    public const int NC = 2048;

    /// <summary>Below this many flops one thread finishes before the others would have started.</summary>
    public const long ParallelFlops = 1L << 22;
}

/// <summary>
/// The register tile: MR rows by NR columns (two vectors), sized so that 16 accumulators plus the
/// operands fit the vector registers: 8 x 32 with AVX-512's 32 registers, 6 x 16 with AVX2's 16.
/// The wide tile runs (slowly, emulated) on any CPU, which lets tests check it everywhere.
/// </summary>
internal readonly record struct GemmTiling(bool Wide)
{
    public int MR => Wide ? 8 : 6;

    public int NR => Wide ? 32 : 16;
}

/// <summary>
/// The blocked GEMM loop nest (Goto/BLIS order: NC, KC, MC, NR, MR) over <see cref="GemmMatrix"/> views,
/// split over all cores by a grid of C blocks. Each thread packs into its own reused buffers.
/// </summary>
internal static unsafe class GemmDriver
{
    [ThreadStatic]
    private static float[]? s_packA;

    [ThreadStatic]
    private static float[]? s_packB;

    /// <summary>c (M x N) = alpha op(a) op(b) + beta c; op(a) is M x K, op(b) is K x N.</summary>
    public static void Run<TB>(int m, int n, int k, GemmMatrix a, bool transA, TB b, bool transB, GemmMatrix c, float alpha, float beta)
        where TB : struct, IGemmOperandB
        => Run(m, n, k, a, transA, b, transB, c, alpha, beta, GemmBlocking.Native);

    /// <summary>As above, with a chosen register tile.</summary>
    public static void Run<TB>(int m, int n, int k, GemmMatrix a, bool transA, TB b, bool transB, GemmMatrix c, float alpha, float beta, GemmTiling tiling)
        where TB : struct, IGemmOperandB
    {
        int threads = 2L * m * n * k < GemmBlocking.ParallelFlops ? 1 : Environment.ProcessorCount;
        var (tm, tn) = Grid(m, n, threads, tiling);
        if (tm * tn == 1)
        {
            RunBlock(0, m, 0, n, k, a, transA, b, transB, c, alpha, beta, tiling);
            return;
        }
        int mr = tiling.MR;
        int tilesM = (m + mr - 1) / mr;
        int nr = tiling.NR;
        int tilesN = (n + nr - 1) / nr;
        Parallel.For(0, tm * tn, t =>
        {
            int pm = t / tn;
            int pn = t % tn;
            int m0 = Math.Min(m, (int)((long)pm * tilesM / tm) * mr);
            int m1 = Math.Min(m, (int)((long)(pm + 1) * tilesM / tm) * mr);
            int n0 = Math.Min(n, (int)((long)pn * tilesN / tn) * nr);
            int n1 = Math.Min(n, (int)((long)(pn + 1) * tilesN / tn) * nr);
            if (m0 < m1 && n0 < n1)
            {
                RunBlock(m0, m1, n0, n1, k, a, transA, b, transB, c, alpha, beta, tiling);
            }
        });
    }

    /// <summary>
    /// The thread grid (tm x tn) over C that packs the least: every thread packs the A rows of its
    /// block row and the B columns of its block column.
    /// </summary>
    private static (int Tm, int Tn) Grid(int m, int n, int threads, GemmTiling tiling)
    {
        int tilesM = (m + tiling.MR - 1) / tiling.MR;
        int tilesN = (n + tiling.NR - 1) / tiling.NR;
        (int, int) best = (1, 1);
        double bestCost = double.MaxValue;
        for (int t = threads; t >= 1 && bestCost == double.MaxValue; t--)
        {
            for (int tm = 1; tm <= t; tm++)
            {
                if (t % tm != 0)
                {
                    continue;
                }
                int tn = t / tm;
                if (tm > tilesM || tn > tilesN)
                {
                    continue;
                }
                double cost = (double)tn * m + (double)tm * n;
                if (cost < bestCost)
                {
                    bestCost = cost;
                    best = (tm, tn);
                }
            }
        }
        return best;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunBlock<TB>(int m0, int m1, int n0, int n1, int k, in GemmMatrix a, bool transA, in TB b, bool transB, in GemmMatrix c, float alpha, float beta, GemmTiling tiling)
        where TB : struct, IGemmOperandB
    {
        int mr = tiling.MR;
        int nr = tiling.NR;
        int kBlocks = (k + GemmBlocking.KC - 1) / GemmBlocking.KC;
        int kcMax = (k + kBlocks - 1) / kBlocks;
        int mBlocks = (m1 - m0 + GemmBlocking.MC - 1) / GemmBlocking.MC;
        int mcMax = ((m1 - m0 + mBlocks - 1) / mBlocks + mr - 1) / mr * mr;
        int ncMax = Math.Min(GemmBlocking.NC, (n1 - n0 + nr - 1) / nr * nr);
        float* pa = Scratch.Floats(ref s_packA, mcMax * kcMax);
        float* pb = Scratch.Floats(ref s_packB, ncMax * kcMax);
        for (int jc = n0; jc < n1; jc += ncMax)
        {
            int nc = Math.Min(ncMax, n1 - jc);
            for (int pc = 0; pc < k; pc += kcMax)
            {
                int kc = Math.Min(kcMax, k - pc);
                b.PackB(pb, transB, pc, kc, jc, nc, nr);
                float blockBeta = pc == 0 ? beta : 1f;
                for (int ic = m0; ic < m1; ic += mcMax)
                {
                    int mc = Math.Min(mcMax, m1 - ic);
                    GemmPacking.PackA(pa, a, transA, ic, mc, pc, kc, mr);
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int cols = Math.Min(nr, nc - jr);
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            int rows = Math.Min(mr, mc - ir);
                            Tile(pa + (long)ir * kc, pb + (long)jr * kc, kc, c, ic + ir, jc + jr, rows, cols, alpha, blockBeta, tiling);
                        }
                    }
                }
            }
        }
    }

    /// <summary>One MR x NR tile of c at (i, j) from packed slivers: the micro-kernel, or scratch where the tile is cut.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Tile(float* a, float* b, int kc, in GemmMatrix c, int i, int j, int rows, int cols, float alpha, float beta, GemmTiling tiling)
    {
        int nr = tiling.NR;
        int half = nr / 2;
        bool whole = cols == nr && c.Run(j) >= half && c.Run(j + half) >= half;
        if (whole && rows == tiling.MR)
        {
            GemmMicroKernel.Run(a, b, kc, c.At(i, j), c.At(i, j + half), c.Ld, alpha, beta, tiling.Wide);
        }
        else if (whole && rows <= 4 && !tiling.Wide)
        {
            GemmMicroKernel.Run256Rows4(a, b, kc, c.At(i, j), c.At(i, j + half), c.Ld, alpha, beta, rows);
        }
        else
        {
            EdgeTile(a, b, kc, c, i, j, rows, cols, alpha, beta, tiling);
        }
    }

    // A tile cut by the matrix edge or a group edge: computed whole into scratch, then copied out.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void EdgeTile(float* a, float* b, int kc, in GemmMatrix c, int i, int j, int rows, int cols, float alpha, float beta, GemmTiling tiling)
    {
        int nr = tiling.NR;
        float* tile = stackalloc float[8 * 32];
        long* offsets = stackalloc long[32];
        GemmMicroKernel.Run(a, b, kc, tile, tile + nr / 2, nr, alpha, 0f, tiling.Wide);
        for (int col = 0; col < cols; col++)
        {
            offsets[col] = c.At(i, j + col) - c.P;
        }
        for (int r = 0; r < rows; r++)
        {
            float* row = c.P + (long)r * c.Ld;
            float* t = tile + r * nr;
            for (int col = 0; col < cols; col++)
            {
                float* p = row + offsets[col];
                *p = beta == 0f ? t[col] : t[col] + beta * *p;
            }
        }
    }
}

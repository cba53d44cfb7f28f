namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// A row-major matrix in host memory whose columns may come in groups that are not adjacent:
/// element (row, col) lives at P + (col / GroupCols) * GroupStride + row * Ld + col % GroupCols.
/// A plain matrix is one group. Grouping lets a convolution treat a batch of NCHW images as one
/// wide matrix, (channels, images * pixels), without copying it.
/// </summary>
internal readonly unsafe struct GemmMatrix : IGemmOperandB
{
    public GemmMatrix(float* p, long ld)
        : this(p, ld, int.MaxValue, 0)
    {
    }

    public GemmMatrix(float* p, long ld, int groupCols, long groupStride)
    {
        P = p;
        Ld = ld;
        GroupCols = groupCols;
        GroupStride = groupStride;
    }

    /// <summary>A batch of NCHW images, (channels, images * pixels) with one group of columns per image.</summary>
    public static GemmMatrix Images(float* p, int channels, int pixels) => new(p, pixels, pixels, (long)channels * pixels);

    public float* P { get; }

    public long Ld { get; }

    public int GroupCols { get; }

    public long GroupStride { get; }

    public float* At(int row, int col)
        => P + (long)(col / GroupCols) * GroupStride + (long)row * Ld + col % GroupCols;

    /// <summary>How many columns from col on sit side by side in memory.</summary>
    public int Run(int col) => GroupCols - col % GroupCols;

    public void PackB(float* dst, bool trans, int k0, int kc, int j0, int nc, int nr)
        => GemmPacking.PackB(dst, this, trans, k0, kc, j0, nc, nr);
}

/// <summary>
/// A GEMM's B operand as the packer sees it: anything that can write its blocks as NR-column slivers.
/// A stored matrix is one; the column matrix of a convolution, built on the fly from the images, is another.
/// </summary>
internal unsafe interface IGemmOperandB
{
    /// <summary>dst gets ceil(nc / nr) slivers of op(B)[k0 .. k0+kc, j0 .. j0+nc], each kc * nr floats, zero-padded.</summary>
    void PackB(float* dst, bool trans, int k0, int kc, int j0, int nc, int nr);
}

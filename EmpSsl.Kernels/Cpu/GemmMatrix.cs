namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// A row-major matrix in host memory whose columns may come in groups that are not adjacent:
/// element (row, col) lives at P + (col / GroupCols) * GroupStride + row * Ld + col % GroupCols.
/// A plain matrix is one group. Grouping lets a convolution treat a batch of NCHW images as one
/// wide matrix, (channels, images * pixels), without copying it.
/// </summary>
internal readonly unsafe struct GemmMatrix
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

    public float* P { get; }

    public long Ld { get; }

    public int GroupCols { get; }

    public long GroupStride { get; }

    public float* At(int row, int col)
        => P + (long)(col / GroupCols) * GroupStride + (long)row * Ld + col % GroupCols;

    /// <summary>How many columns from col on sit side by side in memory.</summary>
    public int Run(int col) => GroupCols - col % GroupCols;
}

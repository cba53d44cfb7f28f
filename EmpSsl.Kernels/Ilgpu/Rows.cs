using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace EmpSsl.Kernels.Ilgpu;

// Row ops on (rows, cols) matrices. Parameter gradients accumulate (dbias +=); activation gradients are
// written (dx =). A row reduction runs one group per row: each thread strides over the row, then
// ReduceGroup.Sum combines the threads. Sum (partials per group, then one group) and ColumnSum (partials
// per piece of rows, then one thread per column) are two-stage and need no atomics, so they are deterministic.
public sealed partial class IlgpuKernels
{
    /// <summary>Rows each thread of ColumnSum's first stage adds: enough threads for a GPU even at a few hundred columns.</summary>
    private const int ColumnSumRowsPerPiece = 32;

    public void AddBias(DeviceSpan y, DeviceSpan bias, int rows, int cols)
    {
        Checks.Rows("AddBias", y, rows, cols, "y");
        Checks.Vector("AddBias", bias, cols, "bias");
        Load("AddBias", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(AddBiasKernel))(
            y.Length, V(y), V(bias), cols);
    }

    public void ColumnSum(DeviceSpan dbias, DeviceSpan dy, int rows, int cols)
    {
        Checks.Rows("ColumnSum", dy, rows, cols, "dy");
        Checks.Vector("ColumnSum", dbias, cols, "dbias");
        int pieces = (rows + ColumnSumRowsPerPiece - 1) / ColumnSumRowsPerPiece;
        var partials = ReduceScratch((long)pieces * cols);
        Load("ColumnSumPartials", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(ColumnSumPartialsKernel))(
            pieces * cols, partials, V(dy), rows, cols);
        Load("ColumnSum", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(ColumnSumKernel))(
            cols, V(dbias), partials, pieces);
    }

    public void RowDot(DeviceSpan y, DeviceSpan a, DeviceSpan b, int rows, int cols)
    {
        Checks.Rows("RowDot", a, rows, cols, "a");
        Checks.Rows("RowDot", b, rows, cols, "b");
        Checks.Vector("RowDot", y, rows, "y");
        Load("RowDot", acc => acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(RowDotKernel))(
            new KernelConfig(rows, ReduceGroupSize), V(y), V(a), V(b), cols);
    }

    public void RowScale(DeviceSpan y, DeviceSpan x, DeviceSpan s, int rows, int cols)
    {
        Checks.Rows("RowScale", x, rows, cols);
        Checks.Rows("RowScale", y, rows, cols, "y");
        Checks.Vector("RowScale", s, rows, "s");
        Load("RowScale", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(RowScaleKernel))(
            y.Length, V(y), V(x), V(s), cols);
    }

    public void Sum(DeviceSpan y, DeviceSpan x)
    {
        Checks.Vector("Sum", y, 1, "y");
        if (x.Length == 0)
        {
            Fill(y, 0f);
            return;
        }
        int groups = ReduceGroups(x.Length);
        var partials = ReduceScratch(groups);
        var partial = Load("SumPartials", a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>>(SumPartialsKernel));
        var final = Load("SumFinal", a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>>(SumFinalKernel));
        partial(new KernelConfig(groups, ReduceGroupSize), partials, V(x));
        final(new KernelConfig(1, ReduceGroupSize), V(y), partials);
    }

    public void L2NormalizeRows(DeviceSpan y, DeviceSpan norms, DeviceSpan x, int rows, int cols, float eps)
    {
        Checks.Rows("L2NormalizeRows", x, rows, cols);
        Checks.Rows("L2NormalizeRows", y, rows, cols, "y");
        Checks.Vector("L2NormalizeRows", norms, rows, "norms");
        Load("L2NormalizeRows", a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(L2NormalizeRowsKernel))(
            new KernelConfig(rows, ReduceGroupSize), V(y), V(norms), V(x), cols, eps);
    }

    public void L2NormalizeRowsBackward(DeviceSpan dx, DeviceSpan dy, DeviceSpan y, DeviceSpan norms, int rows, int cols, float eps)
    {
        Checks.Rows("L2NormalizeRowsBackward", dy, rows, cols, "dy");
        Checks.Rows("L2NormalizeRowsBackward", y, rows, cols, "y");
        Checks.Rows("L2NormalizeRowsBackward", dx, rows, cols, "dx");
        Checks.Vector("L2NormalizeRowsBackward", norms, rows, "norms");
        Load("L2NormalizeRowsBackward", a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(L2NormalizeRowsBackwardKernel))(
            new KernelConfig(rows, ReduceGroupSize), V(dx), V(dy), V(y), V(norms), cols, eps);
    }

    /// <param name="y">(rows, cols), accumulated</param>
    /// <param name="bias">(cols)</param>
    internal static void AddBiasKernel(Index1D i, ArrayView<float> y, ArrayView<float> bias, int cols)
    {
        y[i] += bias[i % cols];
    }

    /// <summary>
    /// Stage 1 of ColumnSum: thread (piece, c) sums column c over its piece of <see cref="ColumnSumRowsPerPiece"/>
    /// rows; neighbouring threads take neighbouring columns, so their reads coalesce.
    /// </summary>
    /// <param name="partials">(pieces, cols)</param>
    /// <param name="dy">(rows, cols)</param>
    internal static void ColumnSumPartialsKernel(Index1D i, ArrayView<float> partials, ArrayView<float> dy, int rows, int cols)
    {
        int c = i % cols;
        int first = i / cols * ColumnSumRowsPerPiece;
        int end = XMath.Min(first + ColumnSumRowsPerPiece, rows);
        float sum = 0f;
        for (int r = first; r < end; r++)
        {
            sum += dy[(long)r * cols + c];
        }
        partials[i] = sum;
    }

    /// <summary>Stage 2 of ColumnSum: one thread per column adds its pieces' sums.</summary>
    /// <param name="dbias">(cols), accumulated</param>
    /// <param name="partials">(pieces, cols)</param>
    internal static void ColumnSumKernel(Index1D c, ArrayView<float> dbias, ArrayView<float> partials, int pieces)
    {
        int cols = (int)(partials.Length / pieces);
        float sum = 0f;
        for (int p = 0; p < pieces; p++)
        {
            sum += partials[(long)p * cols + c];
        }
        dbias[c] += sum;
    }

    /// <summary>One group per row.</summary>
    /// <param name="y">(rows)</param>
    /// <param name="a">(rows, cols)</param>
    /// <param name="b">(rows, cols)</param>
    internal static void RowDotKernel(ArrayView<float> y, ArrayView<float> a, ArrayView<float> b, int cols)
    {
        var shared = SharedMemory.Allocate<float>(ReduceGroup.SharedSlots);
        long row = (long)Grid.IdxX * cols;
        float sum = 0f;
        for (int j = Group.IdxX; j < cols; j += Group.DimX)
        {
            sum += a[row + j] * b[row + j];
        }
        float total = ReduceGroup.Sum(shared, sum);
        if (Group.IdxX == 0)
        {
            y[Grid.IdxX] = total;
        }
    }

    /// <param name="y">(rows, cols), may alias x</param>
    /// <param name="s">(rows)</param>
    internal static void RowScaleKernel(Index1D i, ArrayView<float> y, ArrayView<float> x, ArrayView<float> s, int cols)
    {
        y[i] = x[i] * s[i / cols];
    }

    /// <summary>Stage 1 of Sum: group g writes the sum of its grid-stride share of x to partials[g].</summary>
    /// <param name="partials">(groups)</param>
    /// <param name="x">(n)</param>
    internal static void SumPartialsKernel(ArrayView<float> partials, ArrayView<float> x)
    {
        var shared = SharedMemory.Allocate<float>(ReduceGroup.SharedSlots);
        long stride = (long)Grid.DimX * Group.DimX;
        float sum = 0f;
        for (long i = (long)Grid.IdxX * Group.DimX + Group.IdxX; i < x.Length; i += stride)
        {
            sum += x[i];
        }
        float total = ReduceGroup.Sum(shared, sum);
        if (Group.IdxX == 0)
        {
            partials[Grid.IdxX] = total;
        }
    }

    /// <summary>Stage 2 of Sum (and of any two-stage total): one group adds the partials into y[0].</summary>
    /// <param name="y">(1)</param>
    /// <param name="partials">(groups)</param>
    internal static void SumFinalKernel(ArrayView<float> y, ArrayView<float> partials)
    {
        var shared = SharedMemory.Allocate<float>(ReduceGroup.SharedSlots);
        float sum = 0f;
        for (int i = Group.IdxX; i < partials.Length; i += Group.DimX)
        {
            sum += partials[i];
        }
        float total = ReduceGroup.Sum(shared, sum);
        if (Group.IdxX == 0)
        {
            y[0] = total;
        }
    }

    /// <summary>One group per row: norms[r] = |x_r|, y_r = x_r / max(|x_r|, eps).</summary>
    /// <param name="y">(rows, cols)</param>
    /// <param name="norms">(rows)</param>
    /// <param name="x">(rows, cols)</param>
    internal static void L2NormalizeRowsKernel(ArrayView<float> y, ArrayView<float> norms, ArrayView<float> x, int cols, float eps)
    {
        var shared = SharedMemory.Allocate<float>(ReduceGroup.SharedSlots);
        long row = (long)Grid.IdxX * cols;
        float sumSq = 0f;
        for (int j = Group.IdxX; j < cols; j += Group.DimX)
        {
            float v = x[row + j];
            sumSq += v * v;
        }
        float norm = XMath.Sqrt(ReduceGroup.Sum(shared, sumSq));
        float inv = 1f / XMath.Max(norm, eps);
        for (int j = Group.IdxX; j < cols; j += Group.DimX)
        {
            y[row + j] = x[row + j] * inv;
        }
        if (Group.IdxX == 0)
        {
            norms[Grid.IdxX] = norm;
        }
    }

    /// <summary>One group per row: dx_r = (dy_r - y_r (dy_r . y_r)) / |x_r| where |x_r| &gt; eps, else dy_r / eps.</summary>
    /// <param name="dx">(rows, cols), written</param>
    /// <param name="dy">(rows, cols)</param>
    /// <param name="y">(rows, cols), the forward output</param>
    /// <param name="norms">(rows), the forward's saved |x_r|</param>
    internal static void L2NormalizeRowsBackwardKernel(ArrayView<float> dx, ArrayView<float> dy, ArrayView<float> y, ArrayView<float> norms, int cols, float eps)
    {
        var shared = SharedMemory.Allocate<float>(ReduceGroup.SharedSlots);
        long row = (long)Grid.IdxX * cols;
        float norm = norms[Grid.IdxX];
        if (norm > eps)
        {
            float dot = 0f;
            for (int j = Group.IdxX; j < cols; j += Group.DimX)
            {
                dot += dy[row + j] * y[row + j];
            }
            // Every thread of the group takes this branch (norm is per row), so the barriers inside are uniform.
            dot = ReduceGroup.Sum(shared, dot);
            float inv = 1f / norm;
            for (int j = Group.IdxX; j < cols; j += Group.DimX)
            {
                dx[row + j] = (dy[row + j] - y[row + j] * dot) * inv;
            }
        }
        else
        {
            float inv = 1f / eps;
            for (int j = Group.IdxX; j < cols; j += Group.DimX)
            {
                dx[row + j] = dy[row + j] * inv;
            }
        }
    }
}

using System.Runtime.Intrinsics;

namespace EmpSsl.Kernels.Cpu;

// Row ops on (rows, cols) matrices. dbias (ColumnSum) accumulates (+=); dx (L2NormalizeRowsBackward) is written.
public sealed unsafe partial class CpuKernels
{
    /// <param name="y">(rows, cols) += bias per row</param>
    /// <param name="bias">(cols)</param>
    public void AddBias(DeviceSpan y, DeviceSpan bias, int rows, int cols)
    {
        Checks.Rows("AddBias", y, rows, cols, "y");
        Checks.Vector("AddBias", bias, cols, "bias");
        nint py = (nint)SimdDriver.P(y);
        nint pb = (nint)SimdDriver.P(bias);
        SimdDriver.ForItems(rows, cols, (first, count) =>
        {
            for (int r = first; r < first + count; r++)
            {
                float* row = (float*)py + (long)r * cols;
                SimdDriver.MapRange(row, row, (float*)pb, cols, default(AddOp));
            }
        });
    }

    /// <param name="dbias">(cols) += column sums of dy</param>
    /// <param name="dy">(rows, cols)</param>
    public void ColumnSum(DeviceSpan dbias, DeviceSpan dy, int rows, int cols)
    {
        Checks.Rows("ColumnSum", dy, rows, cols, "dy");
        Checks.Vector("ColumnSum", dbias, cols, "dbias");
        nint pd = (nint)SimdDriver.P(dbias);
        nint px = (nint)SimdDriver.P(dy);
        int tiles = (cols + ColumnTile - 1) / ColumnTile;
        SimdDriver.ForItems(tiles, (long)rows * ColumnTile, (first, count) =>
        {
            for (int t = first; t < first + count; t++)
            {
                int c0 = t * ColumnTile;
                ColumnSumTile((float*)pd + c0, (float*)px + c0, rows, cols, Math.Min(ColumnTile, cols - c0));
            }
        });
    }

    /// <param name="y">(rows) = row-wise dot products</param>
    /// <param name="a">(rows, cols)</param>
    /// <param name="b">(rows, cols)</param>
    public void RowDot(DeviceSpan y, DeviceSpan a, DeviceSpan b, int rows, int cols)
    {
        Checks.Rows("RowDot", a, rows, cols, "a");
        Checks.Rows("RowDot", b, rows, cols, "b");
        Checks.Vector("RowDot", y, rows, "y");
        nint py = (nint)SimdDriver.P(y);
        nint pa = (nint)SimdDriver.P(a);
        nint pb = (nint)SimdDriver.P(b);
        SimdDriver.ForItems(rows, 2L * cols, (first, count) =>
        {
            for (int r = first; r < first + count; r++)
            {
                long o = (long)r * cols;
                ((float*)py)[r] = (float)SimdReduce.Dot((float*)pa + o, (float*)pb + o, cols);
            }
        });
    }

    /// <param name="y">(rows, cols), may alias x</param>
    /// <param name="x">(rows, cols)</param>
    /// <param name="s">(rows) one factor per row</param>
    public void RowScale(DeviceSpan y, DeviceSpan x, DeviceSpan s, int rows, int cols)
    {
        Checks.Rows("RowScale", x, rows, cols);
        Checks.Rows("RowScale", y, rows, cols, "y");
        Checks.Vector("RowScale", s, rows, "s");
        nint py = (nint)SimdDriver.P(y);
        nint px = (nint)SimdDriver.P(x);
        nint ps = (nint)SimdDriver.P(s);
        SimdDriver.ForItems(rows, cols, (first, count) =>
        {
            for (int r = first; r < first + count; r++)
            {
                long o = (long)r * cols;
                SimdDriver.MapRange((float*)py + o, (float*)px + o, cols, new ScaleOp(((float*)ps)[r]));
            }
        });
    }

    /// <param name="y">(1) = sum of x</param>
    /// <param name="x">(n) any length</param>
    public void Sum(DeviceSpan y, DeviceSpan x)
    {
        Checks.Vector("Sum", y, 1, "y");
        float* px = SimdDriver.P(x);
        *SimdDriver.P(y) = (float)SimdReduce.ReduceParallel(px, px, x.Length, default(SumTerm));
    }

    /// <param name="y">(rows, cols) = x / max(|x_row|, eps)</param>
    /// <param name="norms">(rows) = |x_row|</param>
    /// <param name="x">(rows, cols)</param>
    public void L2NormalizeRows(DeviceSpan y, DeviceSpan norms, DeviceSpan x, int rows, int cols, float eps)
    {
        Checks.Rows("L2NormalizeRows", x, rows, cols);
        Checks.Rows("L2NormalizeRows", y, rows, cols, "y");
        Checks.Vector("L2NormalizeRows", norms, rows, "norms");
        nint py = (nint)SimdDriver.P(y);
        nint pn = (nint)SimdDriver.P(norms);
        nint px = (nint)SimdDriver.P(x);
        SimdDriver.ForItems(rows, 2L * cols, (first, count) =>
        {
            for (int r = first; r < first + count; r++)
            {
                float* xr = (float*)px + (long)r * cols;
                float norm = (float)Math.Sqrt(SimdReduce.Dot(xr, xr, cols));
                ((float*)pn)[r] = norm;
                SimdDriver.MapRange((float*)py + (long)r * cols, xr, cols, new DivideOp(MathF.Max(norm, eps)));
            }
        });
    }

    /// <param name="dx">(rows, cols), written</param>
    /// <param name="dy">(rows, cols)</param>
    /// <param name="y">(rows, cols) the forward output</param>
    /// <param name="norms">(rows) the forward's saved |x_row|</param>
    public void L2NormalizeRowsBackward(DeviceSpan dx, DeviceSpan dy, DeviceSpan y, DeviceSpan norms, int rows, int cols, float eps)
    {
        Checks.Rows("L2NormalizeRowsBackward", dy, rows, cols, "dy");
        Checks.Rows("L2NormalizeRowsBackward", y, rows, cols, "y");
        Checks.Rows("L2NormalizeRowsBackward", dx, rows, cols, "dx");
        Checks.Vector("L2NormalizeRowsBackward", norms, rows, "norms");
        nint pdx = (nint)SimdDriver.P(dx);
        nint pdy = (nint)SimdDriver.P(dy);
        nint py = (nint)SimdDriver.P(y);
        nint pn = (nint)SimdDriver.P(norms);
        SimdDriver.ForItems(rows, 3L * cols, (first, count) =>
        {
            for (int r = first; r < first + count; r++)
            {
                long o = (long)r * cols;
                float norm = ((float*)pn)[r];
                if (norm > eps)
                {
                    float dot = (float)SimdReduce.Dot((float*)pdy + o, (float*)py + o, cols);
                    SimdDriver.MapRange((float*)pdx + o, (float*)pdy + o, (float*)py + o, cols, new ProjectOutOp(dot, norm));
                }
                else
                {
                    // Below eps the forward divided by the constant eps, so the gradient is dy / eps.
                    SimdDriver.MapRange((float*)pdx + o, (float*)pdy + o, cols, new DivideOp(eps));
                }
            }
        });
    }

    /// <summary>Columns per ColumnSum tile: four 8-float vectors, so each row's read is one 128-byte run.</summary>
    private const int ColumnTile = 32;

    /// <summary>Rows summed in float before the running sums move to double.</summary>
    private const int ColumnSumRowBlock = 32;

    private static void ColumnSumTile(float* dbias, float* dy, int rows, int cols, int width)
    {
        Span<double> total = stackalloc double[ColumnTile];
        total.Clear();
        float* block = stackalloc float[ColumnTile];
        var m0 = Math.Clamp(width, 0, 8);
        var m1 = Math.Clamp(width - 8, 0, 8);
        var m2 = Math.Clamp(width - 16, 0, 8);
        var m3 = Math.Clamp(width - 24, 0, 8);
        for (int r0 = 0; r0 < rows; r0 += ColumnSumRowBlock)
        {
            int r1 = Math.Min(rows, r0 + ColumnSumRowBlock);
            var s0 = Vector256<float>.Zero;
            var s1 = Vector256<float>.Zero;
            var s2 = Vector256<float>.Zero;
            var s3 = Vector256<float>.Zero;
            if (width == ColumnTile)
            {
                for (int r = r0; r < r1; r++)
                {
                    float* p = dy + (long)r * cols;
                    s0 += Vector256.Load(p);
                    s1 += Vector256.Load(p + 8);
                    s2 += Vector256.Load(p + 16);
                    s3 += Vector256.Load(p + 24);
                }
            }
            else
            {
                for (int r = r0; r < r1; r++)
                {
                    float* p = dy + (long)r * cols;
                    s0 += SimdDriver.LoadTail(p, m0);
                    s1 += SimdDriver.LoadTail(p + 8, m1);
                    s2 += SimdDriver.LoadTail(p + 16, m2);
                    s3 += SimdDriver.LoadTail(p + 24, m3);
                }
            }
            s0.Store(block);
            s1.Store(block + 8);
            s2.Store(block + 16);
            s3.Store(block + 24);
            for (int c = 0; c < ColumnTile; c++)
            {
                total[c] += block[c];
            }
        }
        for (int c = 0; c < width; c++)
        {
            dbias[c] = (float)(dbias[c] + total[c]);
        }
    }
}

internal readonly struct DivideOp(float d) : IUnaryOp
{
    public float Invoke(float x) => x / d;

    public Vector256<float> Invoke(Vector256<float> x) => x / Vector256.Create(d);

    public Vector512<float> Invoke(Vector512<float> x) => x / Vector512.Create(d);
}

/// <summary>a = dy, b = y: (dy - y (dy . y)) / |x|, the normalization's Jacobian applied to dy.</summary>
internal readonly struct ProjectOutOp(float dot, float norm) : IBinaryOp
{
    public float Invoke(float a, float b) => (a - b * dot) / norm;

    public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b)
        => (a - b * Vector256.Create(dot)) / Vector256.Create(norm);

    public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b)
        => (a - b * Vector512.Create(dot)) / Vector512.Create(norm);
}

namespace EmpSsl.Kernels.Reference;

public static partial class Ref
{
    /// <summary>y (rows, cols) += bias (cols) broadcast over rows.</summary>
    public static void AddBias(Span<double> y, ReadOnlySpan<double> bias, int rows, int cols)
    {
        Need("AddBias", "y", y.Length, (long)rows * cols);
        Need("AddBias", "bias", bias.Length, cols);
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                y[r * cols + c] += bias[c];
            }
        }
    }

    /// <summary>dbias (cols) += column sums of dy (rows, cols).</summary>
    public static void ColumnSum(Span<double> dbias, ReadOnlySpan<double> dy, int rows, int cols)
    {
        Need("ColumnSum", "dy", dy.Length, (long)rows * cols);
        Need("ColumnSum", "dbias", dbias.Length, cols);
        for (int c = 0; c < cols; c++)
        {
            double acc = 0;
            for (int r = 0; r < rows; r++)
            {
                acc += dy[r * cols + c];
            }
            dbias[c] += acc;
        }
    }

    /// <summary>y (rows) = row-wise dot products of a and b (rows, cols).</summary>
    public static void RowDot(Span<double> y, ReadOnlySpan<double> a, ReadOnlySpan<double> b, int rows, int cols)
    {
        Need("RowDot", "a", a.Length, (long)rows * cols);
        Need("RowDot", "b", b.Length, (long)rows * cols);
        Need("RowDot", "y", y.Length, rows);
        for (int r = 0; r < rows; r++)
        {
            double acc = 0;
            for (int c = 0; c < cols; c++)
            {
                acc += a[r * cols + c] * b[r * cols + c];
            }
            y[r] = acc;
        }
    }

    /// <summary>y (rows, cols) = x (rows, cols) * s (rows) per row.</summary>
    public static void RowScale(Span<double> y, ReadOnlySpan<double> x, ReadOnlySpan<double> s, int rows, int cols)
    {
        Need("RowScale", "x", x.Length, (long)rows * cols);
        Need("RowScale", "y", y.Length, (long)rows * cols);
        Need("RowScale", "s", s.Length, rows);
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                y[r * cols + c] = x[r * cols + c] * s[r];
            }
        }
    }

    /// <summary>y (1) = sum of x.</summary>
    public static void Sum(Span<double> y, ReadOnlySpan<double> x)
    {
        Need("Sum", "y", y.Length, 1);
        double acc = 0;
        foreach (double v in x)
        {
            acc += v;
        }
        y[0] = acc;
    }

    /// <summary>
    /// y (rows, cols) = x / max(|x_row|, eps) as torch.nn.functional.normalize; norms (rows) = |x_row| (not clamped).
    /// </summary>
    public static void L2NormalizeRows(Span<double> y, Span<double> norms, ReadOnlySpan<double> x, int rows, int cols, double eps)
    {
        Need("L2NormalizeRows", "x", x.Length, (long)rows * cols);
        Need("L2NormalizeRows", "y", y.Length, (long)rows * cols);
        Need("L2NormalizeRows", "norms", norms.Length, rows);
        for (int r = 0; r < rows; r++)
        {
            double sq = 0;
            for (int c = 0; c < cols; c++)
            {
                sq += x[r * cols + c] * x[r * cols + c];
            }
            double norm = Math.Sqrt(sq);
            double denominator = Math.Max(norm, eps);
            norms[r] = norm;
            for (int c = 0; c < cols; c++)
            {
                y[r * cols + c] = x[r * cols + c] / denominator;
            }
        }
    }

    /// <summary>
    /// dx = (dy - y (dy . y)) / |x| per row where |x| &gt; eps (the Jacobian of x / |x| is (I - y y^T) / |x|);
    /// else the clamp is active, y = x / eps, and dx = dy / eps.
    /// </summary>
    public static void L2NormalizeRowsBackward(
        Span<double> dx, ReadOnlySpan<double> dy, ReadOnlySpan<double> y, ReadOnlySpan<double> norms, int rows, int cols, double eps)
    {
        Need("L2NormalizeRowsBackward", "dy", dy.Length, (long)rows * cols);
        Need("L2NormalizeRowsBackward", "y", y.Length, (long)rows * cols);
        Need("L2NormalizeRowsBackward", "dx", dx.Length, (long)rows * cols);
        Need("L2NormalizeRowsBackward", "norms", norms.Length, rows);
        for (int r = 0; r < rows; r++)
        {
            double norm = norms[r];
            if (norm > eps)
            {
                double dot = 0;
                for (int c = 0; c < cols; c++)
                {
                    dot += dy[r * cols + c] * y[r * cols + c];
                }
                for (int c = 0; c < cols; c++)
                {
                    dx[r * cols + c] = (dy[r * cols + c] - y[r * cols + c] * dot) / norm;
                }
            }
            else
            {
                for (int c = 0; c < cols; c++)
                {
                    dx[r * cols + c] = dy[r * cols + c] / eps;
                }
            }
        }
    }
}

namespace EmpSsl.Kernels.Reference;

/// <summary>
/// The float64 spec of every op in <see cref="IKernels"/>: plain scalar loops, one file per op family,
/// the same names and argument order as the contract but on double arrays. Backends are tested against
/// these, never against themselves, and autodiff's finite-difference checks call the forwards.
/// Gradient rule: parameter gradients accumulate (+=), activation gradients are written (=).
/// </summary>
public static partial class Ref
{
    public static void Fill(Span<double> y, double value)
    {
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = value;
        }
    }

    /// <summary>y = x.</summary>
    public static void Copy(Span<double> y, ReadOnlySpan<double> x)
    {
        Same("Copy", y.Length, x.Length);
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = x[i];
        }
    }

    /// <summary>y = a + b; y may alias a or b because each element is read before it is written.</summary>
    public static void Add(Span<double> y, ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        Same("Add", y.Length, a.Length, b.Length);
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = a[i] + b[i];
        }
    }

    /// <summary>y += alpha * x.</summary>
    public static void Axpy(Span<double> y, ReadOnlySpan<double> x, double alpha)
    {
        Same("Axpy", y.Length, x.Length);
        for (int i = 0; i < y.Length; i++)
        {
            y[i] += alpha * x[i];
        }
    }

    /// <summary>y = alpha * x.</summary>
    public static void Scale(Span<double> y, ReadOnlySpan<double> x, double alpha)
    {
        Same("Scale", y.Length, x.Length);
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = alpha * x[i];
        }
    }

    /// <summary>y = max(x, 0).</summary>
    /// <summary>y = max(a + b, 0): a residual block's output.</summary>
    public static void AddRelu(Span<double> y, ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        Same("AddRelu", y.Length, a.Length, b.Length);
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = Math.Max(a[i] + b[i], 0);
        }
    }

    public static void Relu(Span<double> y, ReadOnlySpan<double> x)
    {
        Same("Relu", y.Length, x.Length);
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = x[i] > 0 ? x[i] : 0;
        }
    }

    /// <summary>dx = y &gt; 0 ? dy : 0, from the forward output y.</summary>
    public static void ReluBackward(Span<double> dx, ReadOnlySpan<double> dy, ReadOnlySpan<double> y)
    {
        Same("ReluBackward", dx.Length, dy.Length, y.Length);
        for (int i = 0; i < dx.Length; i++)
        {
            dx[i] = y[i] > 0 ? dy[i] : 0;
        }
    }

    /// <summary>The spec checks sizes too, so a wrong call in a test fails loudly instead of reading past an array.</summary>
    private static void Same(string op, params int[] lengths)
    {
        foreach (int n in lengths)
        {
            if (n != lengths[0])
            {
                throw new ShapeMismatchException($"Ref.{op}: operands differ in length ({string.Join(" vs ", lengths)})");
            }
        }
    }

    private static void Need(string op, string name, int actual, long expected)
    {
        if (actual != expected)
        {
            throw new ShapeMismatchException($"Ref.{op}: {name} has {actual} elements but needs {expected}");
        }
    }
}

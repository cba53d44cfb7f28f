using EmpSsl.Kernels;

namespace EmpSsl.Autodiff.Tests;

/// <summary>An input of a gradient check: float32-representable values, and whether its gradient is checked.</summary>
internal sealed record Input(int[] Shape, double[] Values, bool RequiresGrad = true);

/// <summary>
/// The base of every test class that runs ops: one backend (subclasses name it: "cpu", "ilgpu-cpu"), one tape,
/// a fixed seed, and the gradient check that compares the tape's backward with float64 central differences
/// of the plain forward in <see cref="F64"/>.
/// </summary>
public abstract class BackendTest : IDisposable
{
    private readonly Random _random = new(20231125);

    protected BackendTest(string backend)
    {
        Kernels = Devices.Open(backend);
        Tape = new Tape(Kernels);
    }

    protected IKernels Kernels { get; }

    protected Tape Tape { get; }

    public void Dispose()
    {
        Tape.Dispose();
        Kernels.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Uniform values in [lo, hi), rounded to float32 so the device holds exactly what float64 sees.</summary>
    internal double[] Random(int length, double lo = -1, double hi = 1)
    {
        var values = new double[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)(lo + (hi - lo) * _random.NextDouble());
        }
        return values;
    }

    internal Tensor Leaf(int[] shape, double[] values, bool requiresGrad = true)
        => Tensor.FromHost(Kernels, shape, values.Select(v => (float)v).ToArray(), requiresGrad);

    internal static double[] Host(Tensor t, IKernels kernels) => t.ToHost(kernels).Select(v => (double)v).ToArray();

    /// <summary>
    /// Checks an op end to end: its forward against <paramref name="reference"/>, then its gradient. The scalar is
    /// L = sum(y * r) for a fixed random r, so backward starts from dy = r; each checked coordinate of each input's
    /// gradient is compared with (L(x + h) - L(x - h)) / 2h computed entirely in float64.
    /// </summary>
    internal void CheckGradients(
        Input[] inputs,
        Func<Tape, Tensor[], Tensor> build,
        Func<double[][], double[]> reference,
        Tol gradTol,
        Tol? forwardTol = null,
        int maxCoordinates = 24,
        double step = 1e-5)
    {
        var leaves = inputs.Select(i => Leaf(i.Shape, i.Values, i.RequiresGrad)).ToArray();
        CheckGradients(leaves, inputs, build, reference, gradTol, forwardTol, maxCoordinates, step);
        foreach (var leaf in leaves)
        {
            leaf.DisposeLeaf();
        }
    }

    /// <summary>The same check on tensors that already hold the inputs' values (a module's own parameters).</summary>
    internal void CheckGradients(
        Tensor[] leaves,
        Input[] inputs,
        Func<Tape, Tensor[], Tensor> build,
        Func<double[][], double[]> reference,
        Tol gradTol,
        Tol? forwardTol = null,
        int maxCoordinates = 24,
        double step = 1e-5)
    {
        var y = build(Tape, leaves);
        var expected = reference(inputs.Select(i => i.Values).ToArray());
        Assert.Equal(expected.Length, y.Length);
        Assertions.Close(expected, Host(y, Kernels), forwardTol ?? Tol.Forward, "forward", expected.Max(Math.Abs));

        var r = Random(y.Length);
        var rLeaf = Leaf([1, y.Length], r, requiresGrad: false);
        var loss = Tape.RowDot(Tape.Reshape(y, 1, y.Length), rLeaf);
        Tape.Backward(loss);
        Tape.Reset();

        for (int k = 0; k < inputs.Length; k++)
        {
            if (!inputs[k].RequiresGrad)
            {
                continue;
            }
            Assert.True(leaves[k].HasGrad, $"input {k} got no gradient");
            var grad = leaves[k].GradToHost(Kernels);
            var coordinates = Coordinates(inputs[k].Values.Length, maxCoordinates);
            var fd = new double[coordinates.Length];
            var got = new double[coordinates.Length];
            for (int c = 0; c < coordinates.Length; c++)
            {
                int j = coordinates[c];
                var values = inputs.Select(i => (double[])i.Values.Clone()).ToArray();
                values[k][j] = inputs[k].Values[j] + step;
                double plus = Dot(reference(values), r);
                values[k][j] = inputs[k].Values[j] - step;
                double minus = Dot(reference(values), r);
                fd[c] = (plus - minus) / (2 * step);
                got[c] = grad[j];
            }
            Assertions.Close(fd, got, gradTol, $"gradient of input {k} ({leaves[k].Describe()}) at coordinates [{string.Join(", ", coordinates)}]", fd.Max(Math.Abs));
        }
        rLeaf.DisposeLeaf();
    }

    internal int[] Coordinates(int length, int max)
    {
        if (length <= max)
        {
            return Enumerable.Range(0, length).ToArray();
        }
        return Enumerable.Range(0, length).OrderBy(_ => _random.Next()).Take(max).Order().ToArray();
    }

    internal static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            s += a[i] * b[i];
        }
        return s;
    }
}

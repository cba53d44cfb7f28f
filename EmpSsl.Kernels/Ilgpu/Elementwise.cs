using ILGPU;
using ILGPU.Runtime;
using ILGPU.Util;

namespace EmpSsl.Kernels.Ilgpu;

// Elementwise ops: one thread per element, launched over exactly the span's length, so each store is in
// bounds by construction of the grid (ILGPU's auto-grouped launch masks the tail). Activation gradients
// (dx) are written, never accumulated. Empty spans launch nothing. The ops a training step runs over whole
// activations (Copy, Add, Relu and its backward) take four elements per thread as 16-byte loads and stores where
// every view allows it (<see cref="Quads"/>).
public sealed partial class IlgpuKernels
{
    /// <summary>Whether every view has a length and a start that are multiples of 4 floats (16 bytes).</summary>
    private static bool Quads(params ReadOnlySpan<DeviceSpan> views)
    {
        foreach (var v in views)
        {
            if (v.Length % 4 != 0 || v.Offset % 4 != 0)
            {
                return false;
            }
        }
        return true;
    }

    private ArrayView<Float4> V4(DeviceSpan span) => V(span).Cast<Float4>();

    /// <summary>y = op(x) over two views of one length, on quads where <see cref="Quads"/> allows.</summary>
    private void Map(
        string name, DeviceSpan y, DeviceSpan x, Action<Index1D, ArrayView<float>, ArrayView<float>> scalar,
        Action<Index1D, ArrayView<Float4>, ArrayView<Float4>> quad)
    {
        Checks.Same(name, y, x);
        if (y.Length == 0)
        {
            return;
        }
        if (Quads(y, x))
        {
            Load(name + "Quad", a => a.LoadAutoGroupedStreamKernel(quad))(y.Length / 4, V4(y), V4(x));
            return;
        }
        Load(name, a => a.LoadAutoGroupedStreamKernel(scalar))(y.Length, V(y), V(x));
    }

    /// <summary>y = op(a, b) over three views of one length, on quads where <see cref="Quads"/> allows.</summary>
    private void Map(
        string name, DeviceSpan y, DeviceSpan a, DeviceSpan b, Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>> scalar,
        Action<Index1D, ArrayView<Float4>, ArrayView<Float4>, ArrayView<Float4>> quad)
    {
        Checks.Same(name, y, a, b);
        if (y.Length == 0)
        {
            return;
        }
        if (Quads(y, a, b))
        {
            Load(name + "Quad", acc => acc.LoadAutoGroupedStreamKernel(quad))(y.Length / 4, V4(y), V4(a), V4(b));
            return;
        }
        Load(name, acc => acc.LoadAutoGroupedStreamKernel(scalar))(y.Length, V(y), V(a), V(b));
    }

    public void Fill(DeviceSpan y, float value)
    {
        if (y.Length == 0)
        {
            return;
        }
        Load("Fill", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float>(FillKernel))(y.Length, V(y), value);
    }

    public void Copy(DeviceSpan y, DeviceSpan x) => Map("Copy", y, x, CopyKernel, CopyQuadKernel);

    public void Add(DeviceSpan y, DeviceSpan a, DeviceSpan b) => Map("Add", y, a, b, AddKernel, AddQuadKernel);

    public void Axpy(DeviceSpan y, DeviceSpan x, float alpha)
    {
        Checks.Same("Axpy", y, x);
        if (y.Length == 0)
        {
            return;
        }
        Load("Axpy", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(AxpyKernel))(
            y.Length, V(y), V(x), alpha);
    }

    public void Scale(DeviceSpan y, DeviceSpan x, float alpha)
    {
        Checks.Same("Scale", y, x);
        if (y.Length == 0)
        {
            return;
        }
        Load("Scale", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(ScaleKernel))(
            y.Length, V(y), V(x), alpha);
    }

    public void AddRelu(DeviceSpan y, DeviceSpan a, DeviceSpan b) => Map("AddRelu", y, a, b, AddReluKernel, AddReluQuadKernel);

    public void Relu(DeviceSpan y, DeviceSpan x) => Map("Relu", y, x, ReluKernel, ReluQuadKernel);

    public void ReluBackward(DeviceSpan dx, DeviceSpan dy, DeviceSpan y) => Map("ReluBackward", dx, dy, y, ReluBackwardKernel, ReluBackwardQuadKernel);

    /// <param name="y">(n)</param>
    internal static void FillKernel(Index1D i, ArrayView<float> y, float value)
    {
        y[i] = value;
    }

    /// <param name="y">(n)</param>
    /// <param name="x">(n)</param>
    internal static void CopyKernel(Index1D i, ArrayView<float> y, ArrayView<float> x)
    {
        y[i] = x[i];
    }

    internal static void CopyQuadKernel(Index1D q, ArrayView<Float4> y, ArrayView<Float4> x)
    {
        y[q] = x[q];
    }

    internal static void AddQuadKernel(Index1D q, ArrayView<Float4> y, ArrayView<Float4> a, ArrayView<Float4> b)
    {
        var u = a[q];
        var v = b[q];
        y[q] = new Float4(u.X + v.X, u.Y + v.Y, u.Z + v.Z, u.W + v.W);
    }

    internal static void AddReluQuadKernel(Index1D q, ArrayView<Float4> y, ArrayView<Float4> a, ArrayView<Float4> b)
    {
        var u = a[q];
        var v = b[q];
        y[q] = new Float4(Relu(u.X + v.X), Relu(u.Y + v.Y), Relu(u.Z + v.Z), Relu(u.W + v.W));
    }

    /// <param name="y">(n), may alias a or b</param>
    internal static void AddReluKernel(Index1D i, ArrayView<float> y, ArrayView<float> a, ArrayView<float> b)
    {
        y[i] = Relu(a[i] + b[i]);
    }

    internal static void ReluQuadKernel(Index1D q, ArrayView<Float4> y, ArrayView<Float4> x)
    {
        var v = x[q];
        y[q] = new Float4(Relu(v.X), Relu(v.Y), Relu(v.Z), Relu(v.W));
    }

    internal static void ReluBackwardQuadKernel(Index1D q, ArrayView<Float4> dx, ArrayView<Float4> dy, ArrayView<Float4> y)
    {
        var g = dy[q];
        var v = y[q];
        dx[q] = new Float4(v.X > 0f ? g.X : 0f, v.Y > 0f ? g.Y : 0f, v.Z > 0f ? g.Z : 0f, v.W > 0f ? g.W : 0f);
    }

    /// <param name="y">(n), may alias a or b</param>
    internal static void AddKernel(Index1D i, ArrayView<float> y, ArrayView<float> a, ArrayView<float> b)
    {
        y[i] = a[i] + b[i];
    }

    /// <param name="y">(n), accumulated</param>
    internal static void AxpyKernel(Index1D i, ArrayView<float> y, ArrayView<float> x, float alpha)
    {
        y[i] += alpha * x[i];
    }

    /// <param name="y">(n), may alias x</param>
    internal static void ScaleKernel(Index1D i, ArrayView<float> y, ArrayView<float> x, float alpha)
    {
        y[i] = alpha * x[i];
    }

    /// <param name="y">(n), may alias x</param>
    internal static void ReluKernel(Index1D i, ArrayView<float> y, ArrayView<float> x)
    {
        y[i] = Relu(x[i]);
    }

    // A comparison that is false for NaN, so a NaN input stays NaN as in torch.relu.
    private static float Relu(float v) => v < 0f ? 0f : v;

    /// <param name="dx">(n), written; may alias dy</param>
    /// <param name="y">(n), the forward output</param>
    internal static void ReluBackwardKernel(Index1D i, ArrayView<float> dx, ArrayView<float> dy, ArrayView<float> y)
    {
        dx[i] = y[i] > 0f ? dy[i] : 0f;
    }
}

using ILGPU;
using ILGPU.Runtime;

namespace EmpSsl.Kernels.Ilgpu;

// Elementwise ops: one thread per element, launched over exactly the span's length, so each store is in
// bounds by construction of the grid (ILGPU's auto-grouped launch masks the tail). Activation gradients
// (dx) are written, never accumulated. Empty spans launch nothing.
public sealed partial class IlgpuKernels
{
    public void Fill(DeviceSpan y, float value)
    {
        if (y.Length == 0)
        {
            return;
        }
        Load("Fill", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float>(FillKernel))(y.Length, V(y), value);
    }

    public void Copy(DeviceSpan y, DeviceSpan x)
    {
        Checks.Same("Copy", y, x);
        if (y.Length == 0)
        {
            return;
        }
        Load("Copy", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(CopyKernel))(y.Length, V(y), V(x));
    }

    public void Add(DeviceSpan y, DeviceSpan a, DeviceSpan b)
    {
        Checks.Same("Add", y, a, b);
        if (y.Length == 0)
        {
            return;
        }
        Load("Add", acc => acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(AddKernel))(
            y.Length, V(y), V(a), V(b));
    }

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

    public void Relu(DeviceSpan y, DeviceSpan x)
    {
        Checks.Same("Relu", y, x);
        if (y.Length == 0)
        {
            return;
        }
        Load("Relu", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(ReluKernel))(y.Length, V(y), V(x));
    }

    public void ReluBackward(DeviceSpan dx, DeviceSpan dy, DeviceSpan y)
    {
        Checks.Same("ReluBackward", dx, dy, y);
        if (dx.Length == 0)
        {
            return;
        }
        Load("ReluBackward", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ReluBackwardKernel))(
            dx.Length, V(dx), V(dy), V(y));
    }

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
        // A comparison that is false for NaN, so a NaN input stays NaN as in torch.relu.
        float v = x[i];
        y[i] = v < 0f ? 0f : v;
    }

    /// <param name="dx">(n), written; may alias dy</param>
    /// <param name="y">(n), the forward output</param>
    internal static void ReluBackwardKernel(Index1D i, ArrayView<float> dx, ArrayView<float> dy, ArrayView<float> y)
    {
        dx[i] = y[i] > 0f ? dy[i] : 0f;
    }
}

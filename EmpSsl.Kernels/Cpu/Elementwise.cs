using System.Runtime.Intrinsics;

namespace EmpSsl.Kernels.Cpu;

// Elementwise ops: each is an operator struct run by SimdDriver. dx (ReluBackward) is written, never accumulated.
public sealed unsafe partial class CpuKernels
{
    /// <param name="y">(n) any length</param>
    public void Fill(DeviceSpan y, float value)
        => SimdDriver.Fill(SimdDriver.P(y), y.Length, value);

    /// <param name="y">(n)</param>
    /// <param name="x">(n)</param>
    public void Copy(DeviceSpan y, DeviceSpan x)
    {
        Checks.Same("Copy", y, x);
        if (ReferenceEquals(y.Buffer, x.Buffer) && y.Offset == x.Offset)
        {
            return;
        }
        if (ReferenceEquals(y.Buffer, x.Buffer) && Math.Abs(y.Offset - x.Offset) < y.Length)
        {
            // Windows that overlap at a shift need memmove order, which a split over cores would break.
            S(x).CopyTo(S(y));
            return;
        }
        SimdDriver.Map(SimdDriver.P(y), SimdDriver.P(x), y.Length, default(IdentityOp));
    }

    /// <param name="y">(n), may alias a or b</param>
    /// <param name="a">(n)</param>
    /// <param name="b">(n)</param>
    public void Add(DeviceSpan y, DeviceSpan a, DeviceSpan b)
    {
        Checks.Same("Add", y, a, b);
        SimdDriver.Map(SimdDriver.P(y), SimdDriver.P(a), SimdDriver.P(b), y.Length, default(AddOp));
    }

    /// <param name="y">(n) += alpha x</param>
    /// <param name="x">(n)</param>
    public void Axpy(DeviceSpan y, DeviceSpan x, float alpha)
    {
        Checks.Same("Axpy", y, x);
        float* py = SimdDriver.P(y);
        SimdDriver.Map(py, py, SimdDriver.P(x), y.Length, new AxpyOp(alpha));
    }

    /// <param name="y">(n), may alias x</param>
    /// <param name="x">(n)</param>
    public void Scale(DeviceSpan y, DeviceSpan x, float alpha)
    {
        Checks.Same("Scale", y, x);
        SimdDriver.Map(SimdDriver.P(y), SimdDriver.P(x), y.Length, new ScaleOp(alpha));
    }

    /// <param name="y">(n), may alias x</param>
    /// <param name="x">(n)</param>
    public void AddRelu(DeviceSpan y, DeviceSpan a, DeviceSpan b)
    {
        Checks.Same("AddRelu", y, a, b);
        SimdDriver.Map(SimdDriver.P(y), SimdDriver.P(a), SimdDriver.P(b), y.Length, default(AddReluOp));
    }

    public void Relu(DeviceSpan y, DeviceSpan x)
    {
        Checks.Same("Relu", y, x);
        SimdDriver.Map(SimdDriver.P(y), SimdDriver.P(x), y.Length, default(ReluOp));
    }

    /// <param name="dx">(n), written; may alias dy</param>
    /// <param name="dy">(n)</param>
    /// <param name="y">(n) the forward output</param>
    public void ReluBackward(DeviceSpan dx, DeviceSpan dy, DeviceSpan y)
    {
        Checks.Same("ReluBackward", dx, dy, y);
        SimdDriver.Map(SimdDriver.P(dx), SimdDriver.P(dy), SimdDriver.P(y), dx.Length, default(ReluBackwardOp));
    }
}

internal readonly struct IdentityOp : IUnaryOp
{
    public float Invoke(float x) => x;

    public Vector256<float> Invoke(Vector256<float> x) => x;

    public Vector512<float> Invoke(Vector512<float> x) => x;
}

internal readonly struct AddOp : IBinaryOp
{
    public float Invoke(float a, float b) => a + b;

    public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => a + b;

    public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => a + b;
}

/// <summary>a + alpha b, fused in every form so that the tail rounds like the body.</summary>
internal readonly struct AxpyOp(float alpha) : IBinaryOp
{
    public float Invoke(float a, float b) => MathF.FusedMultiplyAdd(alpha, b, a);

    public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b)
        => Vector256.FusedMultiplyAdd(Vector256.Create(alpha), b, a);

    public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b)
        => Vector512.FusedMultiplyAdd(Vector512.Create(alpha), b, a);
}

internal readonly struct ScaleOp(float alpha) : IUnaryOp
{
    public float Invoke(float x) => alpha * x;

    public Vector256<float> Invoke(Vector256<float> x) => Vector256.Create(alpha) * x;

    public Vector512<float> Invoke(Vector512<float> x) => Vector512.Create(alpha) * x;
}

/// <summary>max(x, 0) that keeps NaN, as torch.relu does (Vector.Max and MathF.Max both propagate NaN).</summary>
internal readonly struct AddReluOp : IBinaryOp
{
    public float Invoke(float a, float b) => MathF.Max(a + b, 0f);

    public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => Vector256.Max(a + b, Vector256<float>.Zero);

    public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => Vector512.Max(a + b, Vector512<float>.Zero);
}

internal readonly struct ReluOp : IUnaryOp
{
    public float Invoke(float x) => MathF.Max(x, 0f);

    public Vector256<float> Invoke(Vector256<float> x) => Vector256.Max(x, Vector256<float>.Zero);

    public Vector512<float> Invoke(Vector512<float> x) => Vector512.Max(x, Vector512<float>.Zero);
}

/// <summary>a = dy, b = y: dy where y &gt; 0, else 0.</summary>
internal readonly struct ReluBackwardOp : IBinaryOp
{
    public float Invoke(float a, float b) => b > 0f ? a : 0f;

    public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b)
        => Vector256.GreaterThan(b, Vector256<float>.Zero) & a;

    public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b)
        => Vector512.GreaterThan(b, Vector512<float>.Zero) & a;
}

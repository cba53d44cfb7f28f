using EmpSsl.Kernels;

namespace EmpSsl.Autodiff;

/// <summary>
/// A dense row-major float32 array on one backend, with an optional gradient of the same shape.
/// Parameters and inputs own memory from <see cref="IKernels.Allocate"/>; tensors made by a <see cref="Tape"/>
/// rent theirs from the tape's <see cref="BufferPool"/> and give it back when backward is done with them.
/// A view (reshape, batch slice) shares its base's memory and never frees it.
/// </summary>
public sealed class Tensor
{
    internal Tensor(int[] shape, DeviceSpan data, DeviceBuffer? owned, bool pooled, bool requiresGrad, string? name = null)
    {
        Shape = shape;
        Length = ShapeLength(shape);
        if (data.Length != Length)
        {
            throw new ShapeMismatchException($"Tensor: shape [{string.Join(", ", shape)}] needs {Length} floats, the data has {data.Length}");
        }
        Data = data;
        Owned = owned;
        Pooled = pooled;
        RequiresGrad = requiresGrad;
        Name = name;
    }

    public int[] Shape { get; }

    public int Length { get; }

    public int Rank => Shape.Length;

    /// <summary>The memory behind the values; invalid once the tape has released this tensor.</summary>
    public DeviceSpan Data { get; }

    public bool RequiresGrad { get; set; }

    /// <summary>The state-dict key of a parameter or buffer; null for activations.</summary>
    public string? Name { get; internal set; }

    public bool HasGrad => GradBuffer is not null;

    /// <summary>The gradient, same shape as the data; allocated on first use by backward.</summary>
    public DeviceSpan Grad => GradBuffer?.Span ?? throw new InvalidOperationException($"tensor {Describe()} has no gradient yet");

    internal DeviceBuffer? Owned { get; private set; }

    internal bool Pooled { get; }

    internal DeviceBuffer? GradBuffer { get; set; }

    /// <summary>Kept by <see cref="Tape.Backward"/> (the loss and logged terms); freed by <see cref="Tape.Reset"/>.</summary>
    internal bool Retained { get; set; }

    internal bool Released { get; private set; }

    public int Dim(int axis) => Shape[axis];

    /// <summary>A leaf tensor that owns new memory; parameters and inputs are made this way.</summary>
    public static Tensor Create(IKernels kernels, int[] shape, bool requiresGrad = false, string? name = null)
    {
        var buffer = kernels.Allocate(ShapeLength(shape));
        return new Tensor((int[])shape.Clone(), buffer.Span, buffer, pooled: false, requiresGrad, name);
    }

    public static Tensor FromHost(IKernels kernels, int[] shape, ReadOnlySpan<float> values, bool requiresGrad = false, string? name = null)
    {
        var t = Create(kernels, shape, requiresGrad, name);
        kernels.Upload(t.Data, values);
        return t;
    }

    public float[] ToHost(IKernels kernels)
    {
        var host = new float[Length];
        kernels.Download(Data, host);
        return host;
    }

    public float[] GradToHost(IKernels kernels)
    {
        var host = new float[Length];
        kernels.Download(Grad, host);
        return host;
    }

    /// <summary>Sets the gradient to zero, allocating it if needed (the optimizer's zero_grad).</summary>
    public void ZeroGrad(IKernels kernels)
    {
        GradBuffer ??= kernels.Allocate(Length);
        kernels.Fill(Grad, 0f);
    }

    /// <summary>Frees a leaf's memory; pooled tensors go back through their tape instead.</summary>
    public void DisposeLeaf()
    {
        if (Pooled)
        {
            throw new InvalidOperationException($"tensor {Describe()} belongs to a tape; the tape frees it");
        }
        Owned?.Dispose();
        GradBuffer?.Dispose();
        Owned = null;
        GradBuffer = null;
        Released = true;
    }

    internal void Release(BufferPool pool)
    {
        if (Released)
        {
            return;
        }
        if (Owned is not null && Pooled)
        {
            pool.Return(Owned);
        }
        if (GradBuffer is not null && Pooled)
        {
            pool.Return(GradBuffer);
        }
        Owned = null;
        GradBuffer = null;
        Released = true;
    }

    internal void ReleaseGrad(BufferPool pool)
    {
        if (GradBuffer is not null && Pooled)
        {
            pool.Return(GradBuffer);
            GradBuffer = null;
        }
    }

    public string Describe() => $"{Name ?? "tensor"}[{string.Join(", ", Shape)}]";

    public override string ToString() => Describe();

    internal static int ShapeLength(int[] shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d <= 0)
            {
                throw new ShapeMismatchException($"Tensor: every dimension must be positive, got [{string.Join(", ", shape)}]");
            }
            n *= d;
        }
        if (n > int.MaxValue)
        {
            throw new ShapeMismatchException($"Tensor: [{string.Join(", ", shape)}] has more than 2^31 elements");
        }
        return (int)n;
    }
}

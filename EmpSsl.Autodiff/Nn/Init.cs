using EmpSsl.Kernels;

namespace EmpSsl.Autodiff.Nn;

/// <summary>
/// PyTorch's default initialization, drawn on the host from one seeded generator in construction order.
/// Conv and linear weights: kaiming_uniform_(a = sqrt(5)), whose bound gain * sqrt(3 / fan_in) with
/// gain = sqrt(2 / (1 + 5)) is exactly 1 / sqrt(fan_in). Linear bias: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)).
/// </summary>
public sealed class Init(IKernels kernels, int seed)
{
    private readonly Random _random = new(seed);

    public IKernels Kernels { get; } = kernels;

    public Tensor Uniform(int[] shape, int fanIn)
    {
        float bound = 1f / MathF.Sqrt(fanIn);
        var host = new float[Tensor.ShapeLength(shape)];
        for (int i = 0; i < host.Length; i++)
        {
            host[i] = (float)((_random.NextDouble() * 2 - 1) * bound);
        }
        return Tensor.FromHost(Kernels, shape, host);
    }

    public Tensor Constant(int[] shape, float value)
    {
        var host = new float[Tensor.ShapeLength(shape)];
        Array.Fill(host, value);
        return Tensor.FromHost(Kernels, shape, host);
    }
}

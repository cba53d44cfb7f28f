using EmpSsl.Autodiff;
using EmpSsl.Kernels;

namespace EmpSsl.Train.Optim;

/// <summary>
/// SGD with momentum (Nesterov) wrapped by LARS, as the official EMP-SSL code runs it (solo-learn's LARSWrapper,
/// eta .005, clip on, exclude_bias_n_norm on): weights of rank 2 and up get weight decay folded into the gradient
/// and the clipped trust ratio; biases and BatchNorm parameters (rank 1) get neither. One fused kernel per parameter.
/// </summary>
public sealed class Lars : IDisposable
{
    private readonly IKernels _k;
    private readonly List<(Tensor Param, DeviceBuffer Momentum, bool Adapt)> _state = new();

    public Lars(IKernels kernels, IEnumerable<Tensor> parameters, float momentum = 0.9f, float weightDecay = 1e-4f, float eta = 0.005f, bool nesterov = true)
    {
        _k = kernels;
        Momentum = momentum;
        WeightDecay = weightDecay;
        Eta = eta;
        Nesterov = nesterov;
        foreach (var p in parameters)
        {
            var v = kernels.Allocate(p.Length);
            kernels.Fill(v.Span, 0f);
            _state.Add((p, v, p.Rank > 1));
        }
    }

    public float Momentum { get; }

    public float WeightDecay { get; }

    public float Eta { get; }

    public bool Nesterov { get; }

    /// <summary>The momentum buffers by parameter name, for checkpoints.</summary>
    public IEnumerable<(string Name, Tensor Param, DeviceBuffer Momentum)> State =>
        _state.Select(s => (s.Param.Name ?? throw new InvalidOperationException($"parameter {s.Param.Describe()} has no name"), s.Param, s.Momentum));

    public void Step(float lr)
    {
        foreach (var (p, v, adapt) in _state)
        {
            var step = new LarsStep(lr, Momentum, adapt ? WeightDecay : 0f, Eta, Nesterov, Lars: adapt, Clip: true);
            _k.LarsSgdUpdate(p.Data, p.Grad, v.Span, step);
        }
    }

    public void Dispose()
    {
        foreach (var (_, v, _) in _state)
        {
            v.Dispose();
        }
        _state.Clear();
    }
}

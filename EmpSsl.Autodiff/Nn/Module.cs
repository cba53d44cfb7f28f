using EmpSsl.Kernels;

namespace EmpSsl.Autodiff.Nn;

/// <summary>A 64-bit counter in a state dict (BatchNorm's num_batches_tracked, stored as I64 like PyTorch).</summary>
public sealed class Counter
{
    public long Value { get; set; }
}

/// <summary>One state-dict entry: a float tensor (parameter or buffer) or an integer counter.</summary>
public sealed record StateEntry(string Key, Tensor? Tensor, Counter? Counter, bool IsParameter)
{
    public int[] Shape => Tensor?.Shape ?? [];
}

/// <summary>
/// A layer with named parameters, buffers and children, in the order PyTorch's state_dict lists them:
/// a module's own parameters, then its own buffers, then each child under "name.". A child registered
/// with an empty name is flattened into the parent's namespace (the backbone inside the encoder).
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Tensor? Tensor, Counter? Counter, bool IsParameter)> _own = new();
    private readonly List<(string Name, Module Child)> _children = new();

    public bool Training { get; private set; } = true;

    public abstract Tensor Forward(Tape tape, Tensor x);

    /// <summary>Training mode: BatchNorm uses batch statistics and updates its running ones.</summary>
    public void Train(bool training = true)
    {
        Training = training;
        foreach (var (_, child) in _children)
        {
            child.Train(training);
        }
    }

    /// <summary>Eval mode: BatchNorm uses its running statistics.</summary>
    public void Eval() => Train(false);

    public IEnumerable<StateEntry> StateDict(string prefix = "")
    {
        foreach (var (name, tensor, counter, isParameter) in _own)
        {
            yield return new StateEntry(prefix + name, tensor, counter, isParameter);
        }
        foreach (var (name, child) in _children)
        {
            foreach (var entry in child.StateDict(name.Length == 0 ? prefix : prefix + name + "."))
            {
                yield return entry;
            }
        }
    }

    /// <summary>The trainable tensors, in state-dict order, each named by its key.</summary>
    public IEnumerable<Tensor> Parameters() => StateDict().Where(e => e.IsParameter).Select(e => e.Tensor!);

    public void ZeroGrad(IKernels kernels)
    {
        foreach (var p in Parameters())
        {
            p.ZeroGrad(kernels);
        }
    }

    /// <summary>Sets every tensor's <see cref="Tensor.Name"/> to its full key; the root module calls this once.</summary>
    protected void NameTensors()
    {
        foreach (var entry in StateDict())
        {
            if (entry.Tensor is not null)
            {
                entry.Tensor.Name = entry.Key;
            }
        }
    }

    protected Tensor Parameter(string name, Tensor tensor)
    {
        tensor.RequiresGrad = true;
        tensor.Name = name;
        _own.Add((name, tensor, null, true));
        return tensor;
    }

    protected Tensor Buffer(string name, Tensor tensor)
    {
        tensor.RequiresGrad = false;
        tensor.Name = name;
        _own.Add((name, tensor, null, false));
        return tensor;
    }

    protected Counter CounterBuffer(string name)
    {
        var counter = new Counter();
        _own.Add((name, null, counter, false));
        return counter;
    }

    protected T Child<T>(string name, T child)
        where T : Module
    {
        _children.Add((name, child));
        return child;
    }
}

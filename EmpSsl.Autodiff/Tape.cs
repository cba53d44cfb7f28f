using EmpSsl.Kernels;

namespace EmpSsl.Autodiff;

/// <summary>
/// Reverse-mode autodiff in the micrograd style: every op (one per file in Ops/) computes its forward
/// with the kernels and records, right beside it, a closure that computes its backward. <see cref="Backward"/>
/// runs the closures in reverse order.
///
/// Gradient rule: a tensor's gradient is the sum over its uses. The first contribution is written (=),
/// later ones are written to a pooled temporary and added, so the kernels' write semantics for dx hold.
/// Parameter gradients accumulate (+=) across steps until the optimizer zeroes them.
///
/// Memory: every activation, saved statistic and activation gradient is rented from <see cref="Pool"/>.
/// A node's output (and what it saved) is returned as soon as its own backward has run, because every
/// consumer of it was recorded later and so has already run. A steady-state training step therefore
/// asks the pool for the same lengths in the same order and allocates nothing new.
/// </summary>
public sealed partial class Tape : IDisposable
{
    private readonly List<Node> _nodes = new();
    private readonly List<Tensor> _produced = new();
    private int _noGradDepth;

    public Tape(IKernels kernels)
    {
        K = kernels;
        Pool = new BufferPool(kernels);
    }

    public IKernels K { get; }

    public BufferPool Pool { get; }

    /// <summary>False inside <see cref="NoGrad"/>: ops then record nothing and outputs need no gradient.</summary>
    public bool Recording => _noGradDepth == 0;

    /// <summary>Nodes recorded and not yet run by backward.</summary>
    public int NodeCount => _nodes.Count;

    /// <summary>A scope in which ops record no backward (evaluation, feature extraction).</summary>
    public IDisposable NoGrad()
    {
        _noGradDepth++;
        return new NoGradScope(this);
    }

    /// <summary>Keeps a tensor's values through <see cref="Backward"/> (the loss and the terms one logs).</summary>
    public Tensor Retain(Tensor t)
    {
        t.Retained = true;
        return t;
    }

    /// <summary>
    /// Runs every recorded closure in reverse from <paramref name="root"/> (a one-element tensor, seeded with 1),
    /// accumulating into parameter gradients, and frees every intermediate except retained ones
    /// (<see cref="Reset"/> frees those; call it once per step after reading them).
    /// </summary>
    public void Backward(Tensor root)
    {
        if (root.Length != 1)
        {
            throw new ShapeMismatchException($"Backward: the root must be a scalar, got {root.Describe()}");
        }
        if (!root.RequiresGrad)
        {
            throw new InvalidOperationException($"Backward: {root.Describe()} does not depend on anything that requires a gradient");
        }
        root.Retained = true;
        var seed = GradToWrite(root, out var temp);
        K.Fill(seed, 1f);
        CommitGrad(root, temp);
        for (int i = _nodes.Count - 1; i >= 0; i--)
        {
            var node = _nodes[i];
            if (node.Output.HasGrad)
            {
                node.Backward();
            }
            node.Output.ReleaseGrad(Pool);
            if (!node.Output.Retained)
            {
                node.Output.Release(Pool);
            }
            if (node.Saved is not null)
            {
                foreach (var s in node.Saved)
                {
                    s.Release(Pool);
                }
            }
        }
        _nodes.Clear();
        // Tensors that needed no gradient (constants, views of inputs) were never nodes; free them too.
        _produced.RemoveAll(t =>
        {
            if (t.Retained)
            {
                return false;
            }
            t.Release(Pool);
            return true;
        });
    }

    /// <summary>Returns every pooled buffer still held (after an eval forward, or to drop a graph unused).</summary>
    public void Reset()
    {
        foreach (var t in _produced)
        {
            t.Release(Pool);
        }
        _produced.Clear();
        _nodes.Clear();
    }

    public void Dispose()
    {
        Reset();
        Pool.Dispose();
    }

    // ---- helpers for ops -----------------------------------------------------------------

    /// <summary>A pooled output whose gradient is needed when any input needs one and the tape is recording.</summary>
    internal Tensor NewTensor(int[] shape, params Tensor[] inputs)
    {
        bool grad = false;
        if (Recording)
        {
            foreach (var x in inputs)
            {
                grad |= x.RequiresGrad;
            }
        }
        var buffer = Pool.Rent(Tensor.ShapeLength(shape));
        var t = new Tensor(shape, buffer.Span, buffer, pooled: true, grad);
        _produced.Add(t);
        return t;
    }

    /// <summary>A tensor that shares <paramref name="data"/> (a window of a base tensor) and owns nothing.</summary>
    internal Tensor NewView(int[] shape, DeviceSpan data, Tensor source)
    {
        var t = new Tensor(shape, data, owned: null, pooled: true, Recording && source.RequiresGrad);
        _produced.Add(t);
        return t;
    }

    /// <summary>Pooled memory an op saves for its backward (statistics, factors); freed after that backward.</summary>
    internal Tensor Scratch(int length)
    {
        var buffer = Pool.Rent(length);
        var t = new Tensor([length], buffer.Span, buffer, pooled: true, requiresGrad: false);
        _produced.Add(t);
        return t;
    }

    /// <summary>Records a backward closure for <paramref name="output"/> when it needs a gradient.</summary>
    internal void Record(Tensor output, Action backward, params Tensor[] saved)
    {
        if (output.RequiresGrad)
        {
            _nodes.Add(new Node(output, backward, saved.Length == 0 ? null : saved));
        }
    }

    /// <summary>
    /// Where a write-semantics (=) kernel should put x's gradient: x's own gradient on first contribution,
    /// else a pooled temporary that <see cref="CommitGrad"/> adds in and returns.
    /// </summary>
    internal DeviceSpan GradToWrite(Tensor x, out DeviceBuffer? temp)
    {
        if (x.GradBuffer is null)
        {
            x.GradBuffer = x.Pooled ? Pool.Rent(x.Length) : K.Allocate(x.Length);
            temp = null;
            return x.Grad;
        }
        temp = Pool.Rent(x.Length);
        return temp.Span;
    }

    internal void CommitGrad(Tensor x, DeviceBuffer? temp)
    {
        if (temp is not null)
        {
            K.Add(x.Grad, x.Grad, temp.Span);
            Pool.Return(temp);
        }
    }

    /// <summary>x's gradient for an accumulate-semantics (+=) kernel, zero-filled on first use.</summary>
    internal DeviceSpan GradToAccumulate(Tensor x)
    {
        if (x.GradBuffer is null)
        {
            x.GradBuffer = x.Pooled ? Pool.Rent(x.Length) : K.Allocate(x.Length);
            K.Fill(x.Grad, 0f);
        }
        return x.Grad;
    }

    /// <summary>Adds <paramref name="dx"/> into x's gradient (copying on first contribution).</summary>
    internal void AccumulateGrad(Tensor x, DeviceSpan dx)
    {
        if (x.GradBuffer is null)
        {
            x.GradBuffer = x.Pooled ? Pool.Rent(x.Length) : K.Allocate(x.Length);
            K.Copy(x.Grad, dx);
        }
        else
        {
            K.Add(x.Grad, x.Grad, dx);
        }
    }

    /// <summary>
    /// Adds y's gradient into x's as <see cref="AccumulateGrad"/> does, but where x has none yet and both come from
    /// the pool, x takes y's buffer instead of a copy of it. Only for y's last reader: y's gradient is gone after.
    /// </summary>
    internal void PassGrad(Tensor x, Tensor y)
    {
        if (x.GradBuffer is null && x.Pooled && y.Pooled && y.GradBuffer is not null && x.Length == y.Length)
        {
            x.GradBuffer = y.GradBuffer;
            y.GradBuffer = null;
            return;
        }
        AccumulateGrad(x, y.Grad);
    }

    /// <summary>A pooled buffer of <paramref name="length"/> copies of <paramref name="value"/>, for broadcasts.</summary>
    internal Tensor Constant(int length, float value)
    {
        var t = Scratch(length);
        K.Fill(t.Data, value);
        return t;
    }

    internal static void Require(bool condition, string op, string message)
    {
        if (!condition)
        {
            throw new ShapeMismatchException($"{op}: {message}");
        }
    }

    internal static string Show(int[] shape) => $"[{string.Join(", ", shape)}]";

    private sealed record Node(Tensor Output, Action Backward, Tensor[]? Saved);

    private sealed class NoGradScope(Tape tape) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (!_done)
            {
                tape._noGradDepth--;
                _done = true;
            }
        }
    }
}

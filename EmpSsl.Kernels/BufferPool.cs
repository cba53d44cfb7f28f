namespace EmpSsl.Kernels;

/// <summary>
/// Reuses device buffers by exact length, so a training step in steady state allocates nothing:
/// every step asks for the same sizes in the same order. Not thread-safe; one pool per training loop.
/// </summary>
public sealed class BufferPool(IKernels kernels) : IDisposable
{
    private readonly Dictionary<int, Stack<DeviceBuffer>> _free = new();
    private readonly List<DeviceBuffer> _all = new();

    public IKernels Kernels { get; } = kernels;

    /// <summary>Buffers created so far; flat in steady state.</summary>
    public int Allocations => _all.Count;

    /// <summary>Floats held by the pool, rented or free.</summary>
    public long Floats { get; private set; }

    public DeviceBuffer Rent(int length)
    {
        if (_free.TryGetValue(length, out var stack) && stack.Count > 0)
        {
            return stack.Pop();
        }
        var buffer = Kernels.Allocate(length);
        _all.Add(buffer);
        Floats += length;
        return buffer;
    }

    public void Return(DeviceBuffer buffer)
    {
        if (!_free.TryGetValue(buffer.Length, out var stack))
        {
            stack = new Stack<DeviceBuffer>();
            _free[buffer.Length] = stack;
        }
        stack.Push(buffer);
    }

    public void Dispose()
    {
        foreach (var b in _all)
        {
            b.Dispose();
        }
        _all.Clear();
        _free.Clear();
        Floats = 0;
    }
}

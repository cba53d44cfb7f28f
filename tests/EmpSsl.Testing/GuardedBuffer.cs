using EmpSsl.Kernels;

namespace EmpSsl.Testing;

/// <summary>
/// A device buffer of length + 2 * guard floats whose guard bands hold a sentinel, handed out as the inner
/// window. Outputs start poisoned with NaN so that an element a kernel forgets to write fails the comparison;
/// <see cref="CheckGuards"/> catches writes past either end. The inner window starts at a non-zero offset,
/// which also tests that kernels honour DeviceSpan.Offset.
/// </summary>
public sealed class GuardedBuffer : IDisposable
{
    /// <summary>A finite value no kernel produces from test inputs, compared bit for bit.</summary>
    public const float Sentinel = -1.2345678e37f;

    /// <summary>Wider than a Vector512 of floats and a 32-wide tile, so a tail overrun lands in the band.</summary>
    public const int DefaultGuard = 64;

    private readonly IKernels _kernels;
    private readonly DeviceBuffer _buffer;
    private readonly int _guard;

    private GuardedBuffer(IKernels kernels, int length, int guard, ReadOnlySpan<float> inside)
    {
        _kernels = kernels;
        _guard = guard;
        _buffer = kernels.Allocate(length + 2 * guard);
        var host = new float[length + 2 * guard];
        Array.Fill(host, Sentinel);
        inside.CopyTo(host.AsSpan(guard, length));
        kernels.Upload(_buffer.Span, host);
        Span = _buffer.Slice(guard, length);
    }

    /// <summary>The inner window the kernel gets.</summary>
    public DeviceSpan Span { get; }

    public int Length => Span.Length;

    /// <summary>An output: the inside is NaN.</summary>
    public static GuardedBuffer Poisoned(IKernels kernels, int length, int guard = DefaultGuard)
    {
        var nan = new float[length];
        Array.Fill(nan, float.NaN);
        return new GuardedBuffer(kernels, length, guard, nan);
    }

    /// <summary>An input (or an in/out operand): the inside holds data.</summary>
    public static GuardedBuffer Upload(IKernels kernels, ReadOnlySpan<float> data, int guard = DefaultGuard) =>
        new(kernels, data.Length, guard, data);

    public float[] Download()
    {
        var host = new float[Length];
        _kernels.Download(Span, host);
        return host;
    }

    /// <summary>Fails naming the op and the first changed guard element if anything was written outside the window.</summary>
    public void CheckGuards(string op)
    {
        var host = new float[_buffer.Length];
        _kernels.Download(_buffer.Span, host);
        int sentinelBits = BitConverter.SingleToInt32Bits(Sentinel);
        for (int i = 0; i < _buffer.Length; i++)
        {
            bool inGuard = i < _guard || i >= _guard + Length;
            if (inGuard && BitConverter.SingleToInt32Bits(host[i]) != sentinelBits)
            {
                string where = i < _guard ? $"{_guard - i} before the start" : $"{i - _guard - Length + 1} past the end";
                throw new Xunit.Sdk.XunitException(
                    $"{op}: wrote outside its {Length}-float window, {where} (guard value is now {host[i]:G9})");
            }
        }
    }

    public void Dispose() => _buffer.Dispose();
}

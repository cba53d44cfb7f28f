namespace EmpSsl.Kernels;

/// <summary>
/// A block of float32 memory owned by one backend. Backends cast it back to their own type;
/// passing a buffer to another backend's kernels is an error that names both backends.
/// </summary>
public abstract class DeviceBuffer : IDisposable
{
    protected DeviceBuffer(string backend, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Backend = backend;
        Length = length;
    }

    /// <summary>The name of the backend that owns this memory ("cpu", "cuda", ...).</summary>
    public string Backend { get; }

    public int Length { get; }

    public DeviceSpan Span => new(this, 0, Length);

    public DeviceSpan Slice(int offset, int length) => Span.Slice(offset, length);

    public abstract void Dispose();
}

/// <summary>
/// A contiguous window of a <see cref="DeviceBuffer"/>: what every kernel takes. Slicing along the
/// batch axis (views, chunks, guard bands in tests) is a new window, never a copy.
/// </summary>
public readonly struct DeviceSpan
{
    public DeviceSpan(DeviceBuffer buffer, int offset, int length)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (offset < 0 || length < 0 || (long)offset + length > buffer.Length)
        {
            throw new ArgumentOutOfRangeException(
                nameof(offset), $"window [{offset}, {(long)offset + length}) does not fit a buffer of {buffer.Length} floats");
        }
        Buffer = buffer;
        Offset = offset;
        Length = length;
    }

    public DeviceBuffer Buffer { get; }

    public int Offset { get; }

    public int Length { get; }

    public DeviceSpan Slice(int offset, int length)
    {
        if (offset < 0 || length < 0 || (long)offset + length > Length)
        {
            throw new ArgumentOutOfRangeException(
                nameof(offset), $"slice [{offset}, {(long)offset + length}) does not fit a span of {Length} floats");
        }
        return new DeviceSpan(Buffer, Offset + offset, length);
    }

    public DeviceSpan Slice(int offset) => Slice(offset, Length - offset);

    public override string ToString() => $"{Buffer.Backend}[{Offset}..{Offset + Length})";
}

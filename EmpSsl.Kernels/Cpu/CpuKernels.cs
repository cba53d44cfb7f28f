namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// The SIMD CPU backend: System.Runtime.Intrinsics (Vector512 where the CPU has it, else Vector256),
/// work split over all cores. Calls run synchronously. The op families live in the files beside this one.
/// </summary>
public sealed partial class CpuKernels : IKernels
{
    public const string BackendName = "cpu";

    public string Name => BackendName;

    public DeviceBuffer Allocate(int length) => new CpuBuffer(length);

    public void Upload(DeviceSpan dst, ReadOnlySpan<float> src)
    {
        Checks.Need("Upload", "dst", dst, src.Length, $"{src.Length}", "the host span");
        src.CopyTo(S(dst));
    }

    public void Download(DeviceSpan src, Span<float> dst)
    {
        Checks.Need("Download", "src", src, dst.Length, $"{dst.Length}", "the host span");
        S(src).CopyTo(dst);
    }

    public void Synchronize()
    {
    }

    public void Dispose()
    {
    }

    /// <summary>The host memory behind a span, after checking that this backend owns it.</summary>
    internal static Span<float> S(DeviceSpan span)
    {
        if (span.Buffer is not CpuBuffer cpu)
        {
            throw new ArgumentException($"the cpu backend was given a buffer of the '{span.Buffer.Backend}' backend ({span})");
        }
        return cpu.Data.AsSpan(span.Offset, span.Length);
    }

    /// <summary>The array behind a span and the span's offset into it, for kernels that index or pin.</summary>
    internal static (float[] Array, int Offset) A(DeviceSpan span)
    {
        if (span.Buffer is not CpuBuffer cpu)
        {
            throw new ArgumentException($"the cpu backend was given a buffer of the '{span.Buffer.Backend}' backend ({span})");
        }
        return (cpu.Data, span.Offset);
    }
}

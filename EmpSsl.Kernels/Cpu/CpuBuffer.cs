namespace EmpSsl.Kernels.Cpu;

/// <summary>Host memory for the SIMD backend: a pinned array, so kernels may take raw pointers into it.</summary>
public sealed class CpuBuffer : DeviceBuffer
{
    public CpuBuffer(int length)
        : base(CpuKernels.BackendName, length)
    {
        Data = GC.AllocateUninitializedArray<float>(length, pinned: true);
    }

    public float[] Data { get; }

    public override void Dispose()
    {
        // Pinned arrays live on the pinned object heap; the GC frees them.
    }
}

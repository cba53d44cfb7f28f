using ILGPU;
using ILGPU.Runtime;

namespace EmpSsl.Kernels.Ilgpu;

/// <summary>Accelerator memory for the ILGPU backends (CUDA, OpenCL, ILGPU's CPU accelerator).</summary>
public sealed class IlgpuBuffer : DeviceBuffer
{
    internal IlgpuBuffer(string backend, Accelerator accelerator, int length)
        : base(backend, length)
    {
        Memory = accelerator.Allocate1D<float>(Math.Max(length, 1));
    }

    internal MemoryBuffer1D<float, Stride1D.Dense> Memory { get; }

    public override void Dispose() => Memory.Dispose();
}

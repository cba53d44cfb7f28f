namespace EmpSsl.Kernels.Ilgpu;

// STUB: replaced by the Ilgpu backend's Gemm family.
public sealed partial class IlgpuKernels
{
    public void Gemm(DeviceSpan c, DeviceSpan a, DeviceSpan b, in GemmShape s)
        => throw new NotImplementedException("Ilgpu.Gemm");
}

namespace EmpSsl.Kernels.Cpu;

// STUB: replaced by the Cpu backend's Gemm family.
public sealed partial class CpuKernels
{
    public void Gemm(DeviceSpan c, DeviceSpan a, DeviceSpan b, in GemmShape s)
        => throw new NotImplementedException("Cpu.Gemm");
}

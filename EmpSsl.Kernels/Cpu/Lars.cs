namespace EmpSsl.Kernels.Cpu;

// STUB: replaced by the Cpu backend's Lars family.
public sealed partial class CpuKernels
{
    public void LarsSgdUpdate(DeviceSpan w, DeviceSpan g, DeviceSpan v, in LarsStep p)
        => throw new NotImplementedException("Cpu.LarsSgdUpdate");
}

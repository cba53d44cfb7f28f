namespace EmpSsl.Kernels.Cpu;

// STUB: replaced by the Cpu backend's Conv2d family.
public sealed partial class CpuKernels
{
    public void Conv2dForward(DeviceSpan y, DeviceSpan x, DeviceSpan w, in Conv2dShape s)
        => throw new NotImplementedException("Cpu.Conv2dForward");

    public void Conv2dBackwardData(DeviceSpan dx, DeviceSpan dy, DeviceSpan w, in Conv2dShape s)
        => throw new NotImplementedException("Cpu.Conv2dBackwardData");

    public void Conv2dBackwardWeight(DeviceSpan dw, DeviceSpan dy, DeviceSpan x, in Conv2dShape s)
        => throw new NotImplementedException("Cpu.Conv2dBackwardWeight");
}

namespace EmpSsl.Kernels.Cpu;

// STUB: replaced by the Cpu backend's Pooling family.
public sealed partial class CpuKernels
{
    public void MaxPool2dForward(DeviceSpan y, DeviceSpan x, in PoolShape s)
        => throw new NotImplementedException("Cpu.MaxPool2dForward");

    public void MaxPool2dBackward(DeviceSpan dx, DeviceSpan dy, DeviceSpan x, DeviceSpan y, in PoolShape s)
        => throw new NotImplementedException("Cpu.MaxPool2dBackward");

    public void GlobalAvgPoolForward(DeviceSpan y, DeviceSpan x, int planes, int hw)
        => throw new NotImplementedException("Cpu.GlobalAvgPoolForward");

    public void GlobalAvgPoolBackward(DeviceSpan dx, DeviceSpan dy, int planes, int hw)
        => throw new NotImplementedException("Cpu.GlobalAvgPoolBackward");
}

namespace EmpSsl.Kernels.Ilgpu;

// STUB: replaced by the Ilgpu backend's Pooling family.
public sealed partial class IlgpuKernels
{
    public void MaxPool2dForward(DeviceSpan y, DeviceSpan x, in PoolShape s)
        => throw new NotImplementedException("Ilgpu.MaxPool2dForward");

    public void MaxPool2dBackward(DeviceSpan dx, DeviceSpan dy, DeviceSpan x, DeviceSpan y, in PoolShape s)
        => throw new NotImplementedException("Ilgpu.MaxPool2dBackward");

    public void GlobalAvgPoolForward(DeviceSpan y, DeviceSpan x, int planes, int hw)
        => throw new NotImplementedException("Ilgpu.GlobalAvgPoolForward");

    public void GlobalAvgPoolBackward(DeviceSpan dx, DeviceSpan dy, int planes, int hw)
        => throw new NotImplementedException("Ilgpu.GlobalAvgPoolBackward");
}

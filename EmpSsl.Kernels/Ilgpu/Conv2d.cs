namespace EmpSsl.Kernels.Ilgpu;

// STUB: replaced by the Ilgpu backend's Conv2d family.
public sealed partial class IlgpuKernels
{
    public void Conv2dForward(DeviceSpan y, DeviceSpan x, DeviceSpan w, in Conv2dShape s)
        => throw new NotImplementedException("Ilgpu.Conv2dForward");

    public void Conv2dBackwardData(DeviceSpan dx, DeviceSpan dy, DeviceSpan w, in Conv2dShape s)
        => throw new NotImplementedException("Ilgpu.Conv2dBackwardData");

    public void Conv2dBackwardWeight(DeviceSpan dw, DeviceSpan dy, DeviceSpan x, in Conv2dShape s)
        => throw new NotImplementedException("Ilgpu.Conv2dBackwardWeight");
}

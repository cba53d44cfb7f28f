namespace EmpSsl.Kernels.Ilgpu;

// STUB: replaced by the Ilgpu backend's Lars family.
public sealed partial class IlgpuKernels
{
    public void LarsSgdUpdate(DeviceSpan w, DeviceSpan g, DeviceSpan v, in LarsStep p)
        => throw new NotImplementedException("Ilgpu.LarsSgdUpdate");
}

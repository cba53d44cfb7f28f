namespace EmpSsl.Kernels.Ilgpu;

// STUB: replaced by the Ilgpu backend's Resize family.
public sealed partial class IlgpuKernels
{
    public void BilinearResize(DeviceSpan y, DeviceSpan x, int planes, int h, int w, int oh, int ow)
        => throw new NotImplementedException("Ilgpu.BilinearResize");
}

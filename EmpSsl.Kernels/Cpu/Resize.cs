namespace EmpSsl.Kernels.Cpu;

// STUB: replaced by the Cpu backend's Resize family.
public sealed partial class CpuKernels
{
    public void BilinearResize(DeviceSpan y, DeviceSpan x, int planes, int h, int w, int oh, int ow)
        => throw new NotImplementedException("Cpu.BilinearResize");
}

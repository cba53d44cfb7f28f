namespace EmpSsl.Kernels.Cpu;

// STUB: replaced by the Cpu backend's Elementwise family.
public sealed partial class CpuKernels
{
    public void Fill(DeviceSpan y, float value)
        => throw new NotImplementedException("Cpu.Fill");

    public void Copy(DeviceSpan y, DeviceSpan x)
        => throw new NotImplementedException("Cpu.Copy");

    public void Add(DeviceSpan y, DeviceSpan a, DeviceSpan b)
        => throw new NotImplementedException("Cpu.Add");

    public void Axpy(DeviceSpan y, DeviceSpan x, float alpha)
        => throw new NotImplementedException("Cpu.Axpy");

    public void Scale(DeviceSpan y, DeviceSpan x, float alpha)
        => throw new NotImplementedException("Cpu.Scale");

    public void Relu(DeviceSpan y, DeviceSpan x)
        => throw new NotImplementedException("Cpu.Relu");

    public void ReluBackward(DeviceSpan dx, DeviceSpan dy, DeviceSpan y)
        => throw new NotImplementedException("Cpu.ReluBackward");
}

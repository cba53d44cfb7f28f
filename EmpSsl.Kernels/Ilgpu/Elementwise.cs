namespace EmpSsl.Kernels.Ilgpu;

// STUB: replaced by the Ilgpu backend's Elementwise family.
public sealed partial class IlgpuKernels
{
    public void Fill(DeviceSpan y, float value)
        => throw new NotImplementedException("Ilgpu.Fill");

    public void Copy(DeviceSpan y, DeviceSpan x)
        => throw new NotImplementedException("Ilgpu.Copy");

    public void Add(DeviceSpan y, DeviceSpan a, DeviceSpan b)
        => throw new NotImplementedException("Ilgpu.Add");

    public void Axpy(DeviceSpan y, DeviceSpan x, float alpha)
        => throw new NotImplementedException("Ilgpu.Axpy");

    public void Scale(DeviceSpan y, DeviceSpan x, float alpha)
        => throw new NotImplementedException("Ilgpu.Scale");

    public void Relu(DeviceSpan y, DeviceSpan x)
        => throw new NotImplementedException("Ilgpu.Relu");

    public void ReluBackward(DeviceSpan dx, DeviceSpan dy, DeviceSpan y)
        => throw new NotImplementedException("Ilgpu.ReluBackward");
}

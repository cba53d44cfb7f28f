namespace EmpSsl.Kernels.Ilgpu;

// STUB: replaced by the Ilgpu backend's Rows family.
public sealed partial class IlgpuKernels
{
    public void AddBias(DeviceSpan y, DeviceSpan bias, int rows, int cols)
        => throw new NotImplementedException("Ilgpu.AddBias");

    public void ColumnSum(DeviceSpan dbias, DeviceSpan dy, int rows, int cols)
        => throw new NotImplementedException("Ilgpu.ColumnSum");

    public void RowDot(DeviceSpan y, DeviceSpan a, DeviceSpan b, int rows, int cols)
        => throw new NotImplementedException("Ilgpu.RowDot");

    public void RowScale(DeviceSpan y, DeviceSpan x, DeviceSpan s, int rows, int cols)
        => throw new NotImplementedException("Ilgpu.RowScale");

    public void Sum(DeviceSpan y, DeviceSpan x)
        => throw new NotImplementedException("Ilgpu.Sum");

    public void L2NormalizeRows(DeviceSpan y, DeviceSpan norms, DeviceSpan x, int rows, int cols, float eps)
        => throw new NotImplementedException("Ilgpu.L2NormalizeRows");

    public void L2NormalizeRowsBackward(DeviceSpan dx, DeviceSpan dy, DeviceSpan y, DeviceSpan norms, int rows, int cols, float eps)
        => throw new NotImplementedException("Ilgpu.L2NormalizeRowsBackward");
}

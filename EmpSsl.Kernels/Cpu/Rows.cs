namespace EmpSsl.Kernels.Cpu;

// STUB: replaced by the Cpu backend's Rows family.
public sealed partial class CpuKernels
{
    public void AddBias(DeviceSpan y, DeviceSpan bias, int rows, int cols)
        => throw new NotImplementedException("Cpu.AddBias");

    public void ColumnSum(DeviceSpan dbias, DeviceSpan dy, int rows, int cols)
        => throw new NotImplementedException("Cpu.ColumnSum");

    public void RowDot(DeviceSpan y, DeviceSpan a, DeviceSpan b, int rows, int cols)
        => throw new NotImplementedException("Cpu.RowDot");

    public void RowScale(DeviceSpan y, DeviceSpan x, DeviceSpan s, int rows, int cols)
        => throw new NotImplementedException("Cpu.RowScale");

    public void Sum(DeviceSpan y, DeviceSpan x)
        => throw new NotImplementedException("Cpu.Sum");

    public void L2NormalizeRows(DeviceSpan y, DeviceSpan norms, DeviceSpan x, int rows, int cols, float eps)
        => throw new NotImplementedException("Cpu.L2NormalizeRows");

    public void L2NormalizeRowsBackward(DeviceSpan dx, DeviceSpan dy, DeviceSpan y, DeviceSpan norms, int rows, int cols, float eps)
        => throw new NotImplementedException("Cpu.L2NormalizeRowsBackward");
}

namespace EmpSsl.Kernels.Cpu;

// STUB: replaced by the Cpu backend's Cholesky family.
public sealed partial class CpuKernels
{
    public void AddDiagonal(DeviceSpan a, float value, int n, int batch)
        => throw new NotImplementedException("Cpu.AddDiagonal");

    public void Cholesky(DeviceSpan l, DeviceSpan logdet, DeviceSpan a, int n, int batch)
        => throw new NotImplementedException("Cpu.Cholesky");

    public void CholeskySolve(DeviceSpan x, DeviceSpan l, DeviceSpan b, int n, int nrhs, int batch)
        => throw new NotImplementedException("Cpu.CholeskySolve");
}

namespace EmpSsl.Kernels.Ilgpu;

// STUB: replaced by the Ilgpu backend's Cholesky family.
public sealed partial class IlgpuKernels
{
    public void AddDiagonal(DeviceSpan a, float value, int n, int batch)
        => throw new NotImplementedException("Ilgpu.AddDiagonal");

    public void Cholesky(DeviceSpan l, DeviceSpan logdet, DeviceSpan a, int n, int batch)
        => throw new NotImplementedException("Ilgpu.Cholesky");

    public void CholeskySolve(DeviceSpan x, DeviceSpan l, DeviceSpan b, int n, int nrhs, int batch)
        => throw new NotImplementedException("Ilgpu.CholeskySolve");
}

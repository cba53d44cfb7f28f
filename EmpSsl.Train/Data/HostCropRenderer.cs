using EmpSsl.Kernels;
using EmpSsl.Kernels.Cpu;

namespace EmpSsl.Train.Data;

/// <summary>
/// The SIMD CPU renderer behind <see cref="ICropRenderer"/>. A CPU backend's buffer is host memory, so crops are
/// rendered into it in place; any other backend gets them through one reused host array and an Upload.
/// </summary>
public sealed class HostCropRenderer : ICropRenderer
{
    private readonly IKernels _k;
    private readonly Dataset _dataset;
    private readonly AugmentSpec _spec;
    private float[] _staging = [];

    public HostCropRenderer(IKernels k, Dataset dataset, AugmentSpec spec)
    {
        _k = k;
        _dataset = dataset;
        _spec = spec;
    }

    public void Render(int[] batchIndices, CropParams[] crops, DeviceSpan output)
    {
        if (output.Buffer is CpuBuffer cpu)
        {
            CropRenderer.RenderPatchMajorCpu(_dataset, batchIndices, crops, _spec, cpu.Data.AsMemory(output.Offset, output.Length));
            return;
        }
        if (_staging.Length < output.Length)
        {
            _staging = new float[output.Length];
        }
        var host = _staging.AsMemory(0, output.Length);
        CropRenderer.RenderPatchMajorCpu(_dataset, batchIndices, crops, _spec, host);
        _k.Upload(output, host.Span);
    }

    public void Dispose()
    {
        // Holds only managed arrays.
    }
}

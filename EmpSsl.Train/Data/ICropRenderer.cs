using EmpSsl.Kernels;
using EmpSsl.Kernels.Ilgpu;

namespace EmpSsl.Train.Data;

/// <summary>
/// Renders sampled crops of one dataset straight into a backend's memory, so a training step never stages the
/// batch on the host when the backend has kernels of its own. Every implementation matches
/// <see cref="CropRenderer.RenderOne"/>: the host renderer exactly, a device renderer within float32 rounding.
/// </summary>
public interface ICropRenderer : IDisposable
{
    /// <summary>
    /// Renders crops patch-major: output row r = i*b + j holds crops[r] of the dataset image
    /// batchIndices[crops[r].Image], as <see cref="CropRenderer.RenderPatchMajorCpu(Dataset, int[], CropParams[], AugmentSpec, Memory{float})"/>.
    /// </summary>
    /// <param name="output">(n*b, C, S, S) with S = the spec's OutputSize, memory of the renderer's backend; every element is written.</param>
    void Render(int[] batchIndices, CropParams[] crops, DeviceSpan output);
}

/// <summary>Picks the renderer that keeps a backend's batch where its kernels run.</summary>
public static class CropRenderers
{
    /// <summary>The ILGPU renderer for an ILGPU backend (its own kernels on the accelerator); the host renderer otherwise.</summary>
    public static ICropRenderer For(IKernels k, Dataset dataset, AugmentSpec spec) => k switch
    {
        IlgpuKernels ilgpu => new IlgpuCropRenderer(ilgpu, dataset, spec),
        // The profiler times kernels; rendering belongs to the backend it wraps.
        ProfilingKernels p => For(p.Inner, dataset, spec),
        _ => new HostCropRenderer(k, dataset, spec),
    };
}

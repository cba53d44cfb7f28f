using System.Runtime.CompilerServices;
using EmpSsl.Kernels;
using EmpSsl.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Runtime;

namespace EmpSsl.Train.Data;

/// <summary>
/// Renders crops on an ILGPU accelerator: the dataset's bytes are uploaded once, each call uploads only the crop
/// parameters (48 bytes a crop) and launches <see cref="IlgpuCropKernels.RenderKernel"/>, one group per crop,
/// writing straight into the backend's buffer. Matches <see cref="CropRenderer"/> within float32 rounding.
/// </summary>
public sealed class IlgpuCropRenderer : ICropRenderer
{
    /// <summary>Compiled once per accelerator: a renderer per evaluation pass must not recompile.</summary>
    private static readonly ConditionalWeakTable<Accelerator,
        Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<byte>, ArrayView<IlgpuCrop>, IlgpuCropShape>> Loaded = new();

    private readonly IlgpuKernels _k;
    private readonly Dataset _dataset;
    private readonly AugmentSpec _spec;
    private readonly MemoryBuffer1D<byte, Stride1D.Dense> _pixels;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<byte>, ArrayView<IlgpuCrop>, IlgpuCropShape> _render;
    private readonly int _groupSize;
    private IlgpuCrop[] _hostCrops = [];
    private MemoryBuffer1D<IlgpuCrop, Stride1D.Dense>? _crops;
    private MemoryBuffer1D<float, Stride1D.Dense>? _scratch;

    public IlgpuCropRenderer(IlgpuKernels k, Dataset dataset, AugmentSpec spec)
    {
        if (dataset.Channels != 1 && dataset.Channels != 3)
        {
            throw new ArgumentException($"crops need 1 or 3 channels, got {dataset.Channels}");
        }
        if (spec.BlurKernel > IlgpuCropKernels.MaxBlurTaps)
        {
            throw new NotSupportedException(
                $"{k.Name}: a blur kernel of {spec.BlurKernel} taps is longer than the {IlgpuCropKernels.MaxBlurTaps} the crop kernel holds");
        }
        _k = k;
        _dataset = dataset;
        _spec = spec;
        var accelerator = k.Accelerator;
        lock (Loaded)
        {
            _render = Loaded.GetValue(accelerator, a => a.LoadStreamKernel<
                ArrayView<float>, ArrayView<float>, ArrayView<byte>, ArrayView<IlgpuCrop>, IlgpuCropShape>(IlgpuCropKernels.RenderKernel));
        }
        _groupSize = IlgpuCropKernels.GroupSize(accelerator, spec.OutputSize);
        _pixels = accelerator.Allocate1D(dataset.Pixels);
    }

    public void Render(int[] batchIndices, CropParams[] crops, DeviceSpan output)
    {
        int channels = _dataset.Channels;
        int side = _spec.OutputSize;
        long crop = (long)channels * side * side;
        if (output.Length != crops.Length * crop)
        {
            throw new ArgumentException(
                $"output holds {output.Length} floats; {crops.Length} crops of {channels}x{side}x{side} need {crops.Length * crop}");
        }
        if (crops.Length == 0)
        {
            return;
        }
        var view = _k.V(output);
        if (_hostCrops.Length < crops.Length)
        {
            _hostCrops = new IlgpuCrop[crops.Length];
        }
        bool blur = false;
        for (int r = 0; r < crops.Length; r++)
        {
            CropParams p = crops[r];
            Check(p, batchIndices);
            _hostCrops[r] = IlgpuCrop.From(p, batchIndices[p.Image]);
            blur |= p.BlurSigma > 0;
        }
        if (blur && _spec.BlurKernel / 2 >= side)
        {
            throw new ArgumentException($"blur kernel {_spec.BlurKernel} is too wide for reflect padding of a {side}-pixel image");
        }
        var accelerator = _k.Accelerator;
        if (_crops is null || _crops.Length < crops.Length)
        {
            // Launches run in order on one stream, but the old buffer may still be read by one in flight.
            accelerator.Synchronize();
            _crops?.Dispose();
            _crops = accelerator.Allocate1D<IlgpuCrop>(crops.Length);
        }
        // Scratch only for the blur; one float when no crop of this call blurs, as the kernel then never reads it.
        long scratch = blur ? output.Length : 1;
        if (_scratch is null || _scratch.Length < scratch)
        {
            accelerator.Synchronize();
            _scratch?.Dispose();
            _scratch = accelerator.Allocate1D<float>(scratch);
        }
        var deviceCrops = _crops.View.AsContiguous().SubView(0, crops.Length);
        deviceCrops.CopyFromCPU(_hostCrops.AsSpan(0, crops.Length));
        var shape = new IlgpuCropShape(channels, _dataset.Height, _dataset.Width, side, _spec.BlurKernel, _spec.Mean, 1f / _spec.Std);
        _render(new KernelConfig(crops.Length, _groupSize), view, _scratch.View.AsContiguous(), _pixels.View.AsContiguous(), deviceCrops, shape);
    }

    /// <summary>The host renderer's checks, so a bad crop fails here rather than reading outside the image on the device.</summary>
    private void Check(in CropParams p, int[] batchIndices)
    {
        if ((uint)p.Image >= (uint)batchIndices.Length || (uint)batchIndices[p.Image] >= (uint)_dataset.Count)
        {
            throw new ArgumentException(
                $"crop of batch image {p.Image} is outside the batch of {batchIndices.Length} or the dataset of {_dataset.Count}");
        }
        if (p.Top < 0 || p.Left < 0 || p.Height < 1 || p.Width < 1 || p.Top + p.Height > _dataset.Height || p.Left + p.Width > _dataset.Width)
        {
            throw new ArgumentException(
                $"crop box {p.Height}x{p.Width} at ({p.Top}, {p.Left}) is outside the {_dataset.Height}x{_dataset.Width} image");
        }
    }

    public void Dispose()
    {
        // A launch may still be reading these buffers.
        _k.Accelerator.Synchronize();
        _pixels.Dispose();
        _crops?.Dispose();
        _scratch?.Dispose();
    }
}

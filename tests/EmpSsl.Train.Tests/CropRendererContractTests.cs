using EmpSsl.Kernels;
using EmpSsl.Kernels.Cpu;
using EmpSsl.Kernels.Ilgpu;
using EmpSsl.Testing;
using EmpSsl.Train.Data;

namespace EmpSsl.Train.Tests;

/// <summary>The factory's choice, and the host renderer writing into backend memory exactly as RenderPatchMajorCpu.</summary>
[Collection(Backends.IlgpuCpu)]
public sealed class CropRendererContractTests
{
    private static readonly AugmentSpec Spec = new() { OutputSize = 6, Scale = 0.5, JitterP = 1, BlurP = 0.5, SolarizeP = 0.5, GrayP = 0.5 };

    [Fact]
    public void TheFactoryPicksTheIlgpuRendererOnlyForAnIlgpuBackend()
    {
        Dataset data = IlgpuCropRendererTests.TinyDataset(3, seed: 1);

        using (var cpu = CropRenderers.For(Backends.Open(Backends.Cpu), data, Spec))
        {
            Assert.IsType<HostCropRenderer>(cpu);
        }
        using (var ilgpu = CropRenderers.For(Backends.Open(Backends.IlgpuCpu), data, Spec))
        {
            Assert.IsType<IlgpuCropRenderer>(ilgpu);
        }
    }

    [Theory]
    [InlineData(Backends.Cpu, 1)]
    [InlineData(Backends.Cpu, 3)]
    [InlineData(Backends.IlgpuCpu, 3)]
    public void TheHostRendererWritesExactlyWhatRenderPatchMajorCpuDoes(string backend, int channels)
    {
        IKernels k = Backends.Open(backend);
        Dataset data = IlgpuCropRendererTests.TinyDataset(channels, seed: 2);
        int[] batch = [1, 0];
        CropParams[] crops = CropSampler.Sample(Spec, 5, 1, 2, batch.Length, 2, channels, 8, 8);
        var want = new float[crops.Length * channels * 36];
        CropRenderer.RenderPatchMajorCpu(data, batch, crops, Spec, want);
        using var renderer = new HostCropRenderer(k, data, Spec);
        using var output = GuardedBuffer.Poisoned(k, want.Length);
        Assert.Equal(backend == Backends.Cpu, output.Span.Buffer is CpuBuffer);

        renderer.Render(batch, crops, output.Span);

        Compare.AssertClose($"HostCropRenderer on {backend}", Seeded.Widen(want), output.Download(), Tol.Exact);
        output.CheckGuards($"HostCropRenderer on {backend}");
    }

    [Theory]
    [InlineData(Backends.Cpu)]
    [InlineData(Backends.IlgpuCpu)]
    public void EveryRendererRejectsAnOutputOfTheWrongLength(string backend)
    {
        IKernels k = Backends.Open(backend);
        Dataset data = IlgpuCropRendererTests.TinyDataset(1, seed: 3);
        CropParams[] crops = CropSampler.Sample(Spec, 5, 0, 0, 1, 2, 1, 8, 8);
        using var renderer = CropRenderers.For(k, data, Spec);
        using var output = GuardedBuffer.Poisoned(k, crops.Length * 36 + 1);

        Assert.Throws<ArgumentException>(() => renderer.Render([0], crops, output.Span));
    }
}

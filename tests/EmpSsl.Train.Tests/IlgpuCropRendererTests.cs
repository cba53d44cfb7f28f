using EmpSsl.Kernels;
using EmpSsl.Kernels.Ilgpu;
using EmpSsl.Testing;
using EmpSsl.Train.Data;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace EmpSsl.Train.Tests;

/// <summary>
/// The ILGPU crop kernel against the host renderer (CropRenderer, itself checked against float64 formulas in
/// CropRendererTests and ColorOpsTests). ILGPU's CPU accelerator runs a thread per GPU thread and is slow on
/// barriers, so its cases are 8x8 images rendered to 6x6.
/// </summary>
[Collection(Backends.IlgpuCpu)]
public sealed class IlgpuCropRendererTests
{
    /// <summary>
    /// Device against host, both float32 from the same bytes. They differ in the contrast mean (a float tree sum
    /// against a double loop), in exp for the blur weights, and wherever a GPU compiler fuses a multiply-add: each
    /// about 1e-7 of values in [0, 1], carried through the later steps and doubled by normalizing. The worst seen on
    /// ILGPU's CPU accelerator was 1.2e-7; a GPU's approximate exp and fused multiply-adds add a few more roundings.
    /// 1e-5 leaves room for those yet is far below one grey level (2/255 ~ 8e-3 after normalizing), the size of a
    /// wrong tap, a dropped clamp or a swapped channel.
    /// </summary>
    private static readonly Tolerance DeviceVsHost = new(1e-5, 1e-5);

    public static TheoryData<int, double, double, double, double, double, double> Cases() => new()
    {
        // channels, scale, flip, jitter, gray, blur, solarize
        { 1, 0.3, 0, 0, 0, 0, 0 },
        { 1, 0.9, 1, 1, 0, 1, 1 },
        { 3, 0.3, 0, 1, 0, 0, 0 },
        { 3, 0.9, 1, 0, 0, 0, 1 },
        { 3, 0.3, 0, 1, 1, 1, 0 },
        { 3, 0.6, 1, 1, 0, 1, 1 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTheHostRenderer(int channels, double scale, double flip, double jitter, double gray, double blur, double solarize)
    {
        var spec = new AugmentSpec
        {
            OutputSize = 6,
            Scale = scale,
            FlipP = flip,
            JitterP = jitter,
            GrayP = gray,
            BlurP = blur,
            SolarizeP = solarize,
        };
        Dataset data = TinyDataset(channels, seed: (ulong)(10 * channels + 1));
        int[] batch = [1, 0, 1];
        CropParams[] crops = CropSampler.Sample(spec, 3, 0, 0, batch.Length, 1, channels, 8, 8);
        Assert.All(crops, p => Assert.Equal(flip == 1, p.Flip));
        Assert.All(crops, p => Assert.Equal(jitter == 1, p.Jitter));
        Assert.All(crops, p => Assert.Equal(blur == 1, p.BlurSigma > 0));
        Assert.All(crops, p => Assert.Equal(solarize == 1, p.Solarize));

        AssertDeviceMatchesHost(Backends.Open(Backends.IlgpuCpu), data, batch, crops, spec, $"{channels}ch scale {scale}");
    }

    [Fact]
    public void AWideBlurReflectsAtBothEdges()
    {
        var spec = new AugmentSpec { OutputSize = 6, Scale = 0.5, FlipP = 0, JitterP = 0, GrayP = 0, BlurP = 1, SolarizeP = 0, BlurKernelSize = 9 };
        Dataset data = TinyDataset(3, seed: 5);
        int[] batch = [0, 1];
        CropParams[] crops = CropSampler.Sample(spec, 4, 0, 0, batch.Length, 1, 3, 8, 8);

        AssertDeviceMatchesHost(Backends.Open(Backends.IlgpuCpu), data, batch, crops, spec, "9-tap blur");
    }

    [Fact]
    public void RendersASecondBatchWithMoreCropsIntoGrownBuffers()
    {
        var spec = new AugmentSpec { OutputSize = 6, Scale = 0.5, BlurP = 0.5, JitterP = 1 };
        Dataset data = TinyDataset(3, seed: 6);
        var k = (IlgpuKernels)Backends.Open(Backends.IlgpuCpu);
        using var renderer = new IlgpuCropRenderer(k, data, spec);
        CropParams[] few = [CropSampler.Sample(spec, 1, 0, 0, 1, 1, 3, 8, 8)[0] with { BlurSigma = 0 }];
        using (var output = GuardedBuffer.Poisoned(k, 3 * 36))
        {
            renderer.Render([1], few, output.Span);
            AssertSameAsHost(data, [1], few, spec, output, "first call, no blur");
        }
        CropParams[] more = CropSampler.Sample(spec, 2, 0, 0, 2, 2, 3, 8, 8).Select(p => p with { BlurSigma = 0.8f }).ToArray();
        using (var output = GuardedBuffer.Poisoned(k, more.Length * 3 * 36))
        {
            renderer.Render([0, 1], more, output.Span);
            AssertSameAsHost(data, [0, 1], more, spec, output, "second call, four blurred crops");
        }
    }

    [Fact]
    public void RejectsACropOutsideTheImageOrTheBatch()
    {
        var spec = new AugmentSpec { OutputSize = 6 };
        Dataset data = TinyDataset(1, seed: 7);
        var k = (IlgpuKernels)Backends.Open(Backends.IlgpuCpu);
        using var renderer = new IlgpuCropRenderer(k, data, spec);
        using var output = GuardedBuffer.Poisoned(k, 36);

        Assert.Throws<ArgumentException>(() => renderer.Render([0], [new CropParams { Top = 3, Height = 6, Width = 6 }], output.Span));
        Assert.Throws<ArgumentException>(() => renderer.Render([0], [new CropParams { Image = 1, Height = 6, Width = 6 }], output.Span));
        Assert.Throws<ArgumentException>(() => renderer.Render([2], [new CropParams { Height = 6, Width = 6 }], output.Span));
        Assert.Throws<ArgumentException>(() => renderer.Render([0], [new CropParams { Height = 6, Width = 6 }], output.Span.Slice(1)));
    }

    /// <summary>The CUDA backend on a real case: 32x32 RGB crops of 64x64 images, default EMP-SSL augmentation.</summary>
    [SkippableFact]
    public void MatchesTheHostRendererOnCuda()
    {
        IKernels k = Backends.Open(Backends.Cuda);
        var spec = new AugmentSpec { OutputSize = 32, Scale = 0.25, BlurP = 0.5, SolarizeP = 0.5 };
        Dataset data = new("random", RandomBytes(8, 4 * 3 * 64 * 64), new int[4], 3, 64, 64, 1);
        int[] batch = [3, 1, 0, 2];
        CropParams[] crops = CropSampler.Sample(spec, 9, 0, 0, batch.Length, 16, 3, 64, 64);

        AssertDeviceMatchesHost(k, data, batch, crops, spec, "cuda 64 crops of 3x32x32");
    }

    [Fact]
    public void TheKernelCompilesToPtx()
    {
        using var context = Context.Create(builder => builder.Default().EnableAlgorithms());
        using var backend = new PTXBackend(context, CudaArchitecture.SM_80, CudaInstructionSet.ISA_70, nvvmAPI: null!);
        var method = typeof(IlgpuCropKernels).GetMethod(nameof(IlgpuCropKernels.RenderKernel),
            System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!;

        var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(method), new KernelSpecialization());

        Assert.Contains(".entry", compiled.PTXAssembly, StringComparison.Ordinal);
        Assert.Contains("bar.sync", compiled.PTXAssembly, StringComparison.Ordinal);
    }

    [Fact]
    public void GroupsArePowersOfTwoWithinTheDeviceLimit()
    {
        var k = (IlgpuKernels)Backends.Open(Backends.IlgpuCpu);
        foreach (int side in new[] { 1, 2, 3, 6, 32, 224 })
        {
            int size = IlgpuCropKernels.GroupSize(k.Accelerator, side);
            Assert.True(size >= 1 && (size & (size - 1)) == 0, $"side {side}: group of {size}");
            Assert.True(size <= k.Accelerator.MaxNumThreadsPerGroup && size <= side * side, $"side {side}: group of {size}");
        }
    }

    private static void AssertDeviceMatchesHost(IKernels k, Dataset data, int[] batch, CropParams[] crops, AugmentSpec spec, string name)
    {
        int length = crops.Length * data.Channels * spec.OutputSize * spec.OutputSize;
        using var renderer = new IlgpuCropRenderer((IlgpuKernels)k, data, spec);
        using var output = GuardedBuffer.Poisoned(k, length);

        renderer.Render(batch, crops, output.Span);

        AssertSameAsHost(data, batch, crops, spec, output, name);
    }

    private static void AssertSameAsHost(Dataset data, int[] batch, CropParams[] crops, AugmentSpec spec, GuardedBuffer output, string name)
    {
        var host = new float[output.Length];
        CropRenderer.RenderPatchMajorCpu(data, batch, crops, spec, host);
        Compare.AssertClose($"IlgpuCropRenderer {name}", Seeded.Widen(host), output.Download(), DeviceVsHost);
        output.CheckGuards($"IlgpuCropRenderer {name}");
    }

    internal static Dataset TinyDataset(int channels, ulong seed) =>
        new("tiny", RandomBytes(seed, 2 * channels * 8 * 8), new int[2], channels, 8, 8, 1);

    internal static byte[] RandomBytes(ulong seed, int length)
    {
        var rng = Xoshiro256.ForKey(seed, 5, 5, 5);
        return Enumerable.Range(0, length).Select(_ => (byte)rng.NextInt(256)).ToArray();
    }
}

using EmpSsl.Kernels.Reference;
using EmpSsl.Testing;

namespace EmpSsl.Kernels.Tests;

/// <summary>Bilinear resize (align_corners=False) up and down, square and odd, against the spec.</summary>
public abstract class ResizeConformance(string backend) : BackendTest(backend)
{
    [SkippableTheory]
    [InlineData(2, 16, 16, 32, 32)]
    [InlineData(3, 14, 14, 28, 28)]
    [InlineData(2, 7, 5, 3, 4)]
    [InlineData(1, 32, 32, 16, 16)]
    [InlineData(2, 5, 7, 11, 13)]
    [InlineData(1, 1, 1, 3, 2)]
    [InlineData(4, 9, 9, 9, 9)]
    public void MatchesSpec(int planes, int h, int w, int oh, int ow)
    {
        var x = Seeded.Uniform(h * 100 + w, planes * h * w);
        var y = Out(planes * oh * ow);
        K.BilinearResize(y.Span, In(x).Span, planes, h, w, oh, ow);
        var expected = new double[planes * oh * ow];
        Ref.BilinearResize(expected, Seeded.Widen(x), planes, h, w, oh, ow);
        // Kernels compute source coordinates in fp32 (as PyTorch does for float tensors), so the blend weights
        // differ from the spec's by ~1e-7 times the coordinate; a reduction's tolerance covers that.
        Verify($"BilinearResize {planes}x{h}x{w}->{oh}x{ow}", y, expected, Tol.Reduction);
    }
}

[Collection(Backends.Cpu)]
public sealed class ResizeConformanceCpu() : ResizeConformance(Backends.Cpu);

[Collection(Backends.IlgpuCpu)]
public sealed class ResizeConformanceIlgpuCpu() : ResizeConformance(Backends.IlgpuCpu);

[Collection(Backends.Cuda)]
public sealed class ResizeConformanceCuda() : ResizeConformance(Backends.Cuda);

using EmpSsl.Kernels.Cpu;
using EmpSsl.Kernels.Ilgpu;
using EmpSsl.Kernels.Reference;
using EmpSsl.Testing;

namespace EmpSsl.Kernels.Tests;

/// <summary>
/// Convolution forward, backward-data and backward-weight against the spec, on odd spatial sizes (7x5), channel
/// counts that are not multiples of 16, batch 1, both strides, both paddings, and the 7x7/2 ImageNet stem.
/// The ILGPU backends run every case with and without prefetching (<see cref="ConvPrefetch"/>); CUDA also runs
/// them on the tensor cores in TF32 (<see cref="IlgpuKernels.Tf32Convolutions"/>), against TF32's own bound, in
/// both blocks (<see cref="ConvTile"/>: the tile is pinned, so each case runs the block its class names), and
/// with the forward's and backward-data's reductions split into slices that add into their output
/// (<see cref="IlgpuKernels.ConvSplits"/>; unsplit unless the class names a split). The cpu
/// backend runs them as it chooses and with Winograd pinned; its Winograd shapes are held to Tol.Winograd.
/// </summary>
public abstract class Conv2dConformance(
    string backend, ConvPrefetch prefetch = ConvPrefetch.Always, bool tf32 = false, ConvolutionPath cpuPath = ConvolutionPath.Auto,
    ConvTile tile = ConvTile.Narrow, int splits = 1)
    : BackendTest(backend)
{
    /// <summary>TF32's bound on the tensor cores; Winograd's where the cpu backend takes that path; else GEMM's.</summary>
    private Tolerance Band(in Conv2dShape s, ConvolutionPass pass, ReadOnlySpan<double> expected)
        => tf32 ? Tol.Tf32 : K is CpuKernels cpu && (cpu.RoutesToWinograd(s) || cpu.RoutesToWinogradStride2(s, pass)) ? Tol.Winograd(expected) : Tol.Gemm;

    /// <summary>The backend with this class's choices pinned (the backend is shared, so they are set per call).</summary>
    private IKernels Conv
    {
        get
        {
            var k = K;
            if (k is IlgpuKernels ilgpu)
            {
                ilgpu.ConvPrefetch = prefetch;
                ilgpu.Tf32Convolutions = tf32;
                ilgpu.ConvTile = tile;
                ilgpu.ConvSplits = splits;
            }
            if (k is CpuKernels cpu)
            {
                cpu.Convolution = cpuPath;
            }
            return k;
        }
    }

    public static readonly TheoryData<string> Cases = new(CaseNames());

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void ForwardMatchesSpec(string name)
    {
        var s = Shape(name);
        var x = Seeded.Uniform(11, s.InputLength);
        var w = Seeded.Uniform(12, s.WeightLength);
        var dx = In(x);
        var dw = In(w);
        var dy = Out(s.OutputLength);

        Conv.Conv2dForward(dy.Span, dx.Span, dw.Span, s);
        var expected = new double[s.OutputLength];
        Ref.Conv2dForward(expected, Seeded.Widen(x), Seeded.Widen(w), s);

        Verify($"Conv2dForward {s} pad {s.Pad}", dy, expected, Band(s, ConvolutionPass.Forward, expected));
        VerifyUnchanged("Conv2dForward x", dx, x);
        VerifyUnchanged("Conv2dForward w", dw, w);
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void BackwardDataWritesSpec(string name)
    {
        var s = Shape(name);
        var dyData = Seeded.Uniform(13, s.OutputLength);
        var w = Seeded.Uniform(14, s.WeightLength);
        var dy = In(dyData);
        var dw = In(w);
        var dx = Out(s.InputLength);

        Conv.Conv2dBackwardData(dx.Span, dy.Span, dw.Span, s);
        var expected = new double[s.InputLength];
        Ref.Conv2dBackwardData(expected, Seeded.Widen(dyData), Seeded.Widen(w), s);

        Verify($"Conv2dBackwardData {s} pad {s.Pad}", dx, expected, Band(s, ConvolutionPass.BackwardData, expected));
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void BackwardDataAccumulatesWhenAsked(string name)
    {
        var s = Shape(name);
        var dyData = Seeded.Uniform(18, s.OutputLength);
        var w = Seeded.Uniform(19, s.WeightLength);
        // dx holds a gradient already (a shortcut's): the kernel must add to it, including where no tap reaches.
        var dx0 = Seeded.Uniform(20, s.InputLength);
        var dx = In(dx0);

        Conv.Conv2dBackwardData(dx.Span, In(dyData).Span, In(w).Span, s, accumulate: true);
        var expected = new double[s.InputLength];
        Ref.Conv2dBackwardData(expected, Seeded.Widen(dyData), Seeded.Widen(w), s);
        for (int i = 0; i < expected.Length; i++)
        {
            expected[i] += dx0[i];
        }

        Verify($"Conv2dBackwardData accumulate {s} pad {s.Pad}", dx, expected, Band(s, ConvolutionPass.BackwardData, expected));
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void BackwardWeightAccumulates(string name)
    {
        var s = Shape(name);
        var dyData = Seeded.Uniform(15, s.OutputLength);
        var x = Seeded.Uniform(16, s.InputLength);
        // dw starts from random values, not zero: the parameter gradient must be added to what is there.
        var dw0 = Seeded.Uniform(17, s.WeightLength);
        var dy = In(dyData);
        var dx = In(x);
        var dw = In(dw0);

        Conv.Conv2dBackwardWeight(dw.Span, dy.Span, dx.Span, s);
        var expected = Seeded.Widen(dw0);
        Ref.Conv2dBackwardWeight(expected, Seeded.Widen(dyData), Seeded.Widen(x), s);

        Verify($"Conv2dBackwardWeight {s} pad {s.Pad}", dw, expected, Band(s, ConvolutionPass.BackwardWeight, expected));
    }

    private static IEnumerable<string> CaseNames() =>
        ["3x3 s1 p1", "3x3 s2 p1", "3x3 s1 p0", "1x1 s1 p0", "1x1 s2 p0", "7x7 s2 p3 stem", "3x3 s1 p1 wide", "3x3 s1 p1 taps", "3x3 s2 p1 taps"];

    /// <summary>Named cases so the test list reads well; the sizes shrink on ILGPU's CPU accelerator.</summary>
    private Conv2dShape Shape(string name) => (name, Tiny) switch
    {
        ("3x3 s1 p1", _) => new(N: 2, C: 3, H: 7, W: 5, K: 5, R: 3, Stride: 1, Pad: 1),
        ("3x3 s2 p1", _) => new(N: 1, C: 5, H: 7, W: 5, K: 17, R: 3, Stride: 2, Pad: 1),
        ("3x3 s1 p0", _) => new(N: 1, C: 2, H: 5, W: 6, K: 3, R: 3, Stride: 1, Pad: 0),
        ("1x1 s1 p0", _) => new(N: 2, C: 17, H: 7, W: 5, K: 6, R: 1, Stride: 1, Pad: 0),
        ("1x1 s2 p0", _) => new(N: 1, C: 6, H: 7, W: 5, K: 19, R: 1, Stride: 2, Pad: 0),
        ("7x7 s2 p3 stem", true) => new(N: 1, C: 3, H: 13, W: 11, K: 4, R: 7, Stride: 2, Pad: 3),
        ("7x7 s2 p3 stem", false) => new(N: 2, C: 3, H: 32, W: 30, K: 16, R: 7, Stride: 2, Pad: 3),
        ("3x3 s1 p1 wide", true) => new(N: 1, C: 18, H: 4, W: 3, K: 20, R: 3, Stride: 1, Pad: 1),
        ("3x3 s1 p1 wide", false) => new(N: 2, C: 64, H: 8, W: 8, K: 72, R: 3, Stride: 1, Pad: 1),
        // Channels a multiple of every block edge (16 on the CPU accelerator, 64 and 128 on a GPU), so that a
        // tap-major reduction's stages and the blocks line up with whole taps, with K just past a block edge.
        ("3x3 s1 p1 taps", true) => new(N: 1, C: 16, H: 5, W: 4, K: 20, R: 3, Stride: 1, Pad: 1),
        ("3x3 s1 p1 taps", false) => new(N: 2, C: 128, H: 6, W: 5, K: 136, R: 3, Stride: 1, Pad: 1),
        ("3x3 s2 p1 taps", true) => new(N: 1, C: 32, H: 7, W: 5, K: 16, R: 3, Stride: 2, Pad: 1),
        ("3x3 s2 p1 taps", false) => new(N: 2, C: 128, H: 9, W: 7, K: 130, R: 3, Stride: 2, Pad: 1),
        _ => throw new ArgumentException($"no conv case '{name}'"),
    };
}

[Collection(Backends.Cpu)]
public sealed class Conv2dConformanceCpu() : Conv2dConformance(Backends.Cpu);

[Collection(Backends.Cpu)]
public sealed class Conv2dConformanceCpuWinograd() : Conv2dConformance(Backends.Cpu, cpuPath: ConvolutionPath.Winograd);

[Collection(Backends.IlgpuCpu)]
public sealed class Conv2dConformanceIlgpuCpu() : Conv2dConformance(Backends.IlgpuCpu);

[Collection(Backends.IlgpuCpu)]
public sealed class Conv2dConformanceIlgpuCpuLoadAfter() : Conv2dConformance(Backends.IlgpuCpu, ConvPrefetch.Never);

[Collection(Backends.IlgpuCpu)]
public sealed class Conv2dConformanceIlgpuCpuSplit() : Conv2dConformance(Backends.IlgpuCpu, ConvPrefetch.Never, splits: 3);

[Collection(Backends.Cuda)]
public sealed class Conv2dConformanceCuda() : Conv2dConformance(Backends.Cuda);

[Collection(Backends.Cuda)]
public sealed class Conv2dConformanceCudaLoadAfter() : Conv2dConformance(Backends.Cuda, ConvPrefetch.Never);

[Collection(Backends.Cuda)]
public sealed class Conv2dConformanceCudaSplit() : Conv2dConformance(Backends.Cuda, ConvPrefetch.Always, splits: 3);

[Collection(Backends.Cuda)]
public sealed class Conv2dConformanceCudaTf32() : Conv2dConformance(Backends.Cuda, ConvPrefetch.Always, tf32: true);

[Collection(Backends.Cuda)]
public sealed class Conv2dConformanceCudaTf32Split() : Conv2dConformance(Backends.Cuda, ConvPrefetch.Never, tf32: true, splits: 3);

[Collection(Backends.Cuda)]
public sealed class Conv2dConformanceCudaTf32LoadAfter() : Conv2dConformance(Backends.Cuda, ConvPrefetch.Never, tf32: true);

[Collection(Backends.Cuda)]
public sealed class Conv2dConformanceCudaTf32Wide() : Conv2dConformance(Backends.Cuda, ConvPrefetch.Always, tf32: true, tile: ConvTile.Wide);

[Collection(Backends.Cuda)]
public sealed class Conv2dConformanceCudaTf32WideLoadAfter() : Conv2dConformance(Backends.Cuda, ConvPrefetch.Never, tf32: true, tile: ConvTile.Wide);

[Collection(Backends.Cuda)]
public sealed class Conv2dConformanceCudaTf32Flat() : Conv2dConformance(Backends.Cuda, ConvPrefetch.Always, tf32: true, tile: ConvTile.Flat);

[Collection(Backends.Cuda)]
public sealed class Conv2dConformanceCudaTf32FlatLoadAfter() : Conv2dConformance(Backends.Cuda, ConvPrefetch.Never, tf32: true, tile: ConvTile.Flat);

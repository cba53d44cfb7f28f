using EmpSsl.Kernels.Reference;
using EmpSsl.Testing;

namespace EmpSsl.Kernels.Tests;

/// <summary>Global average pooling and 3x3/2 max pooling (ResNet's stem pool) against the spec, with ties and padding.</summary>
public abstract class PoolingConformance(string backend) : BackendTest(backend)
{
    [SkippableTheory]
    [InlineData(1, 1)]
    [InlineData(34, 35)]
    [InlineData(17, 49)]
    [InlineData(3, 1024)]
    public void GlobalAvgPoolForwardAndBackward(int planes, int hw)
    {
        var x = Seeded.Uniform(1, planes * hw);
        var y = Out(planes);
        K.GlobalAvgPoolForward(y.Span, In(x).Span, planes, hw);
        var yRef = new double[planes];
        Ref.GlobalAvgPoolForward(yRef, Seeded.Widen(x), planes, hw);
        Verify($"GlobalAvgPoolForward {planes}x{hw}", y, yRef, Tol.Reduction);

        var dyData = Seeded.Uniform(2, planes);
        var dx = Out(planes * hw);
        K.GlobalAvgPoolBackward(dx.Span, In(dyData).Span, planes, hw);
        var dxRef = new double[planes * hw];
        Ref.GlobalAvgPoolBackward(dxRef, Seeded.Widen(dyData), planes, hw);
        Verify($"GlobalAvgPoolBackward {planes}x{hw}", dx, dxRef, Tol.Elementwise);
    }

    [SkippableTheory]
    [InlineData(3, 7, 5)]
    [InlineData(1, 8, 8)]
    [InlineData(2, 16, 15)]
    [InlineData(17, 32, 32)]
    public void MaxPool3x3Stride2Pad1(int planes, int h, int w)
    {
        if (Tiny && planes * h * w > 2048)
        {
            planes = 2;
        }
        var s = new PoolShape(planes, h, w, Kernel: 3, Stride: 2, Pad: 1);
        // Distinct values: with no ties, every correct backend routes the gradient to the same element.
        Check(s, Seeded.Distinct(3, planes * h * w), "distinct");
    }

    [SkippableFact]
    public void MaxPoolTiesGoToTheFirstMaxInRowMajorOrder()
    {
        var s = new PoolShape(2, 7, 5, Kernel: 3, Stride: 2, Pad: 1);
        // Coarse values, many of them equal in each window.
        var x = Seeded.Uniform(4, s.Planes * s.H * s.W, 0f, 3f).Select(v => MathF.Floor(v)).ToArray();
        Check(s, x, "ties");
        var flat = new float[s.Planes * s.H * s.W];
        Array.Fill(flat, 0.25f);
        Check(s, flat, "constant");
    }

    [SkippableFact]
    public void MaxPoolPaddingNeverWins()
    {
        var s = new PoolShape(2, 7, 5, Kernel: 3, Stride: 2, Pad: 1);
        // All negative: a kernel that pads with zeros would output 0 at the borders.
        Check(s, Seeded.Uniform(5, s.Planes * s.H * s.W, -2f, -1f), "negative");
    }

    [SkippableFact]
    public void MaxPool2x2Stride2NoPad()
    {
        var s = new PoolShape(3, 8, 6, Kernel: 2, Stride: 2, Pad: 0);
        Check(s, Seeded.Distinct(6, s.Planes * s.H * s.W), "2x2");
    }

    private void Check(in PoolShape s, float[] x, string label)
    {
        int outLength = s.Planes * s.OutH * s.OutW;
        var dxIn = In(x);
        var y = Out(outLength);
        K.MaxPool2dForward(y.Span, dxIn.Span, s);
        var yRef = new double[outLength];
        Ref.MaxPool2dForward(yRef, Seeded.Widen(x), s);
        Verify($"MaxPool2dForward {s} pad {s.Pad} {label}", y, yRef, Tol.Exact);

        var dyData = Seeded.Uniform(7, outLength);
        var dx = Out(x.Length);
        K.MaxPool2dBackward(dx.Span, In(dyData).Span, dxIn.Span, y.Span, s);
        var dxRef = new double[x.Length];
        Ref.MaxPool2dBackward(dxRef, Seeded.Widen(dyData), Seeded.Widen(x), yRef, s);
        // Overlapping windows sum up to four dy values, in an order the backend may choose.
        Verify($"MaxPool2dBackward {s} pad {s.Pad} {label}", dx, dxRef, Tol.Elementwise);
    }
}

[Collection(Backends.Cpu)]
public sealed class PoolingConformanceCpu() : PoolingConformance(Backends.Cpu);

[Collection(Backends.IlgpuCpu)]
public sealed class PoolingConformanceIlgpuCpu() : PoolingConformance(Backends.IlgpuCpu);

[Collection(Backends.Cuda)]
public sealed class PoolingConformanceCuda() : PoolingConformance(Backends.Cuda);

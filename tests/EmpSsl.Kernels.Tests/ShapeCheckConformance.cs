using EmpSsl.Testing;

namespace EmpSsl.Kernels.Tests;

/// <summary>
/// Every backend rejects a wrong size before launching anything, with a message that names the op and the shapes,
/// and leaves the output untouched.
/// </summary>
public abstract class ShapeCheckConformance(string backend) : BackendTest(backend)
{
    [SkippableFact]
    public void GemmNamesOpAndShapes()
    {
        var c = Out(6 * 5);
        var ex = Assert.Throws<ShapeMismatchException>(() =>
            K.Gemm(c.Span, In(new float[6 * 4]).Span, In(new float[3 * 5]).Span, new GemmShape(6, 5, 4)));
        Assert.Contains("Gemm", ex.Message);
        Assert.Contains("M=6, N=5, K=4", ex.Message);
        Assert.Contains("B", ex.Message);
        Assert.Contains("15", ex.Message);
        Assert.Contains("20", ex.Message);
        AssertStillPoisoned(c);
    }

    [SkippableFact]
    public void Conv2dNamesOpAndShapes()
    {
        var s = new Conv2dShape(N: 1, C: 3, H: 7, W: 5, K: 4, R: 3, Stride: 1, Pad: 1);
        var y = Out(s.OutputLength);
        var ex = Assert.Throws<ShapeMismatchException>(() =>
            K.Conv2dForward(y.Span, In(new float[s.InputLength]).Span, In(new float[s.WeightLength - 1]).Span, s));
        Assert.Contains("Conv2dForward", ex.Message);
        Assert.Contains(s.ToString(), ex.Message);
        Assert.Contains("K x C x R x R = 4x3x3x3", ex.Message);
        AssertStillPoisoned(y);

        var dw = Out(s.WeightLength);
        var ex2 = Assert.Throws<ShapeMismatchException>(() =>
            K.Conv2dBackwardWeight(dw.Span, In(new float[s.OutputLength + 1]).Span, In(new float[s.InputLength]).Span, s));
        Assert.Contains("Conv2dBackwardWeight", ex2.Message);
        Assert.Contains(s.ToString(), ex2.Message);
        AssertStillPoisoned(dw);
    }

    [SkippableFact]
    public void ElementwiseNamesOpAndLengths()
    {
        var y = Out(7);
        var ex = Assert.Throws<ShapeMismatchException>(() => K.Add(y.Span, In(new float[7]).Span, In(new float[8]).Span));
        Assert.Contains("Add", ex.Message);
        Assert.Contains("7", ex.Message);
        Assert.Contains("8", ex.Message);
        AssertStillPoisoned(y);
    }

    [SkippableFact]
    public void BatchNormNamesOpAndShape()
    {
        var s = new BatchNormShape(2, 3, 5);
        var y = Out(s.Length);
        var ex = Assert.Throws<ShapeMismatchException>(() => K.BatchNormForwardEval(
            y.Span, In(new float[s.Length]).Span, In(new float[3]).Span, In(new float[4]).Span,
            In(new float[3]).Span, In(new float[3]).Span, s));
        Assert.Contains("BatchNorm", ex.Message);
        Assert.Contains(s.ToString(), ex.Message);
        AssertStillPoisoned(y);
    }

    [SkippableFact]
    public void CholeskyAndPoolNameOpAndShape()
    {
        var ex = Assert.Throws<ShapeMismatchException>(() =>
            K.Cholesky(Out(2 * 16).Span, Out(2).Span, In(new float[2 * 15]).Span, 4, 2));
        Assert.Contains("Cholesky", ex.Message);
        Assert.Contains("n=4, batch=2", ex.Message);

        var s = new PoolShape(2, 7, 5, 3, 2, 1);
        var ex2 = Assert.Throws<ShapeMismatchException>(() =>
            K.MaxPool2dForward(Out(2 * s.OutH * s.OutW + 1).Span, In(new float[2 * 7 * 5]).Span, s));
        Assert.Contains("MaxPool2dForward", ex2.Message);
        Assert.Contains(s.ToString(), ex2.Message);
    }

    [SkippableFact]
    public void RowsOpsNameOpAndShape()
    {
        var ex = Assert.Throws<ShapeMismatchException>(() =>
            K.RowDot(Out(3).Span, In(new float[12]).Span, In(new float[12]).Span, 4, 3));
        Assert.Contains("RowDot", ex.Message);
        Assert.Contains("y has 3 elements", ex.Message);
        Assert.Contains("4", ex.Message);

        var ex2 = Assert.Throws<ShapeMismatchException>(() =>
            K.LarsSgdUpdate(Out(10).Span, In(new float[10]).Span, In(new float[9]).Span, new LarsStep(0.1f)));
        Assert.Contains("Lars", ex2.Message);
    }

    private void AssertStillPoisoned(GuardedBuffer output)
    {
        Assert.All(output.Download(), v => Assert.True(float.IsNaN(v), $"{Backend}: a rejected call wrote its output"));
        output.CheckGuards($"{Backend} rejected call");
    }
}

[Collection(Backends.Cpu)]
public sealed class ShapeCheckConformanceCpu() : ShapeCheckConformance(Backends.Cpu);

[Collection(Backends.IlgpuCpu)]
public sealed class ShapeCheckConformanceIlgpuCpu() : ShapeCheckConformance(Backends.IlgpuCpu);

[Collection(Backends.Cuda)]
public sealed class ShapeCheckConformanceCuda() : ShapeCheckConformance(Backends.Cuda);

namespace EmpSsl.Autodiff.Tests;

/// <summary>MatMul (all four transpositions), Linear, RowDot, L2Normalize and CosineSimilarity.</summary>
public abstract class MatrixOpTests(string backend) : BackendTest(backend)
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void MatMul(bool transA, bool transB)
    {
        const int m = 3;
        const int n = 5;
        const int k = 4;
        int[] aShape = transA ? [k, m] : [m, k];
        int[] bShape = transB ? [n, k] : [k, n];
        CheckGradients(
            [new(aShape, Random(m * k)), new(bShape, Random(k * n))],
            (t, v) => t.MatMul(v[0], v[1], transA, transB, alpha: 0.5f),
            v => F64.Gemm(v[0], v[1], m, n, k, transA, transB, 0.5),
            Tol.Grad);
    }

    [Fact]
    public void MatMulOfAMatrixWithItsTranspose()
    {
        // Z Z^T: both operands are the same tensor, so both contributions must reach one gradient.
        CheckGradients(
            [new([3, 7], Random(21))],
            (t, v) => t.MatMul(v[0], v[0], transB: true),
            v => F64.Gemm(v[0], v[0], 3, 3, 7, transB: true),
            Tol.Grad);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Linear(bool bias)
    {
        const int rows = 4;
        const int inF = 6;
        const int outF = 3;
        Input[] inputs = bias
            ? [new([rows, inF], Random(rows * inF)), new([outF, inF], Random(outF * inF)), new([outF], Random(outF))]
            : [new([rows, inF], Random(rows * inF)), new([outF, inF], Random(outF * inF))];
        CheckGradients(
            inputs,
            (t, v) => t.Linear(v[0], v[1], bias ? v[2] : null),
            v => F64.Linear(v[0], v[1], bias ? v[2] : null, rows, inF, outF),
            Tol.Grad);
    }

    [Fact]
    public void RowDot()
    {
        CheckGradients(
            [new([4, 5], Random(20)), new([4, 5], Random(20))],
            (t, v) => t.RowDot(v[0], v[1]),
            v => F64.RowDot(v[0], v[1], 4, 5),
            Tol.Grad);
    }

    [Fact]
    public void L2Normalize()
    {
        CheckGradients(
            [new([5, 6], Random(30))],
            (t, v) => t.L2Normalize(v[0]),
            v => F64.L2Normalize(v[0], 5, 6),
            Tol.Grad);
    }

    [Fact]
    public void CosineSimilarity()
    {
        CheckGradients(
            [new([4, 7], Random(28)), new([4, 7], Random(28))],
            (t, v) => t.CosineSimilarity(v[0], v[1]),
            v => F64.CosineSimilarity(v[0], v[1], 4, 7),
            Tol.Grad);
    }
}

public sealed class MatrixOpTestsCpu() : MatrixOpTests("cpu");

public sealed class MatrixOpTestsIlgpuCpu() : MatrixOpTests("ilgpu-cpu");

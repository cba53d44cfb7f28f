using EmpSsl.Kernels.Reference;
using EmpSsl.Testing;

namespace EmpSsl.Kernels.Tests;

/// <summary>Row and column ops (bias, column sums, row dots and scales, the total sum, L2 normalization) against the spec.</summary>
public abstract class RowsConformance(string backend) : BackendTest(backend)
{
    public static readonly TheoryData<int, int> Shapes = new()
    {
        { 1, 1 },
        { 1, 17 },
        { 7, 5 },
        { 33, 16 },
        { 5, 67 },
        { 64, 128 },
    };

    [SkippableTheory]
    [MemberData(nameof(Shapes))]
    public void AddBiasAddsToEveryRow(int rows, int cols)
    {
        rows = FitRows(rows);
        var y0 = Seeded.Uniform(1, rows * cols);
        var bias = Seeded.Uniform(2, cols);
        var y = In(y0);
        K.AddBias(y.Span, In(bias).Span, rows, cols);
        var expected = Seeded.Widen(y0);
        Ref.AddBias(expected, Seeded.Widen(bias), rows, cols);
        Verify($"AddBias {rows}x{cols}", y, expected, Tol.Elementwise);
    }

    [SkippableTheory]
    [MemberData(nameof(Shapes))]
    public void ColumnSumAccumulates(int rows, int cols)
    {
        rows = FitRows(rows);
        var dyData = Seeded.Uniform(3, rows * cols);
        var dbias0 = Seeded.Uniform(4, cols);
        var dbias = In(dbias0);
        K.ColumnSum(dbias.Span, In(dyData).Span, rows, cols);
        var expected = Seeded.Widen(dbias0);
        Ref.ColumnSum(expected, Seeded.Widen(dyData), rows, cols);
        Verify($"ColumnSum {rows}x{cols}", dbias, expected, Tol.Reduction);
    }

    [SkippableTheory]
    [MemberData(nameof(Shapes))]
    public void RowDotMatchesSpec(int rows, int cols)
    {
        rows = FitRows(rows);
        var a = Seeded.Uniform(5, rows * cols);
        var b = Seeded.Uniform(6, rows * cols);
        var y = Out(rows);
        K.RowDot(y.Span, In(a).Span, In(b).Span, rows, cols);
        var expected = new double[rows];
        Ref.RowDot(expected, Seeded.Widen(a), Seeded.Widen(b), rows, cols);
        Verify($"RowDot {rows}x{cols}", y, expected, Tol.Reduction);
    }

    [SkippableTheory]
    [MemberData(nameof(Shapes))]
    public void RowScaleMatchesSpecAndMayAlias(int rows, int cols)
    {
        rows = FitRows(rows);
        var x = Seeded.Uniform(7, rows * cols);
        var scale = Seeded.Uniform(8, rows, -2f, 2f);
        var expected = new double[rows * cols];
        Ref.RowScale(expected, Seeded.Widen(x), Seeded.Widen(scale), rows, cols);
        var y = Out(rows * cols);
        K.RowScale(y.Span, In(x).Span, In(scale).Span, rows, cols);
        Verify($"RowScale {rows}x{cols}", y, expected, Tol.Elementwise);
        var inPlace = In(x);
        K.RowScale(inPlace.Span, inPlace.Span, In(scale).Span, rows, cols);
        Verify($"RowScale in place {rows}x{cols}", inPlace, expected, Tol.Elementwise);
    }

    [SkippableTheory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(1000)]
    [InlineData(65_537)]
    public void SumMatchesSpec(int n)
    {
        if (Tiny)
        {
            n = Math.Min(n, 1000);
        }
        // Positive terms with a mean far from zero, so the relative bound is a real bound (no cancellation to hide in).
        var x = Seeded.Uniform(9, n, 0.5f, 1.5f);
        var y = Out(1);
        K.Sum(y.Span, In(x).Span);
        var expected = new double[1];
        Ref.Sum(expected, Seeded.Widen(x));
        Verify($"Sum n={n}", y, expected, Tol.Reduction);
    }

    [SkippableTheory]
    [MemberData(nameof(Shapes))]
    public void L2NormalizeForwardAndBackward(int rows, int cols)
    {
        rows = FitRows(rows);
        const float eps = 1e-12f;
        var x = Seeded.Uniform(10, rows * cols);
        // A zero row, as a dead projector output would give: y = 0 and dx = dy / eps, never NaN.
        if (rows > 1)
        {
            Array.Clear(x, cols, cols);
        }
        CheckL2(x, rows, cols, eps, seed: 11);
    }

    [SkippableFact]
    public void L2NormalizeClampsRowsBelowEps()
    {
        const int rows = 6, cols = 9;
        var x = Seeded.Uniform(12, rows * cols);
        // Rows scaled to norms on both sides of eps, so both branches of the backward are taken.
        for (int r = 0; r < rows; r++)
        {
            float scale = r % 2 == 0 ? 0.01f : 1f;
            for (int c = 0; c < cols; c++)
            {
                x[r * cols + c] *= scale;
            }
        }
        CheckL2(x, rows, cols, eps: 0.5f, seed: 13);
    }

    /// <summary>
    /// ILGPU's CPU accelerator spends ~0.5 s per row on a row reduction with barriers, so it gets at most 4 rows;
    /// the columns, which exercise the vector and group widths, stay.
    /// </summary>
    private int FitRows(int rows) => Tiny ? Math.Min(rows, 4) : rows;

    private void CheckL2(float[] x, int rows, int cols, float eps, int seed)
    {
        var y = Out(rows * cols);
        var norms = Out(rows);
        K.L2NormalizeRows(y.Span, norms.Span, In(x).Span, rows, cols, eps);
        var yRef = new double[rows * cols];
        var normsRef = new double[rows];
        Ref.L2NormalizeRows(yRef, normsRef, Seeded.Widen(x), rows, cols, eps);
        Verify($"L2NormalizeRows {rows}x{cols} eps={eps} y", y, yRef, Tol.Reduction);
        Verify($"L2NormalizeRows {rows}x{cols} eps={eps} norms", norms, normsRef, Tol.Reduction);

        // The backward reads the forward's outputs; both sides get the same fp32 copies.
        var yF = Seeded.Narrow(yRef);
        var normsF = Seeded.Narrow(normsRef);
        var dyData = Seeded.Uniform(seed, rows * cols);
        var dx = Out(rows * cols);
        K.L2NormalizeRowsBackward(dx.Span, In(dyData).Span, In(yF).Span, In(normsF).Span, rows, cols, eps);
        var dxRef = new double[rows * cols];
        Ref.L2NormalizeRowsBackward(dxRef, Seeded.Widen(dyData), Seeded.Widen(yF), Seeded.Widen(normsF), rows, cols, eps);
        Verify($"L2NormalizeRowsBackward {rows}x{cols} eps={eps}", dx, dxRef, Tol.Reduction);
    }
}

[Collection(Backends.Cpu)]
public sealed class RowsConformanceCpu() : RowsConformance(Backends.Cpu);

[Collection(Backends.IlgpuCpu)]
public sealed class RowsConformanceIlgpuCpu() : RowsConformance(Backends.IlgpuCpu);

[Collection(Backends.Cuda)]
public sealed class RowsConformanceCuda() : RowsConformance(Backends.Cuda);

using EmpSsl.Kernels.Reference;
using EmpSsl.Testing;

namespace EmpSsl.Kernels.Tests;

/// <summary>Batched Cholesky, log det, solves and the diagonal shift of the coding rate, against the float64 spec.</summary>
public abstract class CholeskyConformance(string backend) : BackendTest(backend)
{
    /// <summary>ILGPU's CPU accelerator runs barrier-heavy factorizations ~1000x slower, so it stops at 64.</summary>
    private IEnumerable<int> Sizes => Tiny ? [1, 2, 17, 64] : [1, 2, 17, 64, 128, 256];

    [SkippableFact]
    public void FactorAndLogDetMatchSpecReadingOnlyTheLowerTriangle()
    {
        foreach (int n in Sizes)
        {
            int batch = n >= 128 ? 2 : 3;
            var a = Matrices.WellConditioned(n, n, batch);
            var expectedL = new double[batch * n * n];
            var expectedLogDet = new double[batch];
            Ref.Cholesky(expectedL, expectedLogDet, Seeded.Widen(a), n, batch);
            // The upper triangle is poisoned: the contract says only the lower one is read.
            for (int b = 0; b < batch; b++)
            {
                for (int i = 0; i < n; i++)
                {
                    for (int j = i + 1; j < n; j++)
                    {
                        a[b * n * n + i * n + j] = float.NaN;
                    }
                }
            }
            var l = Out(batch * n * n);
            var logdet = Out(batch);

            K.Cholesky(l.Span, logdet.Span, In(a).Span, n, batch);

            Verify($"Cholesky n={n} batch={batch} l", l, expectedL, Tol.Cholesky);
            Verify($"Cholesky n={n} batch={batch} logdet", logdet, expectedLogDet, Tol.Cholesky);
        }
    }

    [SkippableFact]
    public void LogDetOfConditionNumber1e6()
    {
        int n = Tiny ? 17 : 64;
        var a = Matrices.WithCondition(seed: 3, n, condition: 1e6);
        var l = Out(n * n);
        var logdet = Out(1);

        K.Cholesky(l.Span, logdet.Span, In(a).Span, n, 1);
        var expectedL = new double[n * n];
        var expectedLogDet = new double[1];
        Ref.Cholesky(expectedL, expectedLogDet, Seeded.Widen(a), n, 1);

        // Only log det: the factor's forward error grows with the condition number (see Tol.IllConditionedLogDet).
        Compare.AssertClose($"{Backend} Cholesky cond 1e6 n={n} logdet", expectedLogDet[0], logdet.Download()[0], Tol.IllConditionedLogDet);
        l.CheckGuards($"{Backend} Cholesky cond 1e6 l");
        logdet.CheckGuards($"{Backend} Cholesky cond 1e6 logdet");
    }

    [SkippableFact]
    public void NonSpdMatrixThrowsNamingMatrixAndPivot()
    {
        const int n = 8, batch = 3;
        var a = Matrices.WellConditioned(5, n, batch);
        // Matrix 1 gets a negative diagonal entry at 5; pivots 0..4 are unaffected, so every algorithm fails at 5.
        a[1 * n * n + 5 * n + 5] = -1f;
        var ex = Assert.Throws<MatrixNotPositiveDefiniteException>(() =>
        {
            K.Cholesky(Out(batch * n * n).Span, Out(batch).Span, In(a).Span, n, batch);
            K.Synchronize();
        });
        Assert.Equal(1, ex.MatrixIndex);
        Assert.Equal(5, ex.Pivot);
        Assert.Contains("matrix 1", ex.Message);
    }

    [SkippableFact]
    public void NaNMatrixThrows()
    {
        const int n = 6, batch = 2;
        var a = Matrices.WellConditioned(6, n, batch);
        // NaN in the lower triangle, as a diverged Z would give; a "pivot <= 0" test would let NaN through.
        a[3 * n + 2] = float.NaN;
        var ex = Assert.Throws<MatrixNotPositiveDefiniteException>(() =>
        {
            K.Cholesky(Out(batch * n * n).Span, Out(batch).Span, In(a).Span, n, batch);
            K.Synchronize();
        });
        Assert.Equal(0, ex.MatrixIndex);
        Assert.Equal(3, ex.Pivot);
    }

    [SkippableTheory]
    [InlineData(1, 1, 1)]
    [InlineData(17, 1, 3)]
    [InlineData(17, 5, 2)]
    [InlineData(64, 3, 2)]
    public void SolveMatchesSpecAndMayAliasB(int n, int nrhs, int batch)
    {
        var a = Matrices.WellConditioned(7, n, batch);
        var lRef = new double[batch * n * n];
        Ref.Cholesky(lRef, new double[batch], Seeded.Widen(a), n, batch);
        var lF = Seeded.Narrow(lRef);
        var b = Seeded.Uniform(8, batch * n * nrhs);
        var expected = new double[batch * n * nrhs];
        Ref.CholeskySolve(expected, Seeded.Widen(lF), Seeded.Widen(b), n, nrhs, batch);
        var dl = In(lF);

        var x = Out(batch * n * nrhs);
        K.CholeskySolve(x.Span, dl.Span, In(b).Span, n, nrhs, batch);
        Verify($"CholeskySolve n={n} nrhs={nrhs} batch={batch}", x, expected, Tol.Cholesky);

        var inPlace = In(b);
        K.CholeskySolve(inPlace.Span, dl.Span, inPlace.Span, n, nrhs, batch);
        Verify($"CholeskySolve x=b n={n} nrhs={nrhs} batch={batch}", inPlace, expected, Tol.Cholesky);
        VerifyUnchanged("CholeskySolve l", dl, lF);
    }

    [SkippableFact]
    public void AddDiagonalShiftsEachMatrix()
    {
        const int n = 17, batch = 3;
        var a0 = Seeded.Uniform(9, batch * n * n);
        var a = In(a0);
        K.AddDiagonal(a.Span, 0.625f, n, batch);
        var expected = Seeded.Widen(a0);
        Ref.AddDiagonal(expected, 0.625f, n, batch);
        Verify($"AddDiagonal n={n} batch={batch}", a, expected, Tol.Elementwise);
    }
}

[Collection(Backends.Cpu)]
public sealed class CholeskyConformanceCpu() : CholeskyConformance(Backends.Cpu);

[Collection(Backends.IlgpuCpu)]
public sealed class CholeskyConformanceIlgpuCpu() : CholeskyConformance(Backends.IlgpuCpu);

[Collection(Backends.Cuda)]
public sealed class CholeskyConformanceCuda() : CholeskyConformance(Backends.Cuda);

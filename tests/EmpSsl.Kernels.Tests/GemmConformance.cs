using EmpSsl.Kernels.Reference;
using EmpSsl.Testing;

namespace EmpSsl.Kernels.Tests;

/// <summary>Gemm against the spec: every transpose pair, sizes around vector widths and tiles, alpha and beta.</summary>
public abstract class GemmConformance(string backend) : BackendTest(backend)
{
    /// <summary>(M, N, K) around 1, a Vector512 of floats (16) and common tile sizes (32, 64), odd on purpose.</summary>
    public static readonly TheoryData<int, int, int, bool, bool> Shapes = Build(
        (1, 1, 1), (7, 5, 3), (16, 16, 16), (17, 17, 17), (33, 7, 65), (65, 33, 17), (1, 65, 33), (64, 1, 7), (7, 16, 1));

    [SkippableTheory]
    [MemberData(nameof(Shapes))]
    public void MatchesSpecWithBetaZeroOnPoisonedC(int m, int n, int k, bool transA, bool transB) =>
        Check(new GemmShape(m, n, k, transA, transB), seed: m * 10007 + n * 101 + k);

    [SkippableTheory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void BetaOneAccumulatesIntoC(bool transA, bool transB) =>
        Check(new GemmShape(17, 33, 9, transA, transB, Alpha: 0.5f, Beta: 1f), seed: 5);

    [SkippableTheory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void AlphaAndFractionalBeta(bool transA, bool transB) =>
        Check(new GemmShape(7, 19, 23, transA, transB, Alpha: -2f, Beta: 0.25f), seed: 6);

    [SkippableTheory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void LargerThanOneTile(bool transA, bool transB)
    {
        // Past a 64x64 block with a partial second block in M and N, and K not a multiple of 16.
        var s = Tiny ? new GemmShape(70, 66, 40, transA, transB) : new GemmShape(257, 130, 300, transA, transB, Alpha: 1f, Beta: 1f);
        Check(s, seed: 7);
    }

    private void Check(in GemmShape s, int seed)
    {
        var a = Seeded.Uniform(seed, s.M * s.K);
        var b = Seeded.Uniform(seed + 1, s.K * s.N);
        var c0 = Seeded.Uniform(seed + 2, s.M * s.N);
        var da = In(a);
        var db = In(b);
        var dc = s.Beta == 0 ? Out(s.M * s.N) : In(c0);
        var expected = s.Beta == 0 ? new double[s.M * s.N] : Seeded.Widen(c0);

        K.Gemm(dc.Span, da.Span, db.Span, s);
        Ref.Gemm(expected, Seeded.Widen(a), Seeded.Widen(b), s);

        Verify($"Gemm {s} alpha={s.Alpha} beta={s.Beta}", dc, expected, Tol.Gemm);
        VerifyUnchanged("Gemm a", da, a);
        VerifyUnchanged("Gemm b", db, b);
    }

    private static TheoryData<int, int, int, bool, bool> Build(params (int M, int N, int K)[] sizes)
    {
        var data = new TheoryData<int, int, int, bool, bool>();
        foreach (var (m, n, k) in sizes)
        {
            foreach (bool ta in new[] { false, true })
            {
                foreach (bool tb in new[] { false, true })
                {
                    data.Add(m, n, k, ta, tb);
                }
            }
        }
        return data;
    }
}

[Collection(Backends.Cpu)]
public sealed class GemmConformanceCpu() : GemmConformance(Backends.Cpu);

[Collection(Backends.IlgpuCpu)]
public sealed class GemmConformanceIlgpuCpu() : GemmConformance(Backends.IlgpuCpu);

[Collection(Backends.Cuda)]
public sealed class GemmConformanceCuda() : GemmConformance(Backends.Cuda);

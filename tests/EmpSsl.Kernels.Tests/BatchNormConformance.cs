using EmpSsl.Kernels.Reference;
using EmpSsl.Testing;

namespace EmpSsl.Kernels.Tests;

/// <summary>BatchNorm train, eval and backward against the spec, including BatchNorm1d (HW = 1) and batch 1.</summary>
public abstract class BatchNormConformance(string backend) : BackendTest(backend)
{
    public static readonly TheoryData<int, int, int, bool> Shapes = new()
    {
        { 2, 3, 35, false },
        { 1, 17, 35, false },
        { 8, 19, 1, false },
        { 3, 16, 16, false },
        // With the ReLU fused: long rows, and the column sweeps of small HW.
        { 2, 3, 35, true },
        { 8, 19, 1, true },
        { 3, 16, 16, true },
    };

    [SkippableTheory]
    [MemberData(nameof(Shapes))]
    public void TrainWritesOutputStatisticsAndUpdatesRunningStats(int n, int c, int hw, bool relu)
    {
        var s = new BatchNormShape(n, c, hw, Momentum: 0.1f, Eps: 1e-5f, Relu: relu);
        // An offset and scale per test so the mean and variance are not the trivial 0 and 1/3.
        var x = Seeded.Uniform(21, s.Length, -0.5f, 2.5f);
        var gamma = Seeded.Uniform(22, c, 0.5f, 1.5f);
        var beta = Seeded.Uniform(23, c);
        var rm0 = Seeded.Uniform(24, c);
        var rv0 = Seeded.Uniform(25, c, 0.5f, 2f);
        var dx = In(x);
        var dgamma = In(gamma);
        var dbeta = In(beta);
        var drm = In(rm0);
        var drv = In(rv0);
        var dy = Out(s.Length);
        var dmean = Out(c);
        var dinv = Out(c);

        K.BatchNormForwardTrain(dy.Span, dmean.Span, dinv.Span, drm.Span, drv.Span, dx.Span, dgamma.Span, dbeta.Span, s);
        var y = new double[s.Length];
        var mean = new double[c];
        var inv = new double[c];
        var rm = Seeded.Widen(rm0);
        var rv = Seeded.Widen(rv0);
        Ref.BatchNormForwardTrain(y, mean, inv, rm, rv, Seeded.Widen(x), Seeded.Widen(gamma), Seeded.Widen(beta), s);

        Verify($"BatchNormForwardTrain {s} y", dy, y, Tol.Reduction);
        Verify($"BatchNormForwardTrain {s} saveMean", dmean, mean, Tol.Reduction);
        Verify($"BatchNormForwardTrain {s} saveInvStd", dinv, inv, Tol.Reduction);
        Verify($"BatchNormForwardTrain {s} runningMean", drm, rm, Tol.Reduction);
        Verify($"BatchNormForwardTrain {s} runningVar", drv, rv, Tol.Reduction);
        VerifyUnchanged("BatchNormForwardTrain x", dx, x);
    }

    /// <summary>
    /// A large mean, and a first value per channel far out in the tail: the GPU kernels sum around a shift (the
    /// first value of each piece) and must fall back to a second pass around the mean when that shift is far.
    /// </summary>
    [SkippableFact]
    public void TrainStatisticsSurviveALargeMeanAndAnOutlyingFirstValue()
    {
        var s = new BatchNormShape(64, 2, 256);
        var x = Seeded.Uniform(26, s.Length, 999.99f, 1000.01f);
        for (int c = 0; c < s.C; c++)
        {
            x[c * s.HW] = 1001f;
        }
        var gamma = Seeded.Uniform(27, s.C, 0.5f, 1.5f);
        var beta = Seeded.Uniform(28, s.C);
        var dy = Out(s.Length);
        var dmean = Out(s.C);
        var dinv = Out(s.C);
        K.BatchNormForwardTrain(dy.Span, dmean.Span, dinv.Span, In(new float[s.C]).Span, In(new float[s.C]).Span, In(x).Span,
            In(gamma).Span, In(beta).Span, s);
        var y = new double[s.Length];
        var mean = new double[s.C];
        var inv = new double[s.C];
        Ref.BatchNormForwardTrain(y, mean, inv, new double[s.C], new double[s.C], Seeded.Widen(x), Seeded.Widen(gamma), Seeded.Widen(beta), s);

        Verify($"BatchNormForwardTrain {s} saveMean, mean 1000", dmean, mean, Tol.Reduction);
        Verify($"BatchNormForwardTrain {s} saveInvStd, mean 1000", dinv, inv, Tol.Reduction);
    }

    [SkippableTheory]
    [MemberData(nameof(Shapes))]
    public void EvalUsesRunningStatistics(int n, int c, int hw, bool relu)
    {
        var s = new BatchNormShape(n, c, hw, Eps: 1e-3f, Relu: relu);
        var x = Seeded.Uniform(31, s.Length, -2f, 2f);
        var gamma = Seeded.Uniform(32, c, 0.5f, 1.5f);
        var beta = Seeded.Uniform(33, c);
        var rm = Seeded.Uniform(34, c);
        var rv = Seeded.Uniform(35, c, 0.1f, 3f);
        var dy = Out(s.Length);

        K.BatchNormForwardEval(dy.Span, In(x).Span, In(gamma).Span, In(beta).Span, In(rm).Span, In(rv).Span, s);
        var y = new double[s.Length];
        Ref.BatchNormForwardEval(y, Seeded.Widen(x), Seeded.Widen(gamma), Seeded.Widen(beta), Seeded.Widen(rm), Seeded.Widen(rv), s);

        Verify($"BatchNormForwardEval {s}", dy, y, Tol.Elementwise);
    }

    [SkippableTheory]
    [MemberData(nameof(Shapes))]
    public void BackwardWritesDxAndAccumulatesDgammaDbeta(int n, int c, int hw, bool relu)
    {
        var s = new BatchNormShape(n, c, hw, Relu: relu);
        var x = Seeded.Uniform(41, s.Length, -1f, 3f);
        var gamma = Seeded.Uniform(42, c, 0.5f, 1.5f);
        var beta = Seeded.Uniform(46, c);
        var dyData = Seeded.Uniform(43, s.Length);
        var dgamma0 = Seeded.Uniform(44, c);
        var dbeta0 = Seeded.Uniform(45, c);
        // The saved statistics come from the spec, rounded to fp32, so both sides read the same values.
        var mean = new double[c];
        var inv = new double[c];
        Ref.BatchNormForwardTrain(new double[s.Length], mean, inv, new double[c], new double[c], Seeded.Widen(x),
            Seeded.Widen(gamma), Seeded.Widen(beta), s);
        var meanF = Seeded.Narrow(mean);
        var invF = Seeded.Narrow(inv);
        var ddx = Out(s.Length);
        var ddgamma = In(dgamma0);
        var ddbeta = In(dbeta0);

        K.BatchNormBackward(ddx.Span, ddgamma.Span, ddbeta.Span, In(dyData).Span, In(x).Span, In(gamma).Span, In(beta).Span,
            In(meanF).Span, In(invF).Span, s);
        var dx = new double[s.Length];
        var dgamma = Seeded.Widen(dgamma0);
        var dbeta = Seeded.Widen(dbeta0);
        Ref.BatchNormBackward(dx, dgamma, dbeta, Seeded.Widen(dyData), Seeded.Widen(x), Seeded.Widen(gamma), Seeded.Widen(beta),
            Seeded.Widen(meanF), Seeded.Widen(invF), s);

        Verify($"BatchNormBackward {s} dx", ddx, dx, Tol.Reduction);
        Verify($"BatchNormBackward {s} dgamma", ddgamma, dgamma, Tol.Reduction);
        Verify($"BatchNormBackward {s} dbeta", ddbeta, dbeta, Tol.Reduction);
    }
}

[Collection(Backends.Cpu)]
public sealed class BatchNormConformanceCpu() : BatchNormConformance(Backends.Cpu);

[Collection(Backends.IlgpuCpu)]
public sealed class BatchNormConformanceIlgpuCpu() : BatchNormConformance(Backends.IlgpuCpu);

[Collection(Backends.Cuda)]
public sealed class BatchNormConformanceCuda() : BatchNormConformance(Backends.Cuda);

using EmpSsl.Kernels.Reference;
using EmpSsl.Testing;

namespace EmpSsl.Kernels.Tests;

/// <summary>The fused LARS/SGD step against the spec: w and v updated, g left alone.</summary>
public abstract class LarsConformance(string backend) : BackendTest(backend)
{
    public static readonly TheoryData<string> Cases = new(
        ["lars clip nesterov", "lars no clip", "lars trust below lr", "sgd no lars", "lars plain momentum", "lars zero grad", "lars zero weights"]);

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void StepMatchesSpec(string name)
    {
        int n = Tiny ? 1000 : 100_003;
        var w0 = Seeded.Uniform(1, n);
        var g = Seeded.Uniform(2, n, -0.01f, 0.01f);
        var v0 = Seeded.Uniform(3, n, -0.1f, 0.1f);
        var p = name switch
        {
            // Lr 0.3: trust = 0.005 |w| / |g| ~ 0.5 here, so trust / lr > 1 and the clip to 1 is what acts.
            "lars clip nesterov" => new LarsStep(Lr: 0.3f),
            "lars no clip" => new LarsStep(Lr: 0.3f, Clip: false),
            // Lr 10: trust / lr ~ 0.05 < 1, so the clipped trust ratio itself scales the step.
            "lars trust below lr" => new LarsStep(Lr: 10f, WeightDecay: 1e-3f),
            "sgd no lars" => new LarsStep(Lr: 0.3f, Lars: false),
            "lars plain momentum" => new LarsStep(Lr: 0.3f, Nesterov: false, Clip: false, Momentum: 0.8f),
            // |g| = 0: the trust ratio stays 1 and, as LarsStep documents, the decay still applies: g' = WeightDecay w.
            // A large decay makes a kernel that drops it (as solo-learn's LARSWrapper would) miss by ~5% of w.
            "lars zero grad" => new LarsStep(Lr: 0.3f, WeightDecay: 0.1f),
            // |w| = 0: trust 1, and the decay term is zero, so g' = g.
            "lars zero weights" => new LarsStep(Lr: 0.3f, WeightDecay: 0.1f),
            _ => throw new ArgumentException($"no LARS case '{name}'"),
        };
        if (name == "lars zero grad")
        {
            Array.Clear(g);
        }
        if (name == "lars zero weights")
        {
            Array.Clear(w0);
        }
        var dw = In(w0);
        var dg = In(g);
        var dv = In(v0);

        K.LarsSgdUpdate(dw.Span, dg.Span, dv.Span, p);
        var w = Seeded.Widen(w0);
        var v = Seeded.Widen(v0);
        Ref.LarsSgdUpdate(w, Seeded.Widen(g), v, p);

        Verify($"LarsSgdUpdate {name} w", dw, w, Tol.Lars);
        Verify($"LarsSgdUpdate {name} v", dv, v, Tol.Lars);
        VerifyUnchanged($"LarsSgdUpdate {name} g", dg, g);
    }
}

[Collection(Backends.Cpu)]
public sealed class LarsConformanceCpu() : LarsConformance(Backends.Cpu);

[Collection(Backends.IlgpuCpu)]
public sealed class LarsConformanceIlgpuCpu() : LarsConformance(Backends.IlgpuCpu);

[Collection(Backends.Cuda)]
public sealed class LarsConformanceCuda() : LarsConformance(Backends.Cuda);

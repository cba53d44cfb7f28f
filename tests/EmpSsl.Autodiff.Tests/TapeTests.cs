using EmpSsl.Autodiff.Nn;
using EmpSsl.Kernels;

namespace EmpSsl.Autodiff.Tests;

/// <summary>The tape's bookkeeping: no-grad scopes, scalar roots, accumulation across steps, a pool that stops growing.</summary>
public abstract class TapeTests(string backend) : BackendTest(backend)
{
    [Fact]
    public void NoGradRecordsNothing()
    {
        var w = Leaf([3, 4], Random(12));
        var x = Leaf([2, 4], Random(8), requiresGrad: false);
        using (Tape.NoGrad())
        {
            var y = Tape.Relu(Tape.Linear(x, w, null));
            Assert.False(y.RequiresGrad);
            Assert.Equal(0, Tape.NodeCount);
        }
        var z = Tape.Linear(x, w, null);
        Assert.True(z.RequiresGrad);
        Assert.Equal(1, Tape.NodeCount);
        Tape.Reset();
        Assert.Equal(0, Tape.NodeCount);
    }

    [Fact]
    public void BackwardNeedsAScalarRoot()
    {
        var w = Leaf([3], Random(3));
        var y = Tape.Scale(w, 2f);
        var e = Assert.Throws<ShapeMismatchException>(() => Tape.Backward(y));
        Assert.Contains("scalar", e.Message);
        Tape.Reset();
    }

    [Fact]
    public void ParameterGradientsAccumulateAcrossBackwardsUntilZeroed()
    {
        var w = Leaf([5], Random(5));
        Tape.Backward(Tape.Sum(Tape.Scale(w, 3f)));
        Tape.Backward(Tape.Sum(Tape.Scale(w, 3f)));
        Tape.Reset();
        Assert.All(w.GradToHost(Kernels), g => Assert.Equal(6f, g));
        w.ZeroGrad(Kernels);
        Assert.All(w.GradToHost(Kernels), g => Assert.Equal(0f, g));
    }

    /// <summary>The model a steady-state step trains: a ResNet encoder, or a projector alone where kernels are slow.</summary>
    protected virtual (Module Model, int[] InputShape) StepModel()
        => (new Encoder(new Init(Kernels, 1), Stem.Cifar, 0.125, 3, ProjectorPreset.Paper, hidden: 16, output: 8), [4, 3, 8, 8]);

    [Fact]
    public void SteadyStateTrainingStepsAllocateNothingNew()
    {
        var (encoder, shape) = StepModel();
        var x = Leaf(shape, Random(shape.Aggregate(1, (a, d) => a * d)), requiresGrad: false);
        var allocations = new List<int>();
        for (int step = 0; step < 3; step++)
        {
            encoder.ZeroGrad(Kernels);
            var z = encoder is Encoder ? encoder.Forward(Tape, x) : Tape.L2Normalize(encoder.Forward(Tape, x));
            var terms = Objective.EmpSsl(Tape, z, 2);
            Tape.Backward(terms.Loss);
            Tape.Reset();
            allocations.Add(Tape.Pool.Allocations);
        }
        Assert.True(allocations[0] > 0);
        Assert.Equal(allocations[1], allocations[2]);
        Assert.Equal(allocations[0], allocations[1]);
    }
}

public sealed class TapeTestsCpu() : TapeTests("cpu");

public sealed class TapeTestsIlgpuCpu() : TapeTests("ilgpu-cpu")
{
    // A width-1/8 ResNet step takes about 50 s on ILGPU's CPU accelerator; the projector exercises the same pool.
    protected override (Module Model, int[] InputShape) StepModel()
        => (Projector.Create(new Init(Kernels, 1), ProjectorPreset.Official, 12, hidden: 16, output: 8), [4, 12]);
}

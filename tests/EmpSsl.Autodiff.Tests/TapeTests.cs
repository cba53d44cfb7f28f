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

    [Fact]
    public void SteadyStateTrainingStepsAllocateNothingNew()
    {
        var encoder = new Encoder(new Init(Kernels, 1), Stem.Cifar, 0.125, 3, ProjectorPreset.Paper, hidden: 16, output: 8);
        var x = Leaf([4, 3, 8, 8], Random(4 * 3 * 64), requiresGrad: false);
        var allocations = new List<int>();
        for (int step = 0; step < 3; step++)
        {
            encoder.ZeroGrad(Kernels);
            var terms = Objective.EmpSsl(Tape, encoder.Forward(Tape, x), 2);
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

public sealed class TapeTestsIlgpuCpu() : TapeTests("ilgpu-cpu");

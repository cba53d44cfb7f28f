namespace EmpSsl.Autodiff.Tests;

/// <summary>
/// The EMP-SSL objective against the formula in float64 (always on the d side, so the b side the tape takes
/// when b &lt; d is checked through Sylvester's identity), with 1, 2 and 20 views, b &lt; d and b &gt; d.
/// </summary>
public abstract class ObjectiveTests(string backend) : BackendTest(backend)
{
    [Theory]
    [InlineData(1, 4, 8)]
    [InlineData(2, 4, 8)]
    [InlineData(20, 4, 8)]
    [InlineData(1, 8, 4)]
    [InlineData(2, 8, 4)]
    [InlineData(20, 8, 4)]
    public void ValueAndTermsMatchTheFormula(int views, int b, int d)
    {
        var z = F64.L2Normalize(Random(views * b * d), views * b, d).Select(v => (double)(float)v).ToArray();
        var expected = F64.EmpSsl(z, views, d);
        var terms = Objective.EmpSsl(Tape, Leaf([views * b, d], z), views);
        double loss = terms.Loss.ToHost(Kernels)[0];
        double rate = terms.CodingRate.ToHost(Kernels)[0];
        double cosine = terms.Cosine.ToHost(Kernels)[0];
        Tape.Reset();
        Assertions.Close([expected.CodingRate], [rate], Tol.Objective, "coding rate");
        Assertions.Close([expected.Cosine], [cosine], Tol.Objective, "cosine");
        Assertions.Close([expected.Loss], [loss], Tol.Objective, "loss", scale: Objective.DefaultLambda);
        // The terms are not degenerate: R > 0, and cos is 1 exactly when there is a single view.
        Assert.True(rate > 0.1, $"coding rate {rate}");
        Assert.Equal(views == 1, Math.Abs(cosine - 1) < 1e-5);
    }

    [Theory]
    [InlineData(1, 3, 6)]
    [InlineData(2, 3, 6)]
    [InlineData(2, 6, 3)]
    [InlineData(3, 2, 5)]
    public void Gradient(int views, int b, int d)
    {
        CheckGradients(
            [new([views * b, d], Random(views * b * d))],
            (t, v) => Objective.EmpSsl(t, v[0], views).Loss,
            v => [F64.EmpSsl(v[0], views, d).Loss],
            Tol.NetworkGrad,
            forwardTol: Tol.Objective);
    }

    [Fact]
    public void BackwardKeepsTheRetainedTermsReadable()
    {
        var z = Leaf([4, 6], F64.L2Normalize(Random(24), 4, 6));
        var terms = Objective.EmpSsl(Tape, z, 2);
        float before = terms.Cosine.ToHost(Kernels)[0];
        Tape.Backward(terms.Loss);
        Assert.Equal(before, terms.Cosine.ToHost(Kernels)[0]);
        Assert.True(z.HasGrad);
        Tape.Reset();
    }
}

public sealed class ObjectiveTestsCpu() : ObjectiveTests("cpu");

public sealed class ObjectiveTestsIlgpuCpu() : ObjectiveTests("ilgpu-cpu");

namespace EmpSsl.Autodiff.Tests;

/// <summary>Relu, Add, Scale, AddScalar, Sum and Mean: forward and gradient against float64.</summary>
public abstract class ElementwiseOpTests(string backend) : BackendTest(backend)
{
    [Fact]
    public void Relu()
    {
        // Values kept away from the kink at 0, where the one-sided slopes differ.
        var x = Random(37).Select(v => v < 0 ? v - 0.05 : v + 0.05).ToArray();
        CheckGradients([new([37], x)], (t, v) => t.Relu(v[0]), v => F64.Relu(v[0]), Tol.Grad);
    }

    [Fact]
    public void ReluInPlace()
    {
        // Over a fresh Scale output (Scale's backward never reads it); the result shares that memory.
        var x = Random(29).Select(v => v < 0 ? v - 0.05 : v + 0.05).ToArray();
        CheckGradients(
            [new([29], x)],
            (t, v) =>
            {
                var scaled = t.Scale(v[0], 1.5f);
                var y = t.ReluInPlace(scaled);
                Assert.Same(scaled.Data.Buffer, y.Data.Buffer);
                return y;
            },
            v => F64.Relu(F64.Scale(v[0], 1.5)),
            Tol.Grad);
    }

    [Fact]
    public void Add()
    {
        CheckGradients([new([3, 5], Random(15)), new([3, 5], Random(15))], (t, v) => t.Add(v[0], v[1]), v => F64.Add(v[0], v[1]), Tol.Grad);
    }

    [Fact]
    public void AddRelu()
    {
        // Sums kept clear of the kink at 0, where the finite differences would straddle it.
        var a = Random(15);
        var b = Random(15).Select((v, i) => Math.Abs(a[i] + v) < 0.1 ? v + 0.25 : v).ToArray();
        CheckGradients([new([3, 5], a), new([3, 5], b)], (t, v) => t.AddRelu(v[0], v[1]), v => F64.Relu(F64.Add(v[0], v[1])), Tol.Grad);
    }

    [Fact]
    public void AddReluOfATensorToItself()
    {
        var x = Random(9).Select(v => v < 0 ? v - 0.05 : v + 0.05).ToArray();
        CheckGradients([new([9], x)], (t, v) => t.AddRelu(v[0], v[0]), v => F64.Relu(F64.Add(v[0], v[0])), Tol.Grad);
    }

    [Fact]
    public void AddOfATensorToItselfDoublesTheGradient()
    {
        CheckGradients([new([9], Random(9))], (t, v) => t.Add(v[0], v[0]), v => F64.Add(v[0], v[0]), Tol.Grad);
    }

    [Fact]
    public void Scale()
    {
        CheckGradients([new([17], Random(17))], (t, v) => t.Scale(v[0], -2.5f), v => F64.Scale(v[0], -2.5), Tol.Grad);
    }

    [Fact]
    public void AddScalar()
    {
        CheckGradients([new([11], Random(11))], (t, v) => t.AddScalar(v[0], 0.75f), v => v[0].Select(e => e + 0.75).ToArray(), Tol.Grad);
    }

    [Fact]
    public void Sum()
    {
        CheckGradients([new([4, 6], Random(24))], (t, v) => t.Sum(v[0]), v => [v[0].Sum()], Tol.Grad);
    }

    [Fact]
    public void Mean()
    {
        CheckGradients([new([33], Random(33))], (t, v) => t.Mean(v[0]), v => [v[0].Average()], Tol.Grad);
    }
}

public sealed class ElementwiseOpTestsCpu() : ElementwiseOpTests("cpu");

public sealed class ElementwiseOpTestsIlgpuCpu() : ElementwiseOpTests("ilgpu-cpu");

using EmpSsl.Kernels.Reference;
using EmpSsl.Testing;

namespace EmpSsl.Kernels.Tests;

/// <summary>
/// Elementwise ops on every length 0..70 (around Vector256 and Vector512 of floats, so every tail) plus a few
/// longer ones, on outputs poisoned with NaN inside guard bands, and with the aliasing the contract allows.
/// </summary>
public abstract class ElementwiseConformance(string backend) : BackendTest(backend)
{
    private IEnumerable<int> Lengths => Enumerable.Range(0, 71).Concat(Tiny ? [255, 1000] : [255, 256, 257, 1000, 4099, 100_003]);

    [SkippableFact]
    public void FillWritesEveryElement()
    {
        foreach (int n in Lengths)
        {
            var y = Out(n);
            K.Fill(y.Span, -3.5f);
            Verify($"Fill n={n}", y, Enumerable.Repeat(-3.5, n).ToArray(), Tol.Exact);
        }
    }

    [SkippableFact]
    public void CopyIsExact()
    {
        foreach (int n in Lengths)
        {
            var x = Seeded.Uniform(n, n);
            var y = Out(n);
            K.Copy(y.Span, In(x).Span);
            Verify($"Copy n={n}", y, Seeded.Widen(x), Tol.Exact);
        }
    }

    [SkippableFact]
    public void AddReluMatchesSpec()
        => BinaryMatchesSpec("AddRelu", 2000, 3000, (y, a, b) => K.AddRelu(y, a, b), (y, a, b) => Ref.AddRelu(y, a, b));

    [SkippableFact]
    public void AddMatchesSpec()
        => BinaryMatchesSpec("Add", 0, 1000, (y, a, b) => K.Add(y, a, b), (y, a, b) => Ref.Add(y, a, b));

    /// <summary>y = op(a, b) on every length, a and b seeded n + seedA and n + seedB, against the spec.</summary>
    private void BinaryMatchesSpec(string name, int seedA, int seedB, Action<DeviceSpan, DeviceSpan, DeviceSpan> op, Action<double[], double[], double[]> spec)
    {
        foreach (int n in Lengths)
        {
            var a = Seeded.Uniform(n + seedA, n);
            var b = Seeded.Uniform(n + seedB, n);
            var y = Out(n);
            op(y.Span, In(a).Span, In(b).Span);
            var expected = new double[n];
            spec(expected, Seeded.Widen(a), Seeded.Widen(b));
            Verify($"{name} n={n}", y, expected, Tol.Elementwise);
        }
    }

    [SkippableFact]
    public void AddInPlaceOnEitherOperand()
    {
        foreach (int n in new[] { 1, 17, 67 })
        {
            var a = Seeded.Uniform(n, n);
            var b = Seeded.Uniform(n + 1, n);
            var expected = new double[n];
            Ref.Add(expected, Seeded.Widen(a), Seeded.Widen(b));
            var da = In(a);
            K.Add(da.Span, da.Span, In(b).Span);
            Verify($"Add y=a n={n}", da, expected, Tol.Elementwise);
            var db = In(b);
            K.Add(db.Span, In(a).Span, db.Span);
            Verify($"Add y=b n={n}", db, expected, Tol.Elementwise);
        }
    }

    [SkippableFact]
    public void AxpyAccumulates()
    {
        foreach (int n in Lengths)
        {
            var x = Seeded.Uniform(n, n);
            var y0 = Seeded.Uniform(n + 7, n);
            var y = In(y0);
            K.Axpy(y.Span, In(x).Span, -0.75f);
            var expected = Seeded.Widen(y0);
            Ref.Axpy(expected, Seeded.Widen(x), -0.75f);
            Verify($"Axpy n={n}", y, expected, Tol.Elementwise);
        }
    }

    [SkippableFact]
    public void ScaleMatchesSpecAndMayAlias()
    {
        foreach (int n in Lengths)
        {
            var x = Seeded.Uniform(n, n);
            var expected = new double[n];
            Ref.Scale(expected, Seeded.Widen(x), 1.7f);
            var y = Out(n);
            K.Scale(y.Span, In(x).Span, 1.7f);
            Verify($"Scale n={n}", y, expected, Tol.Elementwise);
            var inPlace = In(x);
            K.Scale(inPlace.Span, inPlace.Span, 1.7f);
            Verify($"Scale in place n={n}", inPlace, expected, Tol.Elementwise);
        }
    }

    [SkippableFact]
    public void ReluForwardAndBackward()
    {
        foreach (int n in Lengths)
        {
            var x = Seeded.Uniform(n, n);
            // Exact zeros: relu'(0) is taken as 0, as PyTorch does (the backward tests y > 0).
            for (int i = 0; i < n; i += 5)
            {
                x[i] = 0f;
            }
            var dyData = Seeded.Uniform(n + 3, n);
            var y = Out(n);
            K.Relu(y.Span, In(x).Span);
            var yRef = new double[n];
            Ref.Relu(yRef, Seeded.Widen(x));
            Verify($"Relu n={n}", y, yRef, Tol.Exact);

            var dx = Out(n);
            K.ReluBackward(dx.Span, In(dyData).Span, y.Span);
            var dxRef = new double[n];
            Ref.ReluBackward(dxRef, Seeded.Widen(dyData), yRef);
            Verify($"ReluBackward n={n}", dx, dxRef, Tol.Exact);
        }
    }

    [SkippableFact]
    public void ReluMayAliasItsInput()
    {
        const int n = 67;
        var x = Seeded.Uniform(1, n);
        var dyData = Seeded.Uniform(2, n);
        var yRef = new double[n];
        Ref.Relu(yRef, Seeded.Widen(x));
        var dxRef = new double[n];
        Ref.ReluBackward(dxRef, Seeded.Widen(dyData), yRef);

        var y = In(x);
        K.Relu(y.Span, y.Span);
        Verify("Relu in place", y, yRef, Tol.Exact);
        var dy = In(dyData);
        K.ReluBackward(dy.Span, dy.Span, y.Span);
        Verify("ReluBackward dx=dy", dy, dxRef, Tol.Exact);
    }
}

[Collection(Backends.Cpu)]
public sealed class ElementwiseConformanceCpu() : ElementwiseConformance(Backends.Cpu);

[Collection(Backends.IlgpuCpu)]
public sealed class ElementwiseConformanceIlgpuCpu() : ElementwiseConformance(Backends.IlgpuCpu);

[Collection(Backends.Cuda)]
public sealed class ElementwiseConformanceCuda() : ElementwiseConformance(Backends.Cuda);

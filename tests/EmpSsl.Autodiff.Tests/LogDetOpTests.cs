namespace EmpSsl.Autodiff.Tests;

/// <summary>
/// AddIdentity and the batched Cholesky LogDet. LogDet's gradient is the symmetric A^{-1}, right for matrices
/// built symmetric, so it is checked through A = I + alpha X X^T as the coding rate builds it.
/// </summary>
public abstract class LogDetOpTests(string backend) : BackendTest(backend)
{
    [Fact]
    public void AddIdentity()
    {
        CheckGradients(
            [new([2, 3, 3], Random(18))],
            (t, v) => t.AddIdentity(v[0], 1.5f),
            v => v[0].Select((e, i) => i % 3 == (i / 3) % 3 ? e + 1.5 : e).ToArray(),
            Tol.Grad);
    }

    [Theory]
    [InlineData(1, 3, 5)]
    [InlineData(3, 4, 2)]
    public void LogDetOfIPlusXXt(int batch, int n, int k)
    {
        const double alpha = 0.8;
        CheckGradients(
            [new([batch * n, k], Random(batch * n * k))],
            (t, v) =>
            {
                var grams = t.Split(v[0], batch).Select(x => t.MatMul(x, x, transB: true, alpha: (float)alpha)).ToArray();
                return t.LogDet(t.AddIdentity(t.Reshape(t.Concat(grams), batch, n, n), 1f));
            },
            v =>
            {
                var a = new double[batch * n * n];
                for (int b = 0; b < batch; b++)
                {
                    var gram = F64.Gemm(v[0].Skip(b * n * k).Take(n * k).ToArray(), v[0].Skip(b * n * k).Take(n * k).ToArray(), n, n, k, transB: true, alpha: alpha);
                    for (int i = 0; i < n * n; i++)
                    {
                        a[b * n * n + i] = gram[i] + (i % (n + 1) == 0 ? 1 : 0);
                    }
                }
                return F64.LogDet(a, n, batch);
            },
            Tol.Grad);
    }
}

public sealed class LogDetOpTestsCpu() : LogDetOpTests("cpu");

public sealed class LogDetOpTestsIlgpuCpu() : LogDetOpTests("ilgpu-cpu");

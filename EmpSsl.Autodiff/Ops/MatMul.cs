using EmpSsl.Kernels;

namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// y (M, N) = alpha op(a) op(b), where op transposes when asked: a is (M, K) or (K, M) when transA,
    /// b is (K, N) or (N, K) when transB. Backward, with G = dy:
    /// d op(a) = alpha G op(b)^T and d op(b) = alpha op(a)^T G, each written in a's and b's stored layout.
    /// </summary>
    public Tensor MatMul(Tensor a, Tensor b, bool transA = false, bool transB = false, float alpha = 1f)
    {
        Require(a.Rank == 2 && b.Rank == 2, "MatMul", $"needs matrices, got {a.Describe()} and {b.Describe()}");
        int m = transA ? a.Dim(1) : a.Dim(0);
        int k = transA ? a.Dim(0) : a.Dim(1);
        int kb = transB ? b.Dim(1) : b.Dim(0);
        int n = transB ? b.Dim(0) : b.Dim(1);
        Require(k == kb, "MatMul", $"inner sizes differ: {a.Describe()}{(transA ? "^T" : "")} times {b.Describe()}{(transB ? "^T" : "")}");
        var y = NewTensor([m, n], a, b);
        K.Gemm(y.Data, a.Data, b.Data, new GemmShape(m, n, k, transA, transB, alpha));
        Record(y, () =>
        {
            if (a.RequiresGrad)
            {
                var da = GradToWrite(a, out var temp);
                if (!transA)
                {
                    // da (M, K) = G (M, N) op(b)^T: op(b)^T is b itself when transB, else b^T.
                    K.Gemm(da, y.Grad, b.Data, new GemmShape(m, k, n, false, !transB, alpha));
                }
                else
                {
                    // da (K, M) = op(b) (K, N) G^T.
                    K.Gemm(da, b.Data, y.Grad, new GemmShape(k, m, n, transB, true, alpha));
                }
                CommitGrad(a, temp);
            }
            if (b.RequiresGrad)
            {
                var db = GradToWrite(b, out var temp);
                if (!transB)
                {
                    // db (K, N) = op(a)^T (K, M) G.
                    K.Gemm(db, a.Data, y.Grad, new GemmShape(k, n, m, !transA, false, alpha));
                }
                else
                {
                    // db (N, K) = G^T (N, M) op(a) (M, K).
                    K.Gemm(db, y.Grad, a.Data, new GemmShape(n, k, m, true, transA, alpha));
                }
                CommitGrad(b, temp);
            }
        });
        return y;
    }
}

namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// y (batch) = log det of each symmetric positive definite a (batch, n, n), by Cholesky (only the lower
    /// triangle is read). Backward: da_b = dy_b A_b^{-1}, the symmetric form of the gradient (A^{-T} = A^{-1}),
    /// which is right when a is built symmetric (I + alpha Z Z^T). A^{-1} comes from CholeskySolve against I.
    /// </summary>
    public Tensor LogDet(Tensor a)
    {
        Require(a.Rank == 3 && a.Dim(1) == a.Dim(2), "LogDet", $"needs (batch, n, n), got {a.Describe()}");
        int batch = a.Dim(0);
        int n = a.Dim(1);
        var y = NewTensor([batch], a);
        var l = Scratch(a.Length);
        K.Cholesky(l.Data, y.Data, a.Data, n, batch);
        Record(y, () =>
        {
            var da = GradToWrite(a, out var temp);
            K.Fill(da, 0f);
            K.AddDiagonal(da, 1f, n, batch);
            K.CholeskySolve(da, l.Data, da, n, n, batch);
            K.RowScale(da, da, y.Grad, batch, n * n);
            CommitGrad(a, temp);
        }, l);
        return y;
    }
}

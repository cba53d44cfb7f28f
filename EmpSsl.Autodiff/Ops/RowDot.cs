namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>y (rows) = row-wise dot products of a and b (rows, cols). Backward: da = dy_r b_r, db = dy_r a_r.</summary>
    public Tensor RowDot(Tensor a, Tensor b)
    {
        Require(a.Rank == 2 && a.Shape.AsSpan().SequenceEqual(b.Shape), "RowDot", $"needs two equal (rows, cols), got {a.Describe()} and {b.Describe()}");
        int rows = a.Dim(0);
        int cols = a.Dim(1);
        var y = NewTensor([rows], a, b);
        K.RowDot(y.Data, a.Data, b.Data, rows, cols);
        Record(y, () =>
        {
            if (a.RequiresGrad)
            {
                var da = GradToWrite(a, out var temp);
                K.RowScale(da, b.Data, y.Grad, rows, cols);
                CommitGrad(a, temp);
            }
            if (b.RequiresGrad)
            {
                var db = GradToWrite(b, out var temp);
                K.RowScale(db, a.Data, y.Grad, rows, cols);
                CommitGrad(b, temp);
            }
        });
        return y;
    }
}

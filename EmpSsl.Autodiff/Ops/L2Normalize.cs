namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// y (rows, cols) = x / max(|x_row|, eps), as torch.nn.functional.normalize(dim=1) with its default eps.
    /// Backward by the kernel, from the saved output and row norms.
    /// </summary>
    public Tensor L2Normalize(Tensor x, float eps = 1e-12f)
    {
        Require(x.Rank == 2, "L2Normalize", $"needs (rows, cols), got {x.Describe()}");
        int rows = x.Dim(0);
        int cols = x.Dim(1);
        var y = NewTensor(x.Shape, x);
        var norms = Scratch(rows);
        K.L2NormalizeRows(y.Data, norms.Data, x.Data, rows, cols, eps);
        Record(y, () =>
        {
            var dx = GradToWrite(x, out var temp);
            K.L2NormalizeRowsBackward(dx, y.Grad, y.Data, norms.Data, rows, cols, eps);
            CommitGrad(x, temp);
        }, norms);
        return y;
    }
}

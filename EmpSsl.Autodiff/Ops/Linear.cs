using EmpSsl.Kernels;

namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// y (B, Out) = x (B, In) w^T + bias, with w (Out, In) as torch.nn.Linear stores it.
    /// Backward: dx = dy w (written); dw += dy^T x; dbias += column sums of dy.
    /// </summary>
    public Tensor Linear(Tensor x, Tensor w, Tensor? bias)
    {
        Require(x.Rank == 2 && w.Rank == 2 && x.Dim(1) == w.Dim(1), "Linear", $"x {x.Describe()} does not fit weight {w.Describe()}");
        int rows = x.Dim(0);
        int inF = w.Dim(1);
        int outF = w.Dim(0);
        Require(bias is null || bias.Length == outF, "Linear", $"bias {bias?.Describe()} does not fit weight {w.Describe()}");
        var y = bias is null ? NewTensor([rows, outF], x, w) : NewTensor([rows, outF], x, w, bias);
        K.Gemm(y.Data, x.Data, w.Data, new GemmShape(rows, outF, inF, TransB: true));
        if (bias is not null)
        {
            K.AddBias(y.Data, bias.Data, rows, outF);
        }
        Record(y, () =>
        {
            if (x.RequiresGrad)
            {
                var dx = GradToWrite(x, out var temp);
                K.Gemm(dx, y.Grad, w.Data, new GemmShape(rows, inF, outF));
                CommitGrad(x, temp);
            }
            if (w.RequiresGrad)
            {
                K.Gemm(GradToAccumulate(w), y.Grad, x.Data, new GemmShape(outF, inF, rows, TransA: true, Beta: 1f));
            }
            if (bias is not null && bias.RequiresGrad)
            {
                K.ColumnSum(GradToAccumulate(bias), y.Grad, rows, outF);
            }
        });
        return y;
    }
}

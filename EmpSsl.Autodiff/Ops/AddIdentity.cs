namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>y (batch, n, n) = x + value I for each matrix. Backward: dx = dy.</summary>
    public Tensor AddIdentity(Tensor x, float value)
    {
        Require(x.Rank == 3 && x.Dim(1) == x.Dim(2), "AddIdentity", $"needs (batch, n, n), got {x.Describe()}");
        var y = NewTensor(x.Shape, x);
        K.Copy(y.Data, x.Data);
        K.AddDiagonal(y.Data, value, x.Dim(1), x.Dim(0));
        Record(y, () => AccumulateGrad(x, y.Grad));
        return y;
    }
}

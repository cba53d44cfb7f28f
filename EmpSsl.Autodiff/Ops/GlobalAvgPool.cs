namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>y (N, C) = mean over H, W of x (N, C, H, W). Backward: dx = dy / (H W) on every position.</summary>
    public Tensor GlobalAvgPool(Tensor x)
    {
        Require(x.Rank == 4, "GlobalAvgPool", $"needs (N, C, H, W), got {x.Describe()}");
        int planes = x.Dim(0) * x.Dim(1);
        int hw = x.Dim(2) * x.Dim(3);
        var y = NewTensor([x.Dim(0), x.Dim(1)], x);
        K.GlobalAvgPoolForward(y.Data, x.Data, planes, hw);
        Record(y, () =>
        {
            var dx = GradToWrite(x, out var temp);
            K.GlobalAvgPoolBackward(dx, y.Grad, planes, hw);
            CommitGrad(x, temp);
        });
        return y;
    }
}

using EmpSsl.Kernels;

namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>y (N, C, OH, OW) = max over each window of x (N, C, H, W). Backward routes dy to each window's argmax.</summary>
    public Tensor MaxPool2d(Tensor x, int kernel, int stride, int pad)
    {
        Require(x.Rank == 4, "MaxPool2d", $"needs (N, C, H, W), got {x.Describe()}");
        var s = new PoolShape(x.Dim(0) * x.Dim(1), x.Dim(2), x.Dim(3), kernel, stride, pad);
        var y = NewTensor([x.Dim(0), x.Dim(1), s.OutH, s.OutW], x);
        K.MaxPool2dForward(y.Data, x.Data, s);
        Record(y, () =>
        {
            var dx = GradToWrite(x, out var temp);
            K.MaxPool2dBackward(dx, y.Grad, x.Data, y.Data, s);
            CommitGrad(x, temp);
        });
        return y;
    }
}

using EmpSsl.Kernels;

namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// y (N, K, OH, OW) = conv(x (N, C, H, W), w (K, C, R, R)), no bias. Backward: dx written (skipped when
    /// x needs no gradient, as for the input images), or added by the kernel where x already has a gradient (a
    /// residual block's input, after its shortcut's); dw accumulated.
    /// </summary>
    public Tensor Conv2d(Tensor x, Tensor w, int stride, int pad)
    {
        Require(x.Rank == 4 && w.Rank == 4 && w.Dim(2) == w.Dim(3) && x.Dim(1) == w.Dim(1), "Conv2d",
            $"x {x.Describe()} (N, C, H, W) does not fit weight {w.Describe()} (K, C, R, R)");
        var s = new Conv2dShape(x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3), w.Dim(0), w.Dim(2), stride, pad);
        var y = NewTensor([s.N, s.K, s.OutH, s.OutW], x, w);
        K.Conv2dForward(y.Data, x.Data, w.Data, s);
        Record(y, () =>
        {
            if (x.RequiresGrad)
            {
                bool accumulate = x.HasGrad;
                K.Conv2dBackwardData(accumulate ? x.Grad : GradToWrite(x, out _), y.Grad, w.Data, s, accumulate);
            }
            if (w.RequiresGrad)
            {
                K.Conv2dBackwardWeight(GradToAccumulate(w), y.Grad, x.Data, s);
            }
        });
        return y;
    }
}

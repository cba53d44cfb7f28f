namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>y = alpha * x. Backward: dx = alpha * dy.</summary>
    public Tensor Scale(Tensor x, float alpha)
    {
        var y = NewTensor(x.Shape, x);
        K.Scale(y.Data, x.Data, alpha);
        Record(y, () =>
        {
            var dx = GradToWrite(x, out var temp);
            K.Scale(dx, y.Grad, alpha);
            CommitGrad(x, temp);
        });
        return y;
    }
}

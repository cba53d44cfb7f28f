namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>y (1) = sum of x. Backward: dx = dy broadcast, as RowScale of a ones row by the device scalar dy.</summary>
    public Tensor Sum(Tensor x) => SumScaled(x, 1f);

    /// <summary>y (1) = scale * sum of x; Sum and Mean share it.</summary>
    private Tensor SumScaled(Tensor x, float scale)
    {
        var y = NewTensor([1], x);
        K.Sum(y.Data, x.Data);
        if (scale != 1f)
        {
            K.Scale(y.Data, y.Data, scale);
        }
        if (!y.RequiresGrad)
        {
            return y;
        }
        // The broadcast row holds the scale, so the backward is one RowScale with the device scalar dy.
        var row = Constant(x.Length, scale);
        Record(y, () =>
        {
            var dx = GradToWrite(x, out var temp);
            K.RowScale(dx, row.Data, y.Grad, 1, x.Length);
            CommitGrad(x, temp);
        }, row);
        return y;
    }
}

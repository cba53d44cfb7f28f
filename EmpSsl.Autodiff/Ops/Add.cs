namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>y = a + b, same shape (the residual connection). Backward: da = dy, db = dy.</summary>
    public Tensor Add(Tensor a, Tensor b)
    {
        Require(a.Length == b.Length, "Add", $"{a.Describe()} and {b.Describe()} differ in size");
        var y = NewTensor(a.Shape, a, b);
        K.Add(y.Data, a.Data, b.Data);
        Record(y, () =>
        {
            if (a.RequiresGrad)
            {
                AccumulateGrad(a, y.Grad);
            }
            if (b.RequiresGrad)
            {
                AccumulateGrad(b, y.Grad);
            }
        });
        return y;
    }
}

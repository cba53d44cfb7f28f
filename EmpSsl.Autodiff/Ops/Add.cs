namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// y = a + b, same shape (the residual connection). Backward: db += dy, then da = dy by taking over dy's buffer
    /// where a has no gradient yet (<see cref="PassGrad"/>), which saves a copy per residual block.
    /// </summary>
    public Tensor Add(Tensor a, Tensor b)
    {
        Require(a.Length == b.Length, "Add", $"{a.Describe()} and {b.Describe()} differ in size");
        var y = NewTensor(a.Shape, a, b);
        K.Add(y.Data, a.Data, b.Data);
        Record(y, () => AddBackward(a, b, y));
        return y;
    }

    /// <summary>db += dy, then da = dy, passed on (y's gradient is gone after).</summary>
    private void AddBackward(Tensor a, Tensor b, Tensor y)
    {
        if (b.RequiresGrad)
        {
            AccumulateGrad(b, y.Grad);
        }
        if (a.RequiresGrad)
        {
            PassGrad(a, y);
        }
    }
}

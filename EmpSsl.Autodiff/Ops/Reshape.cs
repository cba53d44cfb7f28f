namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>A view of x with another shape and the same elements; no copy. Backward: dx += dy.</summary>
    public Tensor Reshape(Tensor x, params int[] shape)
    {
        Require(Tensor.ShapeLength(shape) == x.Length, "Reshape", $"{x.Describe()} cannot become {Show(shape)}");
        var y = NewView((int[])shape.Clone(), x.Data, x);
        Record(y, () => AccumulateGrad(x, y.Grad));
        return y;
    }
}

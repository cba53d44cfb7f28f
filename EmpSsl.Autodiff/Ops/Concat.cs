namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// y = the inputs stacked along the batch axis (every other axis equal). Backward: each input's
    /// gradient gets its window of dy.
    /// </summary>
    public Tensor Concat(params Tensor[] xs)
    {
        Require(xs.Length > 0, "Concat", "needs at least one tensor");
        int rows = 0;
        foreach (var x in xs)
        {
            Require(x.Rank == xs[0].Rank && x.Shape.AsSpan(1).SequenceEqual(xs[0].Shape.AsSpan(1)), "Concat",
                $"{x.Describe()} does not stack with {xs[0].Describe()}");
            rows += x.Dim(0);
        }
        var shape = (int[])xs[0].Shape.Clone();
        shape[0] = rows;
        var y = NewTensor(shape, xs);
        int offset = 0;
        foreach (var x in xs)
        {
            K.Copy(y.Data.Slice(offset, x.Length), x.Data);
            offset += x.Length;
        }
        Record(y, () =>
        {
            int at = 0;
            foreach (var x in xs)
            {
                if (x.RequiresGrad)
                {
                    AccumulateGrad(x, y.Grad.Slice(at, x.Length));
                }
                at += x.Length;
            }
        });
        return y;
    }
}

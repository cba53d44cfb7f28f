namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// Rows [start, start + count) of x along the batch axis: a view, no copy.
    /// Backward: dy is added into that window of x's gradient (zero-filled first if x had none).
    /// </summary>
    public Tensor Slice(Tensor x, int start, int count)
    {
        Require(start >= 0 && count > 0 && start + count <= x.Dim(0), "Slice", $"rows [{start}, {start + count}) of {x.Describe()}");
        int row = x.Length / x.Dim(0);
        var shape = (int[])x.Shape.Clone();
        shape[0] = count;
        var y = NewView(shape, x.Data.Slice(start * row, count * row), x);
        Record(y, () =>
        {
            var window = GradToAccumulate(x).Slice(start * row, count * row);
            K.Add(window, window, y.Grad);
        });
        return y;
    }
}

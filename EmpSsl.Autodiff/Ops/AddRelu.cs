namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// y = max(a + b, 0), a residual block's output, in one sweep where Add then ReluInPlace made two. Backward: the
    /// ReLU's mask applied over dy in its own buffer, then as <see cref="Add"/>: db += dz, da = dz (passed on).
    /// </summary>
    public Tensor AddRelu(Tensor a, Tensor b)
    {
        Require(a.Length == b.Length, "AddRelu", $"{a.Describe()} and {b.Describe()} differ in size");
        var y = NewTensor(a.Shape, a, b);
        K.AddRelu(y.Data, a.Data, b.Data);
        Record(y, () =>
        {
            // y's gradient has no reader after this node, so the mask may overwrite it.
            K.ReluBackward(y.Grad, y.Grad, y.Data);
            AddBackward(a, b, y);
        });
        return y;
    }
}

namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>y = max(x, 0). Backward: dx = dy where y &gt; 0, from the saved output.</summary>
    public Tensor Relu(Tensor x)
    {
        var y = NewTensor(x.Shape, x);
        K.Relu(y.Data, x.Data);
        Record(y, () =>
        {
            var dx = GradToWrite(x, out var temp);
            K.ReluBackward(dx, y.Grad, y.Data);
            CommitGrad(x, temp);
        });
        return y;
    }
}

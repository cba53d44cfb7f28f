namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// y = max(x, 0) written over x's memory, saving one activation: y is a view of x, and x's values are gone.
    /// Only for an x whose producer's backward does not read its own output (BatchNorm and Add qualify;
    /// Relu, L2Normalize and MaxPool2d do not) and which nothing else reads. Backward as <see cref="Relu"/>.
    /// </summary>
    public Tensor ReluInPlace(Tensor x)
    {
        var y = NewView(x.Shape, x.Data, x);
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

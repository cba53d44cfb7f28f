namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>y = x + c elementwise. Backward: dx = dy.</summary>
    public Tensor AddScalar(Tensor x, float c)
    {
        var y = NewTensor(x.Shape, x);
        K.Fill(y.Data, c);
        K.Add(y.Data, y.Data, x.Data);
        Record(y, () => AccumulateGrad(x, y.Grad));
        return y;
    }
}

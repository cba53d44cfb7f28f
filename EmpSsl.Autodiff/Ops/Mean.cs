namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>y (1) = mean of x. Backward: dx = dy / length (see <see cref="Sum"/>).</summary>
    public Tensor Mean(Tensor x) => SumScaled(x, 1f / x.Length);
}

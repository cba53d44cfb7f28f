namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>x cut into <paramref name="parts"/> equal views along the batch axis (see <see cref="Slice"/>).</summary>
    public Tensor[] Split(Tensor x, int parts)
    {
        Require(parts > 0 && x.Dim(0) % parts == 0, "Split", $"{x.Describe()} does not split into {parts} equal parts");
        int rows = x.Dim(0) / parts;
        var result = new Tensor[parts];
        for (int i = 0; i < parts; i++)
        {
            result[i] = Slice(x, i * rows, rows);
        }
        return result;
    }
}

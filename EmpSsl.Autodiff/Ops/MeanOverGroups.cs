namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// y (b, ...) = mean over i of x's group i, where x (groups*b, ...) is group-major: rows i*b .. i*b+b-1
    /// are group i (crop i of every image). Backward: every group's dx = dy / groups.
    /// </summary>
    public Tensor MeanOverGroups(Tensor x, int groups)
    {
        Require(groups > 0 && x.Dim(0) % groups == 0, "MeanOverGroups", $"{x.Describe()} does not hold {groups} equal groups");
        var shape = (int[])x.Shape.Clone();
        shape[0] /= groups;
        var y = NewTensor(shape, x);
        int len = y.Length;
        K.Copy(y.Data, x.Data.Slice(0, len));
        for (int i = 1; i < groups; i++)
        {
            K.Add(y.Data, y.Data, x.Data.Slice(i * len, len));
        }
        K.Scale(y.Data, y.Data, 1f / groups);
        Record(y, () =>
        {
            var dx = GradToWrite(x, out var temp);
            for (int i = 0; i < groups; i++)
            {
                K.Scale(dx.Slice(i * len, len), y.Grad, 1f / groups);
            }
            CommitGrad(x, temp);
        });
        return y;
    }
}

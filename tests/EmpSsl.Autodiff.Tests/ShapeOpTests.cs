namespace EmpSsl.Autodiff.Tests;

/// <summary>Reshape, Slice, Split, Concat and MeanOverGroups along the batch axis.</summary>
public abstract class ShapeOpTests(string backend) : BackendTest(backend)
{
    [Fact]
    public void ReshapeIsAViewWithTheSameMemory()
    {
        var x = Leaf([2, 6], Random(12));
        var y = Tape.Reshape(x, 3, 4);
        Assert.Equal([3, 4], y.Shape);
        Assert.Same(x.Data.Buffer, y.Data.Buffer);
        Assert.Equal(x.Data.Offset, y.Data.Offset);
        Tape.Reset();
    }

    [Fact]
    public void Reshape()
    {
        // Relu after the reshape makes the gradient depend on where each element went.
        var x = Random(12).Select(v => v < 0 ? v - 0.05 : v + 0.05).ToArray();
        CheckGradients([new([2, 6], x)], (t, v) => t.Relu(t.Reshape(v[0], 4, 3)), v => F64.Relu(v[0]), Tol.Grad);
    }

    [Fact]
    public void Slice()
    {
        CheckGradients(
            [new([5, 3], Random(15))],
            (t, v) => t.Scale(t.Slice(v[0], 1, 3), 2f),
            v => F64.Scale(v[0].Skip(3).Take(9).ToArray(), 2),
            Tol.Grad);
    }

    [Fact]
    public void SplitThenRecombine()
    {
        // Part 1 is used twice and part 2 not at all: the gradient must be 2x, 1x and 0 on the three windows.
        CheckGradients(
            [new([6, 2], Random(12))],
            (t, v) =>
            {
                var parts = t.Split(v[0], 3);
                return t.Concat(parts[0], parts[1], parts[1]);
            },
            v => v[0].Take(4).Concat(v[0].Skip(4).Take(4)).Concat(v[0].Skip(4).Take(4)).ToArray(),
            Tol.Grad);
    }

    [Fact]
    public void Concat()
    {
        CheckGradients(
            [new([2, 3], Random(6)), new([1, 3], Random(3)), new([3, 3], Random(9))],
            (t, v) => t.Concat(v[0], v[1], v[2]),
            v => v[0].Concat(v[1]).Concat(v[2]).ToArray(),
            Tol.Grad);
    }

    [Fact]
    public void MeanOverGroups()
    {
        CheckGradients(
            [new([4 * 3, 5], Random(60))],
            (t, v) => t.MeanOverGroups(v[0], 4),
            v => F64.MeanOverGroups(v[0], 4),
            Tol.Grad);
    }
}

public sealed class ShapeOpTestsCpu() : ShapeOpTests("cpu");

public sealed class ShapeOpTestsIlgpuCpu() : ShapeOpTests("ilgpu-cpu");

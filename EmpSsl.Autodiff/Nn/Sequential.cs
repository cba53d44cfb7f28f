namespace EmpSsl.Autodiff.Nn;

/// <summary>torch.nn.Sequential: children named "0", "1", ... run in order.</summary>
public sealed class Sequential : Module
{
    private readonly List<Module> _layers = new();

    public Sequential(params Module[] layers)
    {
        foreach (var layer in layers)
        {
            _layers.Add(Child(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer));
        }
    }

    public IReadOnlyList<Module> Layers => _layers;

    public override Tensor Forward(Tape tape, Tensor x)
    {
        foreach (var layer in _layers)
        {
            x = layer.Forward(tape, x);
        }
        return x;
    }
}

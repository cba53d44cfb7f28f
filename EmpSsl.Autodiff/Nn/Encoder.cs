namespace EmpSsl.Autodiff.Nn;

/// <summary>
/// Backbone plus projector, as trained by EMP-SSL: h = ResNet(x), z = normalize(projector(h)).
/// The backbone's keys sit at the root (conv1.weight, ...) and the projector's under "projector.".
/// </summary>
public sealed class Encoder : Module
{
    public Encoder(Init init, Stem stem, double width, int inChannels, ProjectorPreset preset, int? hidden = null, int? output = null)
    {
        Backbone = Child("", new ResNet(init, stem, width, inChannels));
        Projector = Child("projector", Nn.Projector.Create(init, preset, Backbone.FeatureSize, hidden, output));
        NameTensors();
    }

    public ResNet Backbone { get; }

    public Sequential Projector { get; }

    /// <summary>The L2-normalized projection z.</summary>
    public override Tensor Forward(Tape tape, Tensor x) => Encode(tape, x).Z;

    /// <summary>h (the pooled feature, for probes) and z (normalized projection, for the objective).</summary>
    public (Tensor H, Tensor Z) Encode(Tape tape, Tensor x)
    {
        var h = Backbone.Forward(tape, x);
        var z = tape.L2Normalize(Projector.Forward(tape, h));
        return (h, z);
    }
}

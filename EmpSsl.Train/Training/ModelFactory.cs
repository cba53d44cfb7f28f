using EmpSsl.Autodiff.Nn;
using EmpSsl.Kernels;

namespace EmpSsl.Train.Training;

/// <summary>Builds the encoder a configuration names, initialized from its seed as PyTorch would.</summary>
public static class ModelFactory
{
    public static Encoder Build(IKernels k, TrainConfig c, int channels, int seedOffset = 0)
    {
        if (c.Arch != "resnet18")
        {
            throw new ArgumentException($"unknown --arch '{c.Arch}'; only resnet18 is built");
        }
        var stem = c.Stem switch
        {
            "cifar" => Stem.Cifar,
            "imagenet" => Stem.ImageNet,
            _ => throw new ArgumentException($"unknown --stem '{c.Stem}'; expected cifar or imagenet"),
        };
        var preset = c.Projector switch
        {
            "paper" => ProjectorPreset.Paper,
            "official" => ProjectorPreset.Official,
            _ => throw new ArgumentException($"unknown --projector '{c.Projector}'; expected paper or official"),
        };
        return new Encoder(new Init(k, c.Seed + seedOffset), stem, c.Width, channels, preset, c.Hidden, c.ProjectorOut);
    }
}

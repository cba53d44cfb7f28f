using System.Text.Json;
using System.Text.Json.Serialization;

namespace EmpSsl.Train;

/// <summary>
/// Everything that defines a run. A preset fills it; every command-line option overrides one field. It travels
/// inside checkpoints (as JSON metadata), so `--resume` rebuilds the same model, data order and schedule.
/// </summary>
public sealed record TrainConfig
{
    public string Preset { get; init; } = "fmnist-cpu";

    /// <summary>fmnist, mnist, cifar10, cifar100 or folder.</summary>
    public string Dataset { get; init; } = "fmnist";

    /// <summary>Where the dataset's files are; null finds Fashion-MNIST from the Debian package.</summary>
    public string? DataDir { get; init; }

    /// <summary>Side images of a folder dataset are resized to.</summary>
    public int ImageSize { get; init; } = 64;

    public string Arch { get; init; } = "resnet18";

    /// <summary>Channel multiplier: 1 is torchvision's ResNet-18 (64..512 channels).</summary>
    public double Width { get; init; } = 1.0;

    /// <summary>cifar (3x3 stride 1, no maxpool) or imagenet (7x7 stride 2, maxpool).</summary>
    public string Stem { get; init; } = "cifar";

    /// <summary>Fraction of the image each crop covers (RandomResizedCrop scale (s, s), ratio 1).</summary>
    public double CropScale { get; init; } = 0.25;

    /// <summary>Side of the crops the network sees, after the bilinear resize.</summary>
    public int CropSize { get; init; } = 32;

    /// <summary>n: crops per image per step.</summary>
    public int Patches { get; init; } = 20;

    public int Batch { get; init; } = 100;

    /// <summary>Views per chunk of the two-pass, memory-bounded step (0: one pass holding every crop's activations).</summary>
    public int ChunkViews { get; init; }

    public int Epochs { get; init; } = 1;

    /// <summary>Convolutions on CUDA's tensor cores in TF32, as PyTorch does by default (off: fp32 everywhere).</summary>
    public bool Tf32 { get; init; }

    /// <summary>
    /// The cpu device's KxK convolution path: auto (Winograd F(4x4, 3x3) on 3x3 stride-1 layers with 64 or more
    /// channels and planes of 4x4 or more, F(4x4, 2x2) over x's phases on 3x3 stride-2 ones with 64 or more channels
    /// and 128 or more output tiles, where each measured faster; about 3e-6 relative error), or one pinned: gemm,
    /// direct, winograd or polyphase. Other devices take only auto.
    /// </summary>
    public string CpuConv { get; init; } = "auto";

    /// <summary>Stop after this many steps (0: all epochs); the schedule still spans the epochs.</summary>
    public int MaxSteps { get; init; }

    public float Lr { get; init; } = 0.3f;

    public int WarmupSteps { get; init; }

    public float Momentum { get; init; } = 0.9f;

    public float WeightDecay { get; init; } = 1e-4f;

    public float Eta { get; init; } = 0.005f;

    public float Lambda { get; init; } = 200f;

    /// <summary>The official code's eps (the paper's eps^2): R(Z) = 1/2 logdet(I + d/(b eps) Z^T Z).</summary>
    public float Eps { get; init; } = 0.2f;

    /// <summary>paper (feat -> hidden -> out) or official (feat -> hidden -> hidden -> out).</summary>
    public string Projector { get; init; } = "official";

    public int Hidden { get; init; } = 4096;

    public int ProjectorOut { get; init; } = 1024;

    public int Seed { get; init; }

    /// <summary>Save a checkpoint every this many steps as well as at each epoch's end (0: epochs only).</summary>
    public int SaveEvery { get; init; }

    /// <summary>Crops averaged into each evaluation embedding (bag of features); 0 uses the whole image once, unresized.</summary>
    public int EvalCrops { get; init; } = 128;

    /// <summary>h (the backbone's pooled feature) or proj (the first projector block's output, as the official code).</summary>
    public string EvalFeature { get; init; } = "h";

    public int ProbeEpochs { get; init; } = 100;

    public int KnnK { get; init; } = 20;

    public float KnnTemperature { get; init; } = 0.07f;

    public string ToJson() => JsonSerializer.Serialize(this, ConfigJson.Default.TrainConfig);

    public static TrainConfig FromJson(string json, string source) =>
        JsonSerializer.Deserialize(json, ConfigJson.Default.TrainConfig)
        ?? throw new InvalidDataException($"{source}: the run configuration is empty");
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(TrainConfig))]
internal sealed partial class ConfigJson : JsonSerializerContext;

namespace EmpSsl.Train;

/// <summary>Named starting points; any option on the command line overrides a preset's field.</summary>
public static class Presets
{
    // Fashion-MNIST on a 2-core CPU in at most 15 minutes, training and evaluation together: 14x14 crops at
    // native resolution (a quarter of the image), ResNet-18 at 1/4 width, n = 10 (about 1,000 crops/s here
    // with the direct convolution, so 600k crops take about 10 minutes), evaluated on the whole 28x28 image.
    // Linear probe 86.8%, kNN 85.3%, 12 min 06 s (docs/BENCHMARKS.md).
    private static readonly TrainConfig FmnistCpu = new()
    {
        Preset = "fmnist-cpu",
        Dataset = "fmnist",
        Width = 0.25,
        CropScale = 0.25,
        CropSize = 14,
        Patches = 10,
        Batch = 100,
        Epochs = 1,
        Projector = "paper",
        Hidden = 4096,
        ProjectorOut = 512,
        EvalCrops = 0,
        EvalFeature = "h",
    };

    public static readonly IReadOnlyDictionary<string, TrainConfig> All = new Dictionary<string, TrainConfig>
    {
        // The paper's CIFAR-10 setting: ResNet-18, 16x16 crops (scale .25) up to 32x32, n = 20, batch 100,
        // official projector, LARS lr .3, 128-crop bag-of-features evaluation.
        ["paper-cifar10"] = new TrainConfig
        {
            Preset = "paper-cifar10",
            Dataset = "cifar10",
            Width = 1.0,
            CropScale = 0.25,
            CropSize = 32,
            Patches = 20,
            Batch = 100,
            Epochs = 1,
            Projector = "official",
            Hidden = 4096,
            ProjectorOut = 1024,
            EvalCrops = 128,
        },
        ["fmnist-cpu"] = FmnistCpu,
        // The same at 1/2 width (h is 256-d) with n = 4: linear probe 88.2%, the issue's goal, but 17 minutes on
        // the 2-core machine (training 633 s, evaluation 400 s, most of it embedding 2 x 70,000 whole images).
        // Fewer crops at this width lose the gain: n = 3 gave 86.7% (15:50), n = 2 80.8%, below the control.
        ["fmnist-cpu-wide"] = FmnistCpu with { Preset = "fmnist-cpu-wide", Width = 0.5, Patches = 4 },
        // With a GPU: the full-width ResNet-18 and n = 20. On one H100: linear probe 91.0%, kNN 87.5%, training
        // 66 s and evaluation 62 s (docs/BENCHMARKS.md); on the 2-core CPU this would take many hours.
        ["fmnist-gpu"] = FmnistCpu with { Preset = "fmnist-gpu", Width = 1.0, Patches = 20 },
    };

    public static TrainConfig Get(string name) =>
        All.TryGetValue(name, out var config)
            ? config
            : throw new ArgumentException($"unknown preset '{name}'; the presets are: {string.Join(", ", All.Keys)}");
}

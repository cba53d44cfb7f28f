namespace EmpSsl.Train;

/// <summary>Named starting points; any option on the command line overrides a preset's field.</summary>
public static class Presets
{
    // Fashion-MNIST on a 2-core CPU in at most 15 minutes, training and evaluation together: 14x14 crops at native
    // resolution (a quarter of the image, not resized), ResNet-18 at 1/2 width (h is 256-d), n = 4, evaluated on the
    // whole 28x28 image. Linear probe 88.2%, kNN 85.4%, 12 min 09 s on the idle 2-core VM (training 447 s,
    // evaluation 278 s); 17-18 minutes when the VM's second core is busy elsewhere (docs/BENCHMARKS.md).
    private static readonly TrainConfig FmnistCpu = new()
    {
        Preset = "fmnist-cpu",
        Dataset = "fmnist",
        Width = 0.5,
        CropScale = 0.25,
        CropSize = 14,
        Patches = 4,
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
        // For slower CPUs: 1/4 width (h is 128-d) and n = 10, about 2/3 of the default's time: linear probe 86.8%,
        // kNN 85.3%, 11 minutes on the 2-core VM. Width is what moves the probe: more crops (n 6 -> 10) or more steps
        // at 1/4 width stayed at 86.7-86.8%, and at 1/2 width fewer crops lose it (n = 3: 86.7%, n = 2: 80.8%).
        ["fmnist-cpu-small"] = FmnistCpu with { Preset = "fmnist-cpu-small", Width = 0.25, Patches = 10 },
        // With a GPU: the full-width ResNet-18 and n = 20. On one H100: linear probe 91.0%, kNN 87.5%, training
        // 66 s and evaluation 62 s (docs/BENCHMARKS.md); with --tf32 90.6% in 54 s + 39 s. On the 2-core CPU this
        // would take many hours.
        ["fmnist-gpu"] = FmnistCpu with { Preset = "fmnist-gpu", Width = 1.0, Patches = 20 },
    };

    public static TrainConfig Get(string name) =>
        All.TryGetValue(name, out var config)
            ? config
            : throw new ArgumentException($"unknown preset '{name}'; the presets are: {string.Join(", ", All.Keys)}");
}

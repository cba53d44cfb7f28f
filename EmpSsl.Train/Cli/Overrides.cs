using System.CommandLine;

namespace EmpSsl.Train.Cli;

/// <summary>
/// One command-line option per <see cref="TrainConfig"/> field. Each is optional: what is not given comes from the
/// preset (or, for eval and embed, from the checkpoint's saved configuration).
/// </summary>
internal sealed class Overrides
{
    public readonly Option<string?> Preset = new("--preset") { Description = $"starting configuration: {string.Join(", ", Presets.All.Keys)} (default fmnist-cpu)" };
    public readonly Option<string?> Dataset = new("--dataset") { Description = "fmnist, mnist, cifar10, cifar100 or folder" };
    public readonly Option<string?> DataDir = new("--data") { Description = "folder with the dataset's files (default: Fashion-MNIST from the Debian package dataset-fashion-mnist)" };
    public readonly Option<int?> ImageSize = new("--image-size") { Description = "side that folder-dataset images are resized to" };
    public readonly Option<string?> Arch = new("--arch") { Description = "encoder architecture (resnet18)" };
    public readonly Option<double?> Width = new("--width") { Description = "channel multiplier of the ResNet (1 = 64..512 channels)" };
    public readonly Option<string?> Stem = new("--stem") { Description = "cifar (3x3 s1, no maxpool) or imagenet (7x7 s2, maxpool)" };
    public readonly Option<double?> CropScale = new("--crop-scale") { Description = "fraction of the image area each crop covers" };
    public readonly Option<int?> CropSize = new("--crop-size") { Description = "side of the crops after the bilinear resize" };
    public readonly Option<int?> Patches = new("--patches", "-n") { Description = "crops per image per step (n)" };
    public readonly Option<int?> Batch = new("--batch", "-b") { Description = "images per step (b)" };
    public readonly Option<int?> ChunkViews = new("--chunk-views") { Description = "two-pass step holding activations for this many views at a time (0: one pass); BN statistics become per chunk" };
    public readonly Option<bool?> Tf32 = new("--tf32") { Description = "CUDA only: convolutions on the tensor cores in TF32 (about 1e-3 relative error), as PyTorch does by default" };
    public readonly Option<string?> CpuConv = new("--cpu-conv") { Description = "cpu only: auto (Winograd on 3x3 layers, polyphase on other stride-2 ones, where faster), gemm, direct, winograd or polyphase" };
    public readonly Option<int?> Epochs = new("--epochs") { Description = "passes over the training set" };
    public readonly Option<int?> MaxSteps = new("--max-steps") { Description = "stop after this many steps (0: all)" };
    public readonly Option<float?> Lr = new("--lr") { Description = "base learning rate (cosine to 0 by step)" };
    public readonly Option<int?> Warmup = new("--warmup-steps") { Description = "linear warm-up steps" };
    public readonly Option<float?> Momentum = new("--momentum") { Description = "SGD momentum (Nesterov)" };
    public readonly Option<float?> WeightDecay = new("--weight-decay") { Description = "weight decay on LARS-adapted weights" };
    public readonly Option<float?> Eta = new("--eta") { Description = "LARS trust coefficient" };
    public readonly Option<float?> Lambda = new("--lambda") { Description = "weight of the invariance (cosine) term" };
    public readonly Option<float?> Eps = new("--eps") { Description = "coding-rate eps, official convention: logdet(I + d/(b eps) Z^T Z)" };
    public readonly Option<string?> Projector = new("--projector") { Description = "paper (feat->hidden->out) or official (feat->hidden->hidden->out)" };
    public readonly Option<int?> Hidden = new("--hidden") { Description = "projector hidden width" };
    public readonly Option<int?> ProjectorOut = new("--projector-out") { Description = "projector output width (d)" };
    public readonly Option<int?> Seed = new("--seed") { Description = "seed for initialization, data order and augmentation" };
    public readonly Option<int?> SaveEvery = new("--save-every") { Description = "also checkpoint every this many steps" };
    public readonly Option<int?> EvalCrops = new("--eval-crops") { Description = "crops averaged per image for evaluation (0: the whole image once)" };
    public readonly Option<string?> EvalFeature = new("--eval-feature") { Description = "h (backbone) or proj (first projector block, 4096-d)" };
    public readonly Option<int?> ProbeEpochs = new("--probe-epochs") { Description = "linear probe epochs" };
    public readonly Option<int?> KnnK = new("--knn-k") { Description = "kNN neighbours" };
    public readonly Option<float?> KnnT = new("--knn-t") { Description = "kNN temperature" };

    public IEnumerable<Option> All =>
    [
        Preset, Dataset, DataDir, ImageSize, Arch, Width, Stem, CropScale, CropSize, Patches, Batch, ChunkViews, Tf32, CpuConv, Epochs, MaxSteps, Lr,
        Warmup, Momentum, WeightDecay, Eta, Lambda, Eps, Projector, Hidden, ProjectorOut, Seed, SaveEvery, EvalCrops,
        EvalFeature, ProbeEpochs, KnnK, KnnT,
    ];

    /// <summary>The base configuration with every option that was given applied on top.</summary>
    public TrainConfig Apply(ParseResult r, TrainConfig? baseConfig = null)
    {
        var c = baseConfig ?? Presets.Get(r.GetValue(Preset) ?? "fmnist-cpu");
        return c with
        {
            Dataset = r.GetValue(Dataset) ?? c.Dataset,
            DataDir = r.GetValue(DataDir) ?? c.DataDir,
            ImageSize = r.GetValue(ImageSize) ?? c.ImageSize,
            Arch = r.GetValue(Arch) ?? c.Arch,
            Width = r.GetValue(Width) ?? c.Width,
            Stem = r.GetValue(Stem) ?? c.Stem,
            CropScale = r.GetValue(CropScale) ?? c.CropScale,
            CropSize = r.GetValue(CropSize) ?? c.CropSize,
            Patches = r.GetValue(Patches) ?? c.Patches,
            Batch = r.GetValue(Batch) ?? c.Batch,
            ChunkViews = r.GetValue(ChunkViews) ?? c.ChunkViews,
            Tf32 = r.GetValue(Tf32) ?? c.Tf32,
            CpuConv = r.GetValue(CpuConv) ?? c.CpuConv,
            Epochs = r.GetValue(Epochs) ?? c.Epochs,
            MaxSteps = r.GetValue(MaxSteps) ?? c.MaxSteps,
            Lr = r.GetValue(Lr) ?? c.Lr,
            WarmupSteps = r.GetValue(Warmup) ?? c.WarmupSteps,
            Momentum = r.GetValue(Momentum) ?? c.Momentum,
            WeightDecay = r.GetValue(WeightDecay) ?? c.WeightDecay,
            Eta = r.GetValue(Eta) ?? c.Eta,
            Lambda = r.GetValue(Lambda) ?? c.Lambda,
            Eps = r.GetValue(Eps) ?? c.Eps,
            Projector = r.GetValue(Projector) ?? c.Projector,
            Hidden = r.GetValue(Hidden) ?? c.Hidden,
            ProjectorOut = r.GetValue(ProjectorOut) ?? c.ProjectorOut,
            Seed = r.GetValue(Seed) ?? c.Seed,
            SaveEvery = r.GetValue(SaveEvery) ?? c.SaveEvery,
            EvalCrops = r.GetValue(EvalCrops) ?? c.EvalCrops,
            EvalFeature = r.GetValue(EvalFeature) ?? c.EvalFeature,
            ProbeEpochs = r.GetValue(ProbeEpochs) ?? c.ProbeEpochs,
            KnnK = r.GetValue(KnnK) ?? c.KnnK,
            KnnTemperature = r.GetValue(KnnT) ?? c.KnnTemperature,
        };
    }
}

using System.Text.Json;
using EmpSsl.Kernels.Cpu;
using EmpSsl.Train.Data;
using EmpSsl.Train.Training;

namespace EmpSsl.Train.Tests;

public class TrainerTests
{
    /// <summary>A tiny grayscale set: random 12x12 images, so a step takes milliseconds.</summary>
    private static Dataset Tiny(int count = 40)
    {
        var rng = new Random(3);
        var pixels = new byte[count * 12 * 12];
        rng.NextBytes(pixels);
        return new Dataset("tiny", pixels, Enumerable.Range(0, count).Select(i => i % 4).ToArray(), 1, 12, 12, 4);
    }

    private static TrainConfig Config => new()
    {
        Dataset = "tiny",
        Width = 0.125,
        CropScale = 0.5,
        CropSize = 8,
        Patches = 3,
        Batch = 10,
        Epochs = 2,
        Projector = "paper",
        Hidden = 32,
        ProjectorOut = 16,
        Seed = 5,
    };

    private static List<float> Losses(List<StepInfo> steps) => steps.Select(s => s.Loss).ToList();

    [Fact]
    public void ResumeRepeatsTheUninterruptedLossSequenceExactly()
    {
        using var k = new CpuKernels();
        var data = Tiny();
        string whole = Directory.CreateTempSubdirectory().FullName;
        var all = new List<StepInfo>();
        var (step, finished) = new Trainer(k, Config, data, whole).Run(null, all.Add, CancellationToken.None);
        Assert.Equal(8, step);
        Assert.True(finished);

        string parts = Directory.CreateTempSubdirectory().FullName;
        var first = new List<StepInfo>();
        // Stop mid-epoch (step 3 of 4), as Ctrl-C would, then continue from the checkpoint.
        new Trainer(k, Config with { MaxSteps = 3 }, data, parts).Run(null, first.Add, CancellationToken.None);
        Assert.Equal(3, Checkpoint.Peek(parts).Step);
        var rest = new List<StepInfo>();
        new Trainer(k, Config, data, parts).Run(parts, rest.Add, CancellationToken.None);

        Assert.Equal(Losses(all), Losses(first).Concat(Losses(rest)).ToList());
        Assert.All(all, s => Assert.True(float.IsFinite(s.Loss)));
        // The loss must move: a run that trains nothing would also "resume exactly".
        Assert.NotEqual(all[0].Loss, all[^1].Loss);
    }

    [Fact]
    public void CancellationSavesACheckpointAndStops()
    {
        using var k = new CpuKernels();
        string dir = Directory.CreateTempSubdirectory().FullName;
        using var cancel = new CancellationTokenSource();
        var (step, finished) = new Trainer(k, Config, Tiny(), dir).Run(null, s =>
        {
            if (s.Step == 2)
            {
                cancel.Cancel();
            }
        }, cancel.Token);
        Assert.Equal(2, step);
        Assert.False(finished);
        Assert.Equal(2, Checkpoint.Peek(dir).Step);
    }

    [Fact]
    public void DivergenceStopsAndKeepsTheLastGoodCheckpoint()
    {
        using var k = new CpuKernels();
        var data = Tiny();
        string dir = Directory.CreateTempSubdirectory().FullName;
        new Trainer(k, Config with { MaxSteps = 2 }, data, dir).Run(null, _ => { }, CancellationToken.None);
        byte[] good = File.ReadAllBytes(Path.Combine(dir, Checkpoint.ModelFile));

        // A NaN learning rate poisons every weight on the next update.
        var ex = Assert.Throws<TrainingDivergedException>(() =>
            new Trainer(k, Config with { Lr = float.NaN, SaveEvery = 1 }, data, dir).Run(dir, _ => { }, CancellationToken.None));
        Assert.Contains("last good checkpoint", ex.Message);
        Assert.Equal(good, File.ReadAllBytes(Path.Combine(dir, Checkpoint.ModelFile)));
        Assert.Equal(2, Checkpoint.Peek(dir).Step);
    }

    [Fact]
    public void PermutationIsAPermutationAndDependsOnTheEpoch()
    {
        var a = Trainer.Permutation(100, 1, 0);
        Assert.Equal(Enumerable.Range(0, 100), a.Order());
        Assert.Equal(a, Trainer.Permutation(100, 1, 0));
        Assert.NotEqual(a, Trainer.Permutation(100, 1, 1));
        Assert.NotEqual(a, Trainer.Permutation(100, 2, 0));
    }

    [Fact]
    public void ConfigSurvivesTheCheckpointMetadata()
    {
        var c = Config with { Lr = 0.123f, DataDir = "/x y" };
        Assert.Equal(c, TrainConfig.FromJson(c.ToJson(), "test"));
        using var doc = JsonDocument.Parse(c.ToJson());
        Assert.True(doc.RootElement.TryGetProperty("crop_size", out _));
    }
}

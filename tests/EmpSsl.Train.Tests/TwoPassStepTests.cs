using EmpSsl.Autodiff.Nn;
using EmpSsl.Kernels;
using EmpSsl.Kernels.Cpu;
using EmpSsl.Train.Data;
using EmpSsl.Train.Optim;
using EmpSsl.Train.Training;

namespace EmpSsl.Train.Tests;

public class TwoPassStepTests
{
    private const int Views = 4;
    private const int Batch = 6;

    private static Dataset Images()
    {
        var pixels = new byte[Batch * 3 * 12 * 12];
        new Random(4).NextBytes(pixels);
        return new Dataset("rgb", pixels, new int[Batch], 3, 12, 12, 1);
    }

    private static TrainConfig Config => new() { Width = 0.125, Projector = "paper", Hidden = 32, ProjectorOut = 16, Seed = 11 };

    /// <summary>One step from the same initial weights and crops; returns the loss and every state-dict value after it.</summary>
    private static (StepLoss Loss, List<float[]> State, long Tracked) OneStep(IKernels k, int chunkViews)
    {
        var data = Images();
        var spec = new AugmentSpec { OutputSize = 8, Scale = 0.5 };
        var model = ModelFactory.Build(k, Config, 3);
        using var lars = new Lars(k, model.Parameters());
        using var step = new EmpSslStep(k, model, lars, data, spec, Views, Batch, 200f, 0.2f, chunkViews);
        var crops = CropSampler.Sample(spec, 3, 0, 0, Batch, Views, 3, 12, 12);
        var loss = step.Run(Enumerable.Range(0, Batch).ToArray(), crops, 0.3f, 0);
        var state = model.StateDict().Where(e => e.Tensor is not null).Select(e => e.Tensor!.ToHost(k)).ToList();
        long tracked = model.StateDict().First(e => e.Counter is not null).Counter!.Value;
        return (loss, state, tracked);
    }

    [Fact]
    public void OneChunkTwoPassEqualsTheOnePassStep()
    {
        using var k = new CpuKernels();
        var one = OneStep(k, chunkViews: 0);
        var two = OneStep(k, chunkViews: Views);
        Assert.Equal(one.Loss.Loss, two.Loss.Loss, 4);
        Assert.Equal(one.Loss.CodingRate, two.Loss.CodingRate, 4);
        // Updated weights and BN running statistics: pass 1 must not have touched the running statistics.
        Assert.Equal(one.Tracked, two.Tracked);
        for (int t = 0; t < one.State.Count; t++)
        {
            for (int i = 0; i < one.State[t].Length; i++)
            {
                float a = one.State[t][i], b = two.State[t][i];
                Assert.True(Math.Abs(a - b) <= 1e-5f + 1e-4f * Math.Abs(a), $"state tensor {t}[{i}]: one-pass {a}, two-pass {b}");
            }
        }
    }

    [Fact]
    public void SmallChunksTrainWithPerChunkStatistics()
    {
        using var k = new CpuKernels();
        var one = OneStep(k, chunkViews: 0);
        var chunked = OneStep(k, chunkViews: 1);
        Assert.True(float.IsFinite(chunked.Loss.Loss));
        // BN statistics per chunk: each BN layer sees Views batches of Batch crops, so the counter moves Views times.
        Assert.Equal(1, one.Tracked);
        Assert.Equal(Views, chunked.Tracked);
        // Per-chunk statistics change z, so the loss differs from the one-pass step, but not wildly.
        Assert.NotEqual(one.Loss.Loss, chunked.Loss.Loss);
        Assert.True(Math.Abs(one.Loss.Loss - chunked.Loss.Loss) < 0.2 * Math.Abs(one.Loss.Loss));
    }
}

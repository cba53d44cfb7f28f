using EmpSsl.Kernels.Cpu;
using EmpSsl.Train.Data;
using EmpSsl.Train.Eval;
using EmpSsl.Train.Training;

namespace EmpSsl.Train.Tests;

public class EmbedderTests
{
    private static Dataset Images(int count)
    {
        var pixels = new byte[count * 3 * 10 * 10];
        new Random(9).NextBytes(pixels);
        return new Dataset("rgb", pixels, Enumerable.Range(0, count).Select(i => i % 2).ToArray(), 3, 10, 10, 2);
    }

    private static TrainConfig Config => new() { Width = 0.125, CropSize = 6, CropScale = 0.5, Projector = "paper", Hidden = 24, ProjectorOut = 8, Seed = 2 };

    [Fact]
    public void WholeImageEmbeddingIsDeterministicAndPerImage()
    {
        using var k = new CpuKernels();
        var data = Images(5);
        var model = ModelFactory.Build(k, Config, 3);
        var a = Embedder.Embed(k, model, data, 6, 0.5, crops: 0, "h", seed: 1);
        var b = Embedder.Embed(k, model, data, 6, 0.5, crops: 0, "h", seed: 99);
        Assert.Equal(5, a.Count);
        Assert.Equal(512 / 8, a.Dim);
        // No augmentation: the seed must not matter, and different images give different rows.
        Assert.Equal(a.Rows, b.Rows);
        Assert.NotEqual(a.Rows.AsSpan(0, a.Dim).ToArray(), a.Rows.AsSpan(a.Dim, a.Dim).ToArray());
        Assert.Equal(data.Labels, a.Labels);
    }

    [Fact]
    public void BagOfFeaturesAveragesCropsAndProjectorFeatureHasHiddenWidth()
    {
        using var k = new CpuKernels();
        var data = Images(3);
        var model = ModelFactory.Build(k, Config, 3);
        var bag = Embedder.Embed(k, model, data, 6, 0.5, crops: 4, "h", seed: 1);
        var other = Embedder.Embed(k, model, data, 6, 0.5, crops: 4, "h", seed: 2);
        Assert.Equal(3 * 64, bag.Rows.Length);
        Assert.NotEqual(bag.Rows, other.Rows);
        Assert.All(bag.Rows, v => Assert.True(float.IsFinite(v)));
        var proj = Embedder.Embed(k, model, data, 6, 0.5, crops: 2, "proj", seed: 1);
        Assert.Equal(24, proj.Dim);
        // After the first projector block's ReLU nothing is negative.
        Assert.All(proj.Rows, v => Assert.True(v >= 0));
    }

    [Fact]
    public void UnknownFeatureIsAClearError()
    {
        using var k = new CpuKernels();
        var model = ModelFactory.Build(k, Config, 3);
        var ex = Assert.Throws<ArgumentException>(() => Embedder.Embed(k, model, Images(2), 6, 0.5, 0, "z", 1));
        Assert.Contains("--eval-feature", ex.Message);
    }
}

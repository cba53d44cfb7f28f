using EmpSsl.Kernels.Cpu;
using EmpSsl.Train.Eval;

namespace EmpSsl.Train.Tests;

public class EvalTests
{
    /// <summary>Gaussian blobs around random class centres: linearly separable when the spread is small.</summary>
    private static Features Blobs(int count, int dim, int classes, float spread, int seed, float[][]? centres = null)
    {
        var rng = new Random(seed);
        centres ??= Enumerable.Range(0, classes).Select(_ => Enumerable.Range(0, dim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray()).ToArray();
        var rows = new float[count * dim];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = i % classes;
            for (int j = 0; j < dim; j++)
            {
                rows[i * dim + j] = centres[labels[i]][j] + spread * (float)(rng.NextDouble() * 2 - 1);
            }
        }
        return new Features(rows, count, dim, labels, classes);
    }

    private static float[][] Centres(int dim, int classes, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, classes).Select(_ => Enumerable.Range(0, dim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray()).ToArray();
    }

    [Fact]
    public void LinearProbeSeparatesSeparableClassesAndNotNoise()
    {
        using var k = new CpuKernels();
        var centres = Centres(16, 4, 7);
        var train = Blobs(400, 16, 4, 0.2f, 1, centres);
        var test = Blobs(200, 16, 4, 0.2f, 2, centres);
        double acc = LinearProbe.TrainAndTest(k, train, test, new LinearProbeOptions(Epochs: 10));
        Assert.True(acc > 0.97, $"separable blobs: accuracy {acc}");

        // Labels independent of the features: a probe must not beat chance by much on held-out data.
        var noiseTrain = Blobs(400, 16, 4, 1f, 3) with { Labels = Enumerable.Range(0, 400).Select(i => (i * 7 + i / 3) % 4).ToArray() };
        var noiseTest = Blobs(400, 16, 4, 1f, 4) with { Labels = Enumerable.Range(0, 400).Select(i => (i * 5 + i / 7) % 4).ToArray() };
        double chance = LinearProbe.TrainAndTest(k, noiseTrain, noiseTest, new LinearProbeOptions(Epochs: 10));
        Assert.True(chance < 0.4, $"noise: accuracy {chance}");
    }

    [Fact]
    public void LinearProbeRejectsNonFiniteFeatures()
    {
        using var k = new CpuKernels();
        var f = Blobs(20, 4, 2, 0.1f, 1);
        f.Rows[13] = float.NaN;
        var ex = Assert.Throws<ArgumentException>(() => LinearProbe.TrainAndTest(k, f, f, new LinearProbeOptions(Epochs: 1)));
        Assert.Contains("row 3", ex.Message);
    }

    [Fact]
    public void KnnVoteWeighsByExpSimilarity()
    {
        // Two near neighbours of class 1 outweigh three far ones of class 0 at T = 0.07.
        float[] sims = [0.9f, 0.9f, 0.5f, 0.5f, 0.5f, -1f];
        int[] labels = [1, 1, 0, 0, 0, 0];
        Assert.Equal(1, Knn.Vote(sims, labels, 2, 5, 0.07f));
        // With a huge temperature every neighbour counts the same: three of class 0 win.
        Assert.Equal(0, Knn.Vote(sims, labels, 2, 5, 1000f));
        // Only the k best vote: the -1 row never enters.
        Assert.Equal(1, Knn.Vote(sims, labels, 2, 2, 1000f));
    }

    [Fact]
    public void KnnFindsClustersOnTheDevice()
    {
        using var k = new CpuKernels();
        var centres = Centres(8, 3, 5);
        var train = Blobs(300, 8, 3, 0.1f, 1, centres);
        var test = Blobs(90, 8, 3, 0.1f, 2, centres);
        Assert.True(Knn.Classify(k, train, test) > 0.97);
        var shuffled = test with { Labels = test.Labels.Select(l => (l + 1) % 3).ToArray() };
        Assert.True(Knn.Classify(k, train, shuffled) < 0.05);
    }
}

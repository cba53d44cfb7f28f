using EmpSsl.Train.Data;

namespace EmpSsl.Train.Tests;

public sealed class FashionMnistTests
{
    [SkippableFact]
    public void ReadsTheInstalledPackage()
    {
        Skip.IfNot(FashionMnist.FindInstalled() is not null,
            $"Fashion-MNIST is not installed ({FashionMnist.InstallCommand})");

        Dataset train = FashionMnist.Load(Split.Train);
        Dataset test = FashionMnist.Load(Split.Test);

        Assert.Equal((60000, 1, 28, 28, 10), (train.Count, train.Channels, train.Height, train.Width, train.ClassCount));
        Assert.Equal((10000, 1, 28, 28, 10), (test.Count, test.Channels, test.Height, test.Width, test.ClassCount));
        // Fashion-MNIST is balanced: 6000 training and 1000 test images per class.
        Assert.All(train.Labels.CountBy(l => l), kv => Assert.Equal(6000, kv.Value));
        Assert.All(test.Labels.CountBy(l => l), kv => Assert.Equal(1000, kv.Value));
    }

    [Fact]
    public void AMissingFolderNamesTheFolder()
    {
        string missing = Path.Combine(Path.GetTempPath(), "empssl-missing-" + Guid.NewGuid().ToString("N"));

        var e = Assert.Throws<DatasetException>(() => FashionMnist.Load(Split.Train, missing));

        Assert.Equal(missing, e.Path);
    }

    [Fact]
    public void AMissingPackageSaysHowToInstallIt()
    {
        using var empty = new TempFolder();

        var e = Assert.Throws<DatasetException>(() => FashionMnist.Load(Split.Train, null, [empty.Path]));

        Assert.Contains(empty.Path, e.Message);
        Assert.Contains("apt-get install -y dataset-fashion-mnist", e.Message);
        Assert.Contains("--data DIR", e.Message);
    }

    [Fact]
    public void FindsTheFilesInASearchPath()
    {
        using var folder = new TempFolder();
        IdxReaderTests.WriteIdx(folder.File("train-images-idx3-ubyte.gz"), true, [2, 3, 3], new byte[18]);
        IdxReaderTests.WriteIdx(folder.File("train-labels-idx1-ubyte.gz"), true, [2], [4, 2]);

        Dataset data = FashionMnist.Load(Split.Train, null, ["/nonexistent/fashion-mnist", folder.Path]);

        Assert.Equal("fashion-mnist-train", data.Name);
        Assert.Equal([4, 2], data.Labels);
    }
}

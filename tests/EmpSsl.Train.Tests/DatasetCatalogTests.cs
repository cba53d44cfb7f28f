using EmpSsl.Train.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EmpSsl.Train.Tests;

public sealed class DatasetCatalogTests
{
    [Fact]
    public void AnUnknownNameListsTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => DatasetCatalog.Load("imagenet1k", "/tmp", Split.Train, 32));

        Assert.Contains("fashion-mnist, mnist, cifar10, cifar100, folder", e.Message);
    }

    [Fact]
    public void OnlyFashionMnistWorksWithoutAFolder()
    {
        var e = Assert.Throws<ArgumentException>(() => DatasetCatalog.Load("cifar10", null, Split.Train, 32));

        Assert.Contains("--data DIR", e.Message);
    }

    [Fact]
    public void AFolderDatasetUsesTrainAndValSubfolders()
    {
        using var folder = new TempFolder();
        WriteImage(Path.Combine(folder.Path, "train", "a"), "0.png");
        WriteImage(Path.Combine(folder.Path, "train", "b"), "0.png");
        WriteImage(Path.Combine(folder.Path, "val", "b"), "0.png");

        Dataset train = DatasetCatalog.Load("folder", folder.Path, Split.Train, 4);
        Dataset test = DatasetCatalog.Load("folder", folder.Path, Split.Test, 4);

        Assert.Equal(["a", "b"], train.ClassNames);
        Assert.Equal(["b"], test.ClassNames);
        Assert.Equal((4, 4), (test.Height, test.Width));
    }

    [Fact]
    public void AFolderWithoutATestSplitSaysSo()
    {
        using var folder = new TempFolder();
        WriteImage(Path.Combine(folder.Path, "a"), "0.png");

        Assert.Equal(1, DatasetCatalog.Load("folder", folder.Path, Split.Train, 4).Count);
        var e = Assert.Throws<DatasetException>(() => DatasetCatalog.Load("folder", folder.Path, Split.Test, 4));
        Assert.Contains("no val/ or test/", e.Message);
    }

    [Fact]
    public void TinyImageNetValIsRefusedRatherThanReadAsOneClass()
    {
        using var folder = new TempFolder();
        WriteImage(Path.Combine(folder.Path, "val", "images"), "val_0.JPEG");
        File.WriteAllText(Path.Combine(folder.Path, "val", "val_annotations.txt"), "val_0.JPEG\tn01443537\t0\t0\t8\t8\n");

        var e = Assert.Throws<DatasetException>(() => DatasetCatalog.Load("folder", folder.Path, Split.Test, 4));

        Assert.Contains("val_annotations.txt", e.Message);
    }

    private static void WriteImage(string directory, string name)
    {
        Directory.CreateDirectory(directory);
        using var image = new Image<Rgb24>(6, 6);
        string path = Path.Combine(directory, name);
        if (name.EndsWith(".png", StringComparison.Ordinal))
        {
            image.SaveAsPng(path);
        }
        else
        {
            image.SaveAsJpeg(path);
        }
    }
}

using EmpSsl.Train.Data;

namespace EmpSsl.Train.Training;

/// <summary>Maps a run's dataset name and folder to the reader that loads it.</summary>
public static class DataSource
{
    public static readonly IReadOnlyList<string> Names = ["fmnist", "mnist", "cifar10", "cifar100", "folder"];

    public static Dataset Load(TrainConfig c, Split split) => c.Dataset switch
    {
        "fmnist" => FashionMnist.Load(split, c.DataDir),
        "mnist" => IdxReader.LoadDirectory(Need(c, "the folder with MNIST's IDX files"), split, "mnist"),
        "cifar10" => CifarReader.LoadCifar10(Need(c, "the folder with data_batch_1.bin .. test_batch.bin"), split),
        "cifar100" => CifarReader.LoadCifar100(Need(c, "the folder with train.bin and test.bin"), split),
        "folder" => ImageFolderReader.Load(FolderSplit(Need(c, "the folder with train/ and val/ (or test/) class folders"), split), c.ImageSize, "folder"),
        _ => throw new ArgumentException($"unknown dataset '{c.Dataset}'; expected one of: {string.Join(", ", Names)}"),
    };

    private static string Need(TrainConfig c, string what) =>
        c.DataDir ?? throw new ArgumentException($"--dataset {c.Dataset} needs --data DIR: {what}");

    private static string FolderSplit(string root, Split split)
    {
        string[] names = split == Split.Train ? ["train"] : ["val", "test"];
        foreach (var n in names)
        {
            string p = Path.Combine(root, n);
            if (Directory.Exists(p))
            {
                return p;
            }
        }
        throw new DirectoryNotFoundException($"{root}: no {string.Join(" or ", names)}/ folder of class folders for the {split.ToString().ToLowerInvariant()} split");
    }
}

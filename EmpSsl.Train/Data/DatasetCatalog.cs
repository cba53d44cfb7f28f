namespace EmpSsl.Train.Data;

/// <summary>The dataset names the command line accepts, and which reader and folder layout each one means.</summary>
public static class DatasetCatalog
{
    public const string Default = "fashion-mnist";

    public static IReadOnlyList<string> Names { get; } = ["fashion-mnist", "mnist", "cifar10", "cifar100", "folder"];

    /// <param name="name">One of Names.</param>
    /// <param name="directory">The --data folder; null only for fashion-mnist, which is found where Debian installs it.</param>
    /// <param name="imageSize">Side that folder images are resized to; the binary formats keep their own size.</param>
    public static Dataset Load(string name, string? directory, Split split, int imageSize)
    {
        if (!Names.Contains(name))
        {
            throw new ArgumentException($"unknown dataset '{name}'; choose one of {string.Join(", ", Names)}");
        }
        if (name == "fashion-mnist")
        {
            return FashionMnist.Load(split, directory);
        }
        if (directory is null)
        {
            throw new ArgumentException($"dataset '{name}' needs --data DIR pointing at its files");
        }
        return name switch
        {
            "mnist" => IdxReader.LoadDirectory(directory, split, split == Split.Train ? "mnist-train" : "mnist-test"),
            "cifar10" => CifarReader.LoadCifar10(directory, split),
            "cifar100" => CifarReader.LoadCifar100(directory, split),
            _ => ImageFolderReader.Load(FolderSplit(directory, split), imageSize,
                split == Split.Train ? "folder-train" : "folder-test"),
        };
    }

    /// <summary>
    /// root/train and root/val (or root/test) when they exist, as ImageNet-100 is laid out; otherwise root itself
    /// is the training set and there is no test set.
    /// </summary>
    private static string FolderSplit(string root, Split split)
    {
        if (!Directory.Exists(root))
        {
            throw new DatasetException(root, "folder not found");
        }
        string[] candidates = split == Split.Train ? ["train"] : ["val", "test"];
        foreach (string candidate in candidates)
        {
            string path = Path.Combine(root, candidate);
            if (!Directory.Exists(path))
            {
                continue;
            }
            // Tiny ImageNet's val split is one flat folder plus an annotations file, not a folder per class.
            if (File.Exists(Path.Combine(path, "val_annotations.txt")))
            {
                throw new DatasetException(path,
                    "Tiny ImageNet's val layout (val_annotations.txt) is not supported; only its train split, <class>/images/*.JPEG");
            }
            return path;
        }
        if (split == Split.Train)
        {
            return root;
        }
        throw new DatasetException(root, "has no val/ or test/ folder of class folders for the test split");
    }
}

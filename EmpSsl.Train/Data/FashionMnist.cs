namespace EmpSsl.Train.Data;

/// <summary>
/// The default dataset: Fashion-MNIST as Debian's dataset-fashion-mnist package installs it
/// (/usr/share/datasets/fashion-mnist/*-idx?-ubyte.gz), found with no flag.
/// </summary>
public static class FashionMnist
{
    public const string InstallCommand = "apt-get install -y dataset-fashion-mnist";

    /// <summary>Where the package puts the files, then the same path under the other XDG data folders.</summary>
    public static IReadOnlyList<string> SearchPaths()
    {
        var paths = new List<string> { "/usr/share/datasets/fashion-mnist" };
        string? xdg = Environment.GetEnvironmentVariable("XDG_DATA_DIRS");
        foreach (string dir in (xdg ?? "/usr/local/share").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, "datasets", "fashion-mnist");
            if (!paths.Contains(candidate))
            {
                paths.Add(candidate);
            }
        }
        return paths;
    }

    /// <summary>The installed folder, or null when the package is not installed.</summary>
    public static string? FindInstalled() => FindInstalled(SearchPaths());

    internal static string? FindInstalled(IReadOnlyList<string> searchPaths) =>
        searchPaths.FirstOrDefault(p => File.Exists(Path.Combine(p, "train-images-idx3-ubyte.gz"))
            || File.Exists(Path.Combine(p, "train-images-idx3-ubyte")));

    /// <summary>Loads a split from directory, or from the installed package when directory is null.</summary>
    public static Dataset Load(Split split, string? directory = null) => Load(split, directory, SearchPaths());

    internal static Dataset Load(Split split, string? directory, IReadOnlyList<string> searchPaths)
    {
        string name = split == Split.Train ? "fashion-mnist-train" : "fashion-mnist-test";
        if (directory is not null)
        {
            return IdxReader.LoadDirectory(directory, split, name);
        }
        string? found = FindInstalled(searchPaths);
        if (found is null)
        {
            throw new DatasetException(string.Join(", ", searchPaths),
                $"Fashion-MNIST is not installed. Install it with `{InstallCommand}`, or point --data DIR at a folder "
                + "holding train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), t10k-images-idx3-ubyte(.gz) "
                + "and t10k-labels-idx1-ubyte(.gz)");
        }
        return IdxReader.LoadDirectory(found, split, name);
    }
}

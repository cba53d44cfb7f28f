namespace EmpSsl.Train.Data;

/// <summary>
/// Reads the CIFAR "binary version" files. CIFAR-10: data_batch_1..5.bin and test_batch.bin, records of one label
/// byte then 3072 pixel bytes (1024 red, 1024 green, 1024 blue, each 32x32 row-major: already CHW). CIFAR-100:
/// train.bin and test.bin, records of a coarse label byte, a fine label byte, then the 3072 pixel bytes; we keep
/// the fine label (100 classes).
/// </summary>
public static class CifarReader
{
    private const int Side = 32;
    private const int PixelBytes = 3 * Side * Side;

    /// <summary>Loads CIFAR-10 from a folder holding the .bin files, or its cifar-10-batches-bin subfolder.</summary>
    public static Dataset LoadCifar10(string directory, Split split)
    {
        string folder = ResolveFolder(directory, "cifar-10-batches-bin", "test_batch.bin");
        string[] files = split == Split.Train
            ? Enumerable.Range(1, 5).Select(i => Path.Combine(folder, $"data_batch_{i}.bin")).ToArray()
            : [Path.Combine(folder, "test_batch.bin")];
        return Load(files, labelBytes: 1, classCount: 10, split == Split.Train ? "cifar10-train" : "cifar10-test");
    }

    /// <summary>Loads CIFAR-100 (fine labels) from a folder holding train.bin and test.bin, or its cifar-100-binary subfolder.</summary>
    public static Dataset LoadCifar100(string directory, Split split)
    {
        string folder = ResolveFolder(directory, "cifar-100-binary", "test.bin");
        string file = Path.Combine(folder, split == Split.Train ? "train.bin" : "test.bin");
        return Load([file], labelBytes: 2, classCount: 100, split == Split.Train ? "cifar100-train" : "cifar100-test");
    }

    /// <param name="labelBytes">1 for CIFAR-10; 2 for CIFAR-100, whose second label byte is the fine label.</param>
    private static Dataset Load(string[] files, int labelBytes, int classCount, string name)
    {
        int recordBytes = labelBytes + PixelBytes;
        var contents = new List<byte[]>(files.Length);
        long records = 0;
        foreach (string file in files)
        {
            if (!File.Exists(file))
            {
                throw new DatasetException(file, "file not found");
            }
            byte[] bytes = File.ReadAllBytes(file);
            if (bytes.Length == 0 || bytes.Length % recordBytes != 0)
            {
                throw new DatasetException(file,
                    $"{bytes.Length} bytes is not a whole number of {recordBytes}-byte records; the file is truncated or not {name}");
            }
            contents.Add(bytes);
            records += bytes.Length / recordBytes;
        }
        if (records * PixelBytes > Array.MaxLength)
        {
            throw new DatasetException(files[0], $"{records} records do not fit in memory as one array");
        }
        var pixels = new byte[records * PixelBytes];
        var labels = new int[records];
        int index = 0;
        for (int f = 0; f < files.Length; f++)
        {
            byte[] bytes = contents[f];
            for (int offset = 0; offset < bytes.Length; offset += recordBytes, index++)
            {
                int label = bytes[offset + labelBytes - 1];
                if (label >= classCount)
                {
                    throw new DatasetException(files[f],
                        $"record {offset / recordBytes} has label {label}, outside [0, {classCount})");
                }
                labels[index] = label;
                bytes.AsSpan(offset + labelBytes, PixelBytes).CopyTo(pixels.AsSpan(index * PixelBytes));
            }
        }
        return new Dataset(name, pixels, labels, 3, Side, Side, classCount);
    }

    private static string ResolveFolder(string directory, string subfolder, string marker)
    {
        if (!Directory.Exists(directory))
        {
            throw new DatasetException(directory, "folder not found");
        }
        string nested = Path.Combine(directory, subfolder);
        return !File.Exists(Path.Combine(directory, marker)) && Directory.Exists(nested) ? nested : directory;
    }
}

namespace EmpSsl.Train.Data;

/// <summary>Which half of a dataset a reader loads.</summary>
public enum Split
{
    Train,
    Test,
}

/// <summary>
/// A labelled image set held in memory as 8-bit pixels. Bytes rather than floats because every source we read is
/// 8-bit, and a quarter of the memory lets ImageNet-100 at 64x64 fit in one array; the augmenter converts to [0, 1].
/// </summary>
public sealed class Dataset
{
    /// <param name="pixels">(count, channels, height, width), 0..255.</param>
    /// <param name="labels">(count), each in [0, classCount).</param>
    public Dataset(string name, byte[] pixels, int[] labels, int channels, int height, int width, int classCount,
        int skippedCorrupt = 0, IReadOnlyList<string>? classNames = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        long expected = (long)labels.Length * channels * height * width;
        if (pixels.LongLength != expected)
        {
            throw new ArgumentException(
                $"{name}: {pixels.LongLength} pixel bytes for {labels.Length} images of {channels}x{height}x{width}; expected {expected}");
        }
        foreach (int label in labels)
        {
            if ((uint)label >= (uint)classCount)
            {
                throw new ArgumentException($"{name}: label {label} outside [0, {classCount})");
            }
        }
        Name = name;
        Pixels = pixels;
        Labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        ClassCount = classCount;
        SkippedCorrupt = skippedCorrupt;
        ClassNames = classNames;
    }

    public string Name { get; }

    /// <summary>(Count, Channels, Height, Width), 0..255.</summary>
    public byte[] Pixels { get; }

    public int[] Labels { get; }
    public int Count => Labels.Length;
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int ClassCount { get; }

    /// <summary>Files a folder reader could not decode and left out; 0 for the binary formats.</summary>
    public int SkippedCorrupt { get; }

    /// <summary>Folder names for a folder dataset, in label order; null where the format has none.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    public int ImageSize => Channels * Height * Width;

    /// <summary>One image's bytes, (Channels, Height, Width).</summary>
    public ReadOnlySpan<byte> Image(int index) => Pixels.AsSpan(checked(index * ImageSize), ImageSize);
}

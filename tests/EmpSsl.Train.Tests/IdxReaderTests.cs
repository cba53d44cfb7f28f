using System.Buffers.Binary;
using System.IO.Compression;
using EmpSsl.Train.Data;

namespace EmpSsl.Train.Tests;

public sealed class IdxReaderTests
{
    private const int Count = 5;
    private const int Side = 4;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ReadsImagesAndLabels(bool gzip)
    {
        using var folder = new TempFolder();
        byte[] pixels = Pixels();
        byte[] labels = [3, 0, 9, 1, 3];
        string ext = gzip ? ".gz" : "";
        WriteIdx(folder.File("train-images-idx3-ubyte" + ext), gzip, [Count, Side, Side], pixels);
        WriteIdx(folder.File("train-labels-idx1-ubyte" + ext), gzip, [Count], labels);

        Dataset data = IdxReader.LoadDirectory(folder.Path, Split.Train, "test");

        Assert.Equal((Count, 1, Side, Side), (data.Count, data.Channels, data.Height, data.Width));
        Assert.Equal(pixels, data.Pixels);
        Assert.Equal(labels.Select(b => (int)b), data.Labels);
        Assert.Equal(10, data.ClassCount);
        Assert.Equal(pixels.AsSpan(2 * Side * Side, Side * Side).ToArray(), data.Image(2).ToArray());
    }

    [Fact]
    public void FindsTheTestSplitWithDottedNames()
    {
        using var folder = new TempFolder();
        WriteIdx(folder.File("t10k-images.idx3-ubyte"), false, [Count, Side, Side], Pixels());
        WriteIdx(folder.File("t10k-labels.idx1-ubyte"), false, [Count], [1, 1, 1, 1, 0]);

        Dataset data = IdxReader.LoadDirectory(folder.Path, Split.Test, "test");

        Assert.Equal(Count, data.Count);
        Assert.Equal(2, data.ClassCount);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RejectsATruncatedFile(bool gzip)
    {
        using var folder = new TempFolder();
        string path = folder.File("images");
        // The header promises 5 images; the data holds 4 and a half.
        WriteIdx(path, gzip, [Count, Side, Side], Pixels().AsSpan(0, Count * Side * Side - 8).ToArray());

        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadArray(path, 3));

        Assert.Equal(path, e.Path);
        Assert.Contains("truncated", e.Message);
        Assert.Contains($"{Count * Side * Side}", e.Message);
    }

    [Fact]
    public void RejectsAGzipCutOffMidStream()
    {
        using var folder = new TempFolder();
        string path = folder.File("images.gz");
        WriteIdx(path, true, [Count, Side, Side], Pixels());
        byte[] whole = File.ReadAllBytes(path);
        File.WriteAllBytes(path, whole.AsSpan(0, whole.Length - 12).ToArray());

        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadArray(path, 3));

        Assert.Equal(path, e.Path);
    }

    [Fact]
    public void RejectsTrailingBytes()
    {
        using var folder = new TempFolder();
        string path = folder.File("images");
        WriteIdx(path, false, [Count, Side, Side], [.. Pixels(), 7, 7]);

        var e = Assert.Throws<DatasetException>(() => IdxReader.ReadArray(path, 3));

        Assert.Contains("more data", e.Message);
    }

    [Fact]
    public void RejectsAWrongMagic()
    {
        using var folder = new TempFolder();
        string images = folder.File("images");
        string labels = folder.File("labels");
        WriteIdx(images, false, [Count, Side, Side], Pixels());
        WriteIdx(labels, false, [Count], new byte[Count]);

        // A labels file where images belong: rank 1, not 3.
        var e = Assert.Throws<DatasetException>(() => IdxReader.Load(labels, images, "test"));

        Assert.Equal(labels, e.Path);
        Assert.Contains("magic", e.Message);
        Assert.Contains("0x00000801", e.Message);
    }

    [Fact]
    public void RejectsACountMismatch()
    {
        using var folder = new TempFolder();
        string images = folder.File("images");
        string labels = folder.File("labels");
        WriteIdx(images, false, [Count, Side, Side], Pixels());
        WriteIdx(labels, false, [Count - 1], new byte[Count - 1]);

        var e = Assert.Throws<DatasetException>(() => IdxReader.Load(images, labels, "test"));

        Assert.Equal(labels, e.Path);
        Assert.Contains($"{Count - 1} labels", e.Message);
        Assert.Contains($"{Count} images", e.Message);
    }

    [Fact]
    public void RejectsAMissingDirectory()
    {
        string missing = Path.Combine(Path.GetTempPath(), "empssl-missing-" + Guid.NewGuid().ToString("N"));

        var e = Assert.Throws<DatasetException>(() => IdxReader.LoadDirectory(missing, Split.Train, "test"));

        Assert.Equal(missing, e.Path);
        Assert.Contains("not found", e.Message);
    }

    [Fact]
    public void NamesTheMissingFile()
    {
        using var folder = new TempFolder();
        WriteIdx(folder.File("train-images-idx3-ubyte"), false, [Count, Side, Side], Pixels());

        var e = Assert.Throws<DatasetException>(() => IdxReader.LoadDirectory(folder.Path, Split.Train, "test"));

        Assert.Contains("train-labels-idx1-ubyte", e.Message);
    }

    private static byte[] Pixels() => Enumerable.Range(0, Count * Side * Side).Select(i => (byte)(i * 7 + 1)).ToArray();

    /// <summary>Writes an unsigned-byte IDX file: 0, 0, 0x08, rank, big-endian dims, data.</summary>
    internal static void WriteIdx(string path, bool gzip, int[] dims, byte[] data)
    {
        using var file = File.Create(path);
        using Stream stream = gzip ? new GZipStream(file, CompressionLevel.Optimal) : file;
        stream.Write([0, 0, 0x08, (byte)dims.Length]);
        Span<byte> dim = stackalloc byte[4];
        foreach (int d in dims)
        {
            BinaryPrimitives.WriteInt32BigEndian(dim, d);
            stream.Write(dim);
        }
        stream.Write(data);
    }
}

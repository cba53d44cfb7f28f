using EmpSsl.Train.Data;

namespace EmpSsl.Train.Tests;

public sealed class CifarReaderTests
{
    private const int PixelBytes = 3072;

    [Fact]
    public void ReadsCifar10TrainBatchesInOrder()
    {
        using var folder = new TempFolder();
        for (int batch = 1; batch <= 5; batch++)
        {
            // Two records per batch, labels batch and 9 - batch, pixels tagged by batch and record.
            WriteRecords(folder.File($"data_batch_{batch}.bin"), [[(byte)batch], [(byte)(9 - batch)]], seed: batch);
        }

        Dataset data = CifarReader.LoadCifar10(folder.Path, Split.Train);

        Assert.Equal((10, 3, 32, 32, 10), (data.Count, data.Channels, data.Height, data.Width, data.ClassCount));
        Assert.Equal([1, 8, 2, 7, 3, 6, 4, 5, 5, 4], data.Labels);
        Assert.Equal(RecordPixels(seed: 3, record: 1), data.Image(5).ToArray());
    }

    [Fact]
    public void ReadsCifar10TestBatchFromTheNestedFolder()
    {
        using var folder = new TempFolder();
        string nested = Path.Combine(folder.Path, "cifar-10-batches-bin");
        Directory.CreateDirectory(nested);
        WriteRecords(Path.Combine(nested, "test_batch.bin"), [[0], [9], [4]], seed: 11);

        Dataset data = CifarReader.LoadCifar10(folder.Path, Split.Test);

        Assert.Equal([0, 9, 4], data.Labels);
        Assert.Equal(RecordPixels(seed: 11, record: 2), data.Image(2).ToArray());
    }

    [Fact]
    public void ReadsCifar100FineLabels()
    {
        using var folder = new TempFolder();
        // (coarse, fine) pairs: the reader keeps the second byte.
        WriteRecords(folder.File("train.bin"), [[19, 99], [0, 42], [7, 0]], seed: 5);

        Dataset data = CifarReader.LoadCifar100(folder.Path, Split.Train);

        Assert.Equal([99, 42, 0], data.Labels);
        Assert.Equal(100, data.ClassCount);
        Assert.Equal(RecordPixels(seed: 5, record: 0), data.Image(0).ToArray());
    }

    [Fact]
    public void RejectsAPartialRecord()
    {
        using var folder = new TempFolder();
        string path = folder.File("test_batch.bin");
        WriteRecords(path, [[1], [2]], seed: 1);
        using (var stream = File.OpenWrite(path))
        {
            stream.SetLength(stream.Length - 100);
        }

        var e = Assert.Throws<DatasetException>(() => CifarReader.LoadCifar10(folder.Path, Split.Test));

        Assert.Equal(path, e.Path);
        Assert.Contains("whole number of 3073-byte records", e.Message);
    }

    [Fact]
    public void RejectsALabelOutOfRange()
    {
        using var folder = new TempFolder();
        string path = folder.File("test_batch.bin");
        WriteRecords(path, [[1], [10]], seed: 1);

        var e = Assert.Throws<DatasetException>(() => CifarReader.LoadCifar10(folder.Path, Split.Test));

        Assert.Contains("record 1 has label 10", e.Message);
    }

    [Fact]
    public void NamesAMissingBatch()
    {
        using var folder = new TempFolder();
        WriteRecords(folder.File("data_batch_1.bin"), [[1]], seed: 1);

        var e = Assert.Throws<DatasetException>(() => CifarReader.LoadCifar10(folder.Path, Split.Train));

        Assert.EndsWith("data_batch_2.bin", e.Path);
    }

    [Fact]
    public void RejectsAMissingDirectory()
    {
        string missing = Path.Combine(Path.GetTempPath(), "empssl-missing-" + Guid.NewGuid().ToString("N"));

        var e = Assert.Throws<DatasetException>(() => CifarReader.LoadCifar100(missing, Split.Test));

        Assert.Equal(missing, e.Path);
    }

    private static byte[] RecordPixels(int seed, int record) =>
        Enumerable.Range(0, PixelBytes).Select(i => (byte)(i * 31 + seed * 17 + record * 101)).ToArray();

    private static void WriteRecords(string path, byte[][] labels, int seed)
    {
        using var file = File.Create(path);
        for (int r = 0; r < labels.Length; r++)
        {
            file.Write(labels[r]);
            file.Write(RecordPixels(seed, r));
        }
    }
}

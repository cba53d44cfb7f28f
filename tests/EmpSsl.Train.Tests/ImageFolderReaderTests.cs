using System.Buffers.Binary;
using EmpSsl.Train.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EmpSsl.Train.Tests;

public sealed class ImageFolderReaderTests
{
    private static readonly Rgb24 Red = new(250, 10, 20);
    private static readonly Rgb24 Blue = new(5, 40, 230);

    /// <summary>JPEG is lossy; a flat colour comes back within a few levels.</summary>
    private const int JpegTolerance = 6;

    [Fact]
    public void ReadsClassFoldersInNameOrderAndSkipsCorruptFiles()
    {
        using var folder = new TempFolder();
        string dog = CreateClass(folder, "dog");
        string cat = CreateClass(folder, "cat");
        Solid(12, 12, Blue).SaveAsPng(Path.Combine(dog, "a.png"));
        Solid(20, 20, Blue).SaveAsJpeg(Path.Combine(dog, "b.JPEG"));
        Solid(6, 6, Red).SaveAsPng(Path.Combine(cat, "a.png"));
        File.WriteAllText(Path.Combine(cat, "notes.txt"), "not an image, not counted");
        File.WriteAllBytes(Path.Combine(cat, "garbage.jpg"), [0xff, 0xd8, 1, 2, 3, 4, 5]);
        WriteTruncatedJpeg(Path.Combine(cat, "cut.jpg"));
        WriteHugeClaimPng(Path.Combine(dog, "bomb.png"));

        Dataset data = ImageFolderReader.Load(folder.Path, size: 8, "folder");

        Assert.Equal((3, 3, 8, 8), (data.Count, data.Channels, data.Height, data.Width));
        Assert.Equal(3, data.SkippedCorrupt);
        Assert.Equal(["cat", "dog"], data.ClassNames);
        Assert.Equal(2, data.ClassCount);
        Assert.Equal([0, 1, 1], data.Labels);
        AssertSolid(data.Image(0), Red, tolerance: 0);
        AssertSolid(data.Image(1), Blue, tolerance: 0);
        AssertSolid(data.Image(2), Blue, JpegTolerance);
    }

    [Fact]
    public void ReadsTinyImageNetTrainLayout()
    {
        using var folder = new TempFolder();
        string images = Path.Combine(CreateClass(folder, "n01443537"), "images");
        Directory.CreateDirectory(images);
        Solid(64, 64, Red).SaveAsJpeg(Path.Combine(images, "n01443537_0.JPEG"));
        File.WriteAllText(Path.Combine(folder.Path, "n01443537", "n01443537_boxes.txt"), "ignored");

        Dataset data = ImageFolderReader.Load(folder.Path, size: 16, "tiny");

        Assert.Equal(1, data.Count);
        Assert.Equal(0, data.SkippedCorrupt);
        AssertSolid(data.Image(0), Red, JpegTolerance);
    }

    [Fact]
    public void ResizesTheShorterSideAndCropsTheCentre()
    {
        using var folder = new TempFolder();
        string only = CreateClass(folder, "only");
        // 16 wide, 8 tall: the left quarter is red, the rest blue; the centred 8x8 square is all blue.
        using var image = Solid(16, 8, Blue);
        for (int y = 0; y < 8; y++)
        {
            for (int x = 0; x < 4; x++)
            {
                image[x, y] = Red;
            }
        }
        image.SaveAsPng(Path.Combine(only, "wide.png"));

        Dataset data = ImageFolderReader.Load(folder.Path, size: 8, "wide");

        AssertSolid(data.Image(0), Blue, tolerance: 0);
    }

    [Fact]
    public void RejectsAMissingDirectory()
    {
        string missing = Path.Combine(Path.GetTempPath(), "empssl-missing-" + Guid.NewGuid().ToString("N"));

        var e = Assert.Throws<DatasetException>(() => ImageFolderReader.Load(missing, 8, "x"));

        Assert.Equal(missing, e.Path);
        Assert.Contains("not found", e.Message);
    }

    [Fact]
    public void RejectsAFolderWithoutClasses()
    {
        using var folder = new TempFolder();

        var e = Assert.Throws<DatasetException>(() => ImageFolderReader.Load(folder.Path, 8, "x"));

        Assert.Contains("no class folders", e.Message);
    }

    [Fact]
    public void RejectsAFolderWhereNothingDecodes()
    {
        using var folder = new TempFolder();
        File.WriteAllBytes(Path.Combine(CreateClass(folder, "a"), "x.png"), [1, 2, 3]);

        var e = Assert.Throws<DatasetException>(() => ImageFolderReader.Load(folder.Path, 8, "x"));

        Assert.Contains("none of its 1 image files", e.Message);
    }

    private static string CreateClass(TempFolder folder, string name)
    {
        string path = Path.Combine(folder.Path, name);
        Directory.CreateDirectory(path);
        return path;
    }

    private static Image<Rgb24> Solid(int width, int height, Rgb24 colour)
    {
        var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                image[x, y] = colour;
            }
        }
        return image;
    }

    private static void AssertSolid(ReadOnlySpan<byte> chw, Rgb24 colour, int tolerance)
    {
        int plane = chw.Length / 3;
        byte[] expected = [colour.R, colour.G, colour.B];
        for (int c = 0; c < 3; c++)
        {
            for (int p = 0; p < plane; p++)
            {
                int got = chw[c * plane + p];
                Assert.True(Math.Abs(got - expected[c]) <= tolerance,
                    $"channel {c} pixel {p}: {got}, expected {expected[c]} within {tolerance}");
            }
        }
    }

    /// <summary>A real JPEG cut off just after its first few hundred bytes.</summary>
    private static void WriteTruncatedJpeg(string path)
    {
        using var image = Solid(32, 32, Red);
        using var buffer = new MemoryStream();
        image.SaveAsJpeg(buffer);
        File.WriteAllBytes(path, buffer.ToArray().AsSpan(0, Math.Min(200, (int)buffer.Length / 2)).ToArray());
    }

    /// <summary>A valid 1x1 PNG whose header is rewritten to claim 30000x30000 pixels (with a correct CRC).</summary>
    private static void WriteHugeClaimPng(string path)
    {
        using var image = Solid(1, 1, Red);
        using var buffer = new MemoryStream();
        image.SaveAsPng(buffer);
        byte[] png = buffer.ToArray();
        // Signature (8) then the IHDR chunk: length (4), "IHDR" (4), width (4), height (4), ... 13 data bytes, CRC.
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), 30000);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), 30000);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), Crc32(png.AsSpan(12, 17)));
        File.WriteAllBytes(path, png);
    }

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xffffffff;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xedb88320 : crc >> 1;
            }
        }
        return ~crc;
    }
}

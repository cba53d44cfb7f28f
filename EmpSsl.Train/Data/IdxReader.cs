using System.Buffers.Binary;
using System.IO.Compression;

namespace EmpSsl.Train.Data;

/// <summary>
/// Reads MNIST-style IDX files (MNIST, Fashion-MNIST), gzipped or raw. An IDX file is a 4-byte magic
/// (0, 0, type 0x08 = unsigned byte, number of dimensions), the dimensions as big-endian int32, then the data.
/// </summary>
public static class IdxReader
{
    private const byte UnsignedByteType = 0x08;

    /// <summary>Largest height or width we accept, so a corrupt header cannot ask for gigabytes.</summary>
    private const int MaxSide = 4096;

    /// <summary>
    /// Loads a split from a folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte
    /// and t10k-labels-idx1-ubyte, each optionally with .gz (a "." before "idx" is accepted too).
    /// </summary>
    public static Dataset LoadDirectory(string directory, Split split, string name)
    {
        if (!Directory.Exists(directory))
        {
            throw new DatasetException(directory, "folder not found");
        }
        string prefix = split == Split.Train ? "train" : "t10k";
        string images = FindFile(directory, prefix, "images", 3);
        string labels = FindFile(directory, prefix, "labels", 1);
        return Load(images, labels, name);
    }

    /// <summary>Loads one images file (count, height, width) and its labels file (count) as a 1-channel dataset.</summary>
    public static Dataset Load(string imagesPath, string labelsPath, string name)
    {
        var (pixels, imageDims) = ReadArray(imagesPath, expectedRank: 3);
        var (labelBytes, labelDims) = ReadArray(labelsPath, expectedRank: 1);
        if (imageDims[0] != labelDims[0])
        {
            throw new DatasetException(labelsPath,
                $"holds {labelDims[0]} labels but {imagesPath} holds {imageDims[0]} images");
        }
        int height = imageDims[1];
        int width = imageDims[2];
        if (height > MaxSide || width > MaxSide)
        {
            throw new DatasetException(imagesPath, $"images of {height}x{width} exceed the {MaxSide} pixel limit");
        }
        var labels = new int[labelBytes.Length];
        int classCount = 1;
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = labelBytes[i];
            classCount = Math.Max(classCount, labels[i] + 1);
        }
        return new Dataset(name, pixels, labels, 1, height, width, classCount);
    }

    /// <summary>Reads an unsigned-byte IDX array of the given rank; returns its bytes and dimensions.</summary>
    public static (byte[] Data, int[] Dims) ReadArray(string path, int expectedRank)
    {
        if (!File.Exists(path))
        {
            throw new DatasetException(path, "file not found");
        }
        try
        {
            using var file = File.OpenRead(path);
            using var stream = IsGzip(file) ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
            return ReadArray(stream, path, expectedRank);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new DatasetException(path, $"cannot be read ({e.Message})", e);
        }
    }

    private static (byte[] Data, int[] Dims) ReadArray(Stream stream, string path, int expectedRank)
    {
        Span<byte> magic = stackalloc byte[4];
        if (stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) < 4)
        {
            throw new DatasetException(path, "too short for an IDX header");
        }
        if (magic[0] != 0 || magic[1] != 0 || magic[2] != UnsignedByteType || magic[3] != expectedRank)
        {
            uint value = BinaryPrimitives.ReadUInt32BigEndian(magic);
            uint wanted = (uint)(UnsignedByteType << 8 | expectedRank);
            throw new DatasetException(path,
                $"wrong magic number 0x{value:x8}; an unsigned-byte IDX array of rank {expectedRank} starts with 0x{wanted:x8}");
        }
        var dims = new int[expectedRank];
        Span<byte> dim = stackalloc byte[4];
        long total = 1;
        for (int d = 0; d < expectedRank; d++)
        {
            if (stream.ReadAtLeast(dim, 4, throwOnEndOfStream: false) < 4)
            {
                throw new DatasetException(path, "the header ends before its dimensions do");
            }
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(dim);
            if (dims[d] <= 0)
            {
                throw new DatasetException(path, $"dimension {d} is {dims[d]}; each must be positive");
            }
            total *= dims[d];
            if (total > Array.MaxLength)
            {
                throw new DatasetException(path, $"the header promises more than {Array.MaxLength} bytes");
            }
        }
        var data = new byte[total];
        int got = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        // GZipStream returns short reads on a truncated .gz instead of throwing, so the count is the only check.
        if (got < data.Length)
        {
            throw new DatasetException(path,
                $"truncated: the header promises {data.Length} data bytes ({string.Join("x", dims)}) but the file holds {got}");
        }
        if (stream.ReadByte() >= 0)
        {
            throw new DatasetException(path,
                $"holds more data than the header's {string.Join("x", dims)} = {data.Length} bytes");
        }
        return (data, dims);
    }

    private static bool IsGzip(FileStream file)
    {
        Span<byte> head = stackalloc byte[2];
        int got = file.ReadAtLeast(head, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return got == 2 && head[0] == 0x1f && head[1] == 0x8b;
    }

    private static string FindFile(string directory, string prefix, string kind, int rank)
    {
        foreach (string separator in new[] { "-", "." })
        {
            string stem = Path.Combine(directory, $"{prefix}-{kind}{separator}idx{rank}-ubyte");
            foreach (string candidate in new[] { stem + ".gz", stem })
            {
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }
        throw new DatasetException(directory, $"no {prefix}-{kind}-idx{rank}-ubyte(.gz) file in this folder");
    }
}

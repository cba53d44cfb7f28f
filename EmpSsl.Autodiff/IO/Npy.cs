using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace EmpSsl.Autodiff.IO;

/// <summary>
/// NumPy's .npy format, version 1.0, float32 only: the magic "\x93NUMPY", version bytes 1 0, a 2-byte
/// little-endian header length, a Python dict literal {'descr': '&lt;f4', 'fortran_order': False, 'shape': (...), }
/// padded with spaces and a newline so the data starts at a multiple of 64, then the raw little-endian data.
/// </summary>
public static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static void Write(string path, ReadOnlySpan<float> values, params int[] shape)
    {
        long count = 1;
        foreach (int d in shape)
        {
            count *= d;
        }
        if (count != values.Length)
        {
            throw new ArgumentException($"npy {path}: shape ({string.Join(", ", shape)}) needs {count} values, got {values.Length}");
        }
        string dims = shape.Length == 1
            ? $"({shape[0]},)"
            : $"({string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))})";
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {dims}, }}";
        int unpadded = Magic.Length + 2 + 2 + dict.Length + 1;
        string header = dict + new string(' ', (64 - unpadded % 64) % 64) + "\n";
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        file.Write(Magic);
        file.Write([1, 0]);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
        file.Write(len);
        file.Write(Encoding.ASCII.GetBytes(header));
        var data = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * 4), values[i]);
        }
        file.Write(data);
    }

    /// <summary>Reads a v1.0 little-endian float32 C-order file, as <see cref="Write"/> makes them.</summary>
    public static (float[] Values, int[] Shape) Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic) || bytes[6] != 1)
        {
            throw new InvalidDataException($"npy {path}: not an NPY v1.x file");
        }
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        if (10 + headerLength > bytes.Length)
        {
            throw new InvalidDataException($"npy {path}: header of {headerLength} bytes runs past the end of the file");
        }
        string header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        if (!header.Contains("'descr': '<f4'") || !header.Contains("'fortran_order': False"))
        {
            throw new InvalidDataException($"npy {path}: only little-endian float32 in C order is supported, header is {header.Trim()}");
        }
        var match = ShapePattern().Match(header);
        if (!match.Success)
        {
            throw new InvalidDataException($"npy {path}: no shape in header {header.Trim()}");
        }
        int[] shape = match.Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture))
            .ToArray();
        long count = shape.Aggregate(1L, (a, d) => a * d);
        int dataStart = 10 + headerLength;
        if (bytes.Length - dataStart != count * 4)
        {
            throw new InvalidDataException($"npy {path}: shape ({string.Join(", ", shape)}) needs {count * 4} data bytes, the file has {bytes.Length - dataStart}");
        }
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(dataStart + i * 4));
        }
        return (values, shape);
    }

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}

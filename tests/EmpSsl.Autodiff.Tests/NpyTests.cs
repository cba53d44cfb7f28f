using System.Text;
using EmpSsl.Autodiff.IO;

namespace EmpSsl.Autodiff.Tests;

public sealed class NpyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("empssl-npy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(new[] { 5 }, "(5,)")]
    [InlineData(new[] { 2, 3 }, "(2, 3)")]
    [InlineData(new[] { 2, 1, 2 }, "(2, 1, 2)")]
    public void HeaderFollowsNpyV1AndDataRoundTrips(int[] shape, string shapeText)
    {
        var values = Enumerable.Range(0, shape.Aggregate(1, (a, d) => a * d)).Select(i => i * 0.5f - 1f).ToArray();
        string path = Path.Combine(_dir, "a.npy");
        Npy.Write(path, values, shape);

        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0], bytes[..8]);
        int headerLength = bytes[8] | (bytes[9] << 8);
        Assert.Equal(0, (10 + headerLength) % 64);
        string header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.Equal($"{{'descr': '<f4', 'fortran_order': False, 'shape': {shapeText}, }}", header.TrimEnd('\n', ' '));
        Assert.EndsWith("\n", header);
        Assert.Equal(10 + headerLength + 4 * values.Length, bytes.Length);

        var (read, readShape) = Npy.Read(path);
        Assert.Equal(shape, readShape);
        Assert.Equal(values, read);
    }

    [Fact]
    public void WriteRejectsAShapeThatDoesNotFit()
    {
        var e = Assert.Throws<ArgumentException>(() => Npy.Write(Path.Combine(_dir, "b.npy"), new float[5], 2, 3));
        Assert.Contains("needs 6", e.Message);
    }

    [Fact]
    public void ReadRejectsATruncatedFile()
    {
        string path = Path.Combine(_dir, "c.npy");
        Npy.Write(path, new float[8], 8);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..^3]);
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(path));
        Assert.Contains("needs 32 data bytes", e.Message);
    }
}

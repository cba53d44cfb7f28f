using System.Buffers.Binary;
using Encoding = System.Text.Encoding;
using EmpSsl.Autodiff.IO;
using EmpSsl.Autodiff.Nn;
using EmpSsl.Kernels.Cpu;

namespace EmpSsl.Autodiff.Tests;

/// <summary>safetensors: a round trip, a file built byte by byte from the format spec, and every error case.</summary>
public sealed class SafeTensorsTests : IDisposable
{
    private readonly CpuKernels _kernels = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("empssl-safetensors-").FullName;

    public void Dispose()
    {
        _kernels.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void RoundTripRestoresEveryTensorAndCounter()
    {
        var saved = SmallEncoder(seed: 1);
        var counter = saved.StateDict().First(e => e.Counter is not null);
        counter.Counter!.Value = 12345678901;
        string path = Path.Combine(_dir, "model.safetensors");
        SafeTensors.Save(saved, _kernels, path, new Dictionary<string, string> { ["epoch"] = "3" });

        var loaded = SmallEncoder(seed: 2);
        var metadata = SafeTensors.Load(loaded, _kernels, path);

        Assert.Equal("3", metadata["epoch"]);
        foreach (var (a, b) in saved.StateDict().Zip(loaded.StateDict()))
        {
            Assert.Equal(a.Key, b.Key);
            if (a.Counter is not null)
            {
                Assert.Equal(a.Counter.Value, b.Counter!.Value);
            }
            else
            {
                Assert.Equal(a.Tensor!.ToHost(_kernels), b.Tensor!.ToHost(_kernels));
            }
        }
        Assert.Equal(12345678901, loaded.StateDict().First(e => e.Key == counter.Key).Counter!.Value);
    }

    [Fact]
    public void WrittenFilesFollowTheLayout()
    {
        string path = Path.Combine(_dir, "layout.safetensors");
        SafeTensors.Write(path, [SafeTensor.FromFloats("w", [2, 1], [1f, 2f]), SafeTensor.FromLong("n", 5)]);
        byte[] bytes = File.ReadAllBytes(path);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, (8 + headerLength) % 8);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength).TrimEnd(' ');
        Assert.Equal("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[0,8]},\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[8,16]}}", header);
        Assert.Equal(8 + (int)headerLength + 16, bytes.Length);
        Assert.Equal(2f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)headerLength + 4)));
        Assert.Equal(5L, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8 + (int)headerLength + 8)));
    }

    [Fact]
    public void ReadsAFileBuiltByteByByteFromTheSpec()
    {
        // Metadata first and keys out of data order, as other writers may produce; no padding.
        string json = "{\"__metadata__\":{\"format\":\"pt\"},\"b\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[12,20]},"
            + "\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}";
        byte[] header = Encoding.UTF8.GetBytes(json);
        var file = new List<byte>();
        file.AddRange(BitConverter.IsLittleEndian ? BitConverter.GetBytes((ulong)header.Length) : throw new PlatformNotSupportedException());
        file.AddRange(header);
        file.AddRange([0x00, 0x00, 0xC0, 0x3F]); // 1.5f
        file.AddRange([0x00, 0x00, 0x00, 0xC0]); // -2f
        file.AddRange([0x00, 0x00, 0x80, 0x7F]); // +inf
        file.AddRange([0x2A, 0, 0, 0, 0, 0, 0, 0]); // 42L
        string path = Path.Combine(_dir, "spec.safetensors");
        File.WriteAllBytes(path, file.ToArray());

        var read = SafeTensors.Read(path);

        Assert.Equal("pt", read.Metadata["format"]);
        Assert.Equal(["b", "a"], read.Tensors.Select(t => t.Key));
        var a = read.Tensors.Single(t => t.Key == "a");
        Assert.Equal(SafeTensor.F32, a.Dtype);
        Assert.Equal([3L], a.Shape);
        Assert.Equal([1.5f, -2f, float.PositiveInfinity], a.ToFloats());
        var b = read.Tensors.Single(t => t.Key == "b");
        Assert.Equal(SafeTensor.I64, b.Dtype);
        Assert.Empty(b.Shape);
        Assert.Equal(42L, b.ToLong());
    }

    [Fact]
    public void TruncatedFilesAreRejected()
    {
        string path = SaveSmall("truncated.safetensors");
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^4]);
        AssertBad(() => SafeTensors.Read(path), path, "truncated");
        File.WriteAllBytes(path, bytes[..5]);
        AssertBad(() => SafeTensors.Read(path), path, "8-byte header length");
        File.WriteAllBytes(path, bytes[..100]);
        AssertBad(() => SafeTensors.Read(path), path, "header");
    }

    [Fact]
    public void MalformedHeadersAreRejected()
    {
        AssertBad(() => SafeTensors.Read(Raw("notjson.safetensors", "{\"a\":", [])), "notjson", "not valid JSON");
        AssertBad(() => SafeTensors.Read(Raw("array.safetensors", "[1,2]", [])), "array", "not a JSON object");
        AssertBad(() => SafeTensors.Read(Raw("nooffsets.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[4])), "nooffsets", "'a'");
        AssertBad(() => SafeTensors.Read(Raw("dtype.safetensors", "{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", new byte[4])), "dtype", "BF16");
        AssertBad(() => SafeTensors.Read(Raw("size.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", new byte[4])), "size", "needs 8");
        AssertBad(() => SafeTensors.Read(Raw("past.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[4])), "past", "outside");
        AssertBad(() => SafeTensors.Read(Raw("overlap.safetensors",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[8])), "overlap", "overlap");
        AssertBad(() => SafeTensors.Read(Raw("extra.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[8])), "extra", "after the last tensor");
        AssertBad(() => SafeTensors.Read(Raw("negative.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4])), "negative", "non-negative");
    }

    [Fact]
    public void LoadNamesAMissingKey()
    {
        var model = SmallEncoder(1);
        var entries = TensorsOf(model).Where(t => t.Key != "layer3.0.bn2.running_var").ToList();
        string path = Path.Combine(_dir, "missing.safetensors");
        SafeTensors.Write(path, entries);
        AssertBad(() => SafeTensors.Load(SmallEncoder(2), _kernels, path), path, "missing key(s): layer3.0.bn2.running_var");
    }

    [Fact]
    public void LoadNamesAnUnexpectedKey()
    {
        var entries = TensorsOf(SmallEncoder(1));
        entries.Add(SafeTensor.FromFloats("fc.weight", [2, 2], new float[4]));
        string path = Path.Combine(_dir, "unexpected.safetensors");
        SafeTensors.Write(path, entries);
        AssertBad(() => SafeTensors.Load(SmallEncoder(2), _kernels, path), path, "unexpected key(s): fc.weight");
    }

    [Fact]
    public void LoadNamesAMisShapedTensorAndChangesNothing()
    {
        var entries = TensorsOf(SmallEncoder(1));
        int at = entries.FindIndex(t => t.Key == "projector.0.weight");
        var old = entries[at];
        entries[at] = SafeTensor.FromFloats(old.Key, [(int)old.Shape[1], (int)old.Shape[0]], old.ToFloats());
        string path = Path.Combine(_dir, "shape.safetensors");
        SafeTensors.Write(path, entries);
        var target = SmallEncoder(2);
        var before = target.StateDict().First().Tensor!.ToHost(_kernels);
        AssertBad(() => SafeTensors.Load(target, _kernels, path), path, "'projector.0.weight' has shape [64, 16], the module expects [16, 64]");
        Assert.Equal(before, target.StateDict().First().Tensor!.ToHost(_kernels));
    }

    [Fact]
    public void LoadRejectsAFloatCounter()
    {
        var entries = TensorsOf(SmallEncoder(1));
        int at = entries.FindIndex(t => t.Key == "bn1.num_batches_tracked");
        entries[at] = SafeTensor.FromFloats("bn1.num_batches_tracked", [1], [0f]);
        string path = Path.Combine(_dir, "dtype.safetensors");
        SafeTensors.Write(path, entries);
        AssertBad(() => SafeTensors.Load(SmallEncoder(2), _kernels, path), path, "'bn1.num_batches_tracked' is F32, expected I64");
    }

    private Encoder SmallEncoder(int seed) => new(new Init(_kernels, seed), Stem.Cifar, 0.125, 3, ProjectorPreset.Paper, hidden: 16, output: 8);

    private List<SafeTensor> TensorsOf(Module model)
    {
        string path = Path.Combine(_dir, $"source-{Guid.NewGuid():N}.safetensors");
        SafeTensors.Save(model, _kernels, path);
        return SafeTensors.Read(path).Tensors.ToList();
    }

    private string SaveSmall(string name)
    {
        string path = Path.Combine(_dir, name);
        SafeTensors.Save(SmallEncoder(1), _kernels, path);
        return path;
    }

    private string Raw(string name, string json, byte[] data)
    {
        byte[] header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static void AssertBad(Action read, string pathPart, string messagePart)
    {
        var e = Assert.Throws<InvalidDataException>(read);
        Assert.Contains(pathPart, e.Message);
        Assert.Contains(messagePart, e.Message);
    }
}

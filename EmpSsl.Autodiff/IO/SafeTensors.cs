using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using EmpSsl.Autodiff.Nn;
using EmpSsl.Kernels;

namespace EmpSsl.Autodiff.IO;

/// <summary>One tensor of a safetensors file, on the host: its dtype ("F32" or "I64"), shape and raw little-endian bytes.</summary>
public sealed record SafeTensor(string Key, string Dtype, long[] Shape, byte[] Bytes)
{
    public const string F32 = "F32";

    public const string I64 = "I64";

    public static SafeTensor FromFloats(string key, int[] shape, ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }
        return new SafeTensor(key, F32, shape.Select(d => (long)d).ToArray(), bytes);
    }

    /// <summary>A 0-dimensional I64, as PyTorch stores BatchNorm's num_batches_tracked.</summary>
    public static SafeTensor FromLong(string key, long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return new SafeTensor(key, I64, [], bytes);
    }

    public float[] ToFloats()
    {
        var values = new float[Bytes.Length / 4];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(Bytes.AsSpan(i * 4));
        }
        return values;
    }

    public long ToLong() => BinaryPrimitives.ReadInt64LittleEndian(Bytes);
}

/// <summary>A safetensors file read into memory: tensors in header order plus the optional string metadata.</summary>
public sealed record SafeTensorsFile(IReadOnlyList<SafeTensor> Tensors, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// The safetensors format (huggingface/safetensors), by hand: an 8-byte little-endian header length N, N bytes of
/// JSON mapping each key to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the data that
/// follows the header) plus an optional "__metadata__" of strings, then the raw little-endian tensor bytes.
/// The reader trusts nothing: sizes, offsets, dtypes and coverage of the data are all checked, and every
/// error names the file (and the key when there is one).
/// </summary>
public static class SafeTensors
{
    private const string MetadataKey = "__metadata__";

    /// <summary>Bigger headers are refused, as the reference implementation refuses headers over 100 MB.</summary>
    private const long MaxHeaderBytes = 100_000_000;

    public static void Write(string path, IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is not null && metadata.Count > 0)
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (k, v) in metadata)
                {
                    json.WriteString(k, v);
                }
                json.WriteEndObject();
            }
            long offset = 0;
            var seen = new HashSet<string>();
            foreach (var t in tensors)
            {
                if (!seen.Add(t.Key) || t.Key == MetadataKey)
                {
                    throw new ArgumentException($"safetensors {path}: key '{t.Key}' is duplicated or reserved");
                }
                if (t.Bytes.LongLength != ElementCount(t.Shape, path, t.Key) * DtypeSize(t.Dtype, path, t.Key))
                {
                    throw new ArgumentException($"safetensors {path}: key '{t.Key}' has {t.Bytes.Length} bytes for shape [{string.Join(", ", t.Shape)}] of {t.Dtype}");
                }
                json.WriteStartObject(t.Key);
                json.WriteString("dtype", t.Dtype);
                json.WriteStartArray("shape");
                foreach (long d in t.Shape)
                {
                    json.WriteNumberValue(d);
                }
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + t.Bytes.LongLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += t.Bytes.LongLength;
            }
            json.WriteEndObject();
        }
        // The format pads the header with spaces so the data starts 8-byte aligned.
        while (header.Length % 8 != 0)
        {
            header.WriteByte((byte)' ');
        }
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        file.Write(length);
        header.Position = 0;
        header.CopyTo(file);
        foreach (var t in tensors)
        {
            file.Write(t.Bytes);
        }
    }

    public static SafeTensorsFile Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8)
        {
            throw Bad(path, $"is {bytes.Length} bytes long, shorter than the 8-byte header length");
        }
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > MaxHeaderBytes || (long)headerLength > bytes.Length - 8)
        {
            throw Bad(path, $"claims a {headerLength}-byte header but has only {bytes.Length - 8} bytes after the length (truncated?)");
        }
        int dataStart = 8 + (int)headerLength;
        long dataLength = bytes.Length - dataStart;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        }
        catch (JsonException e)
        {
            throw Bad(path, $"has a header that is not valid JSON: {e.Message}");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Bad(path, "has a header that is not a JSON object");
            }
            var tensors = new List<SafeTensor>();
            var metadata = new Dictionary<string, string>();
            var spans = new List<(long Begin, long End, string Key)>();
            var keys = new HashSet<string>();
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                string key = property.Name;
                if (!keys.Add(key))
                {
                    throw Bad(path, $"lists key '{key}' twice");
                }
                if (key == MetadataKey)
                {
                    ReadMetadata(path, property.Value, metadata);
                    continue;
                }
                var (dtype, shape, begin, end) = ReadEntry(path, key, property.Value);
                long expected = ElementCount(shape, path, key) * DtypeSize(dtype, path, key);
                if (begin < 0 || end < begin || end > dataLength)
                {
                    throw Bad(path, $"key '{key}': data_offsets [{begin}, {end}] fall outside the {dataLength} data bytes (truncated?)");
                }
                if (end - begin != expected)
                {
                    throw Bad(path, $"key '{key}': data_offsets [{begin}, {end}] hold {end - begin} bytes but {dtype} [{string.Join(", ", shape)}] needs {expected}");
                }
                spans.Add((begin, end, key));
                tensors.Add(new SafeTensor(key, dtype, shape, bytes.AsSpan(dataStart + (int)begin, (int)(end - begin)).ToArray()));
            }
            // The tensors must tile the data exactly: no overlaps, no holes, nothing left over.
            spans.Sort((a, b) => a.Begin.CompareTo(b.Begin));
            long at = 0;
            foreach (var (b, e, key) in spans)
            {
                if (b != at)
                {
                    throw Bad(path, $"key '{key}': data starts at byte {b} where {at} was expected (overlap or hole in the data)");
                }
                at = e;
            }
            if (at != dataLength)
            {
                throw Bad(path, $"has {dataLength - at} bytes of data after the last tensor");
            }
            return new SafeTensorsFile(tensors, metadata);
        }
    }

    /// <summary>Writes a module's state dict: F32 tensors and I64 counters, in state-dict order.</summary>
    public static void Save(Module module, IKernels kernels, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var tensors = new List<SafeTensor>();
        foreach (var entry in module.StateDict())
        {
            tensors.Add(entry.Counter is not null
                ? SafeTensor.FromLong(entry.Key, entry.Counter.Value)
                : SafeTensor.FromFloats(entry.Key, entry.Tensor!.Shape, entry.Tensor.ToHost(kernels)));
        }
        Write(path, tensors, metadata);
    }

    /// <summary>
    /// Loads a state dict strictly, as load_state_dict(strict=True): every key of the module present with its shape
    /// and dtype, and no other key. Everything is checked before anything is written to the module.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Load(Module module, IKernels kernels, string path)
    {
        var file = Read(path);
        var byKey = file.Tensors.ToDictionary(t => t.Key);
        var entries = module.StateDict().ToList();
        var expectedKeys = entries.Select(e => e.Key).ToHashSet();
        var missing = entries.Where(e => !byKey.ContainsKey(e.Key)).Select(e => e.Key).ToList();
        if (missing.Count > 0)
        {
            throw Bad(path, $"is missing key(s): {string.Join(", ", missing)}");
        }
        var unexpected = file.Tensors.Where(t => !expectedKeys.Contains(t.Key)).Select(t => t.Key).ToList();
        if (unexpected.Count > 0)
        {
            throw Bad(path, $"has unexpected key(s): {string.Join(", ", unexpected)}");
        }
        foreach (var entry in entries)
        {
            var t = byKey[entry.Key];
            string dtype = entry.Counter is not null ? SafeTensor.I64 : SafeTensor.F32;
            if (t.Dtype != dtype)
            {
                throw Bad(path, $"key '{entry.Key}' is {t.Dtype}, expected {dtype}");
            }
            if (!t.Shape.SequenceEqual(entry.Shape.Select(d => (long)d)))
            {
                throw Bad(path, $"key '{entry.Key}' has shape [{string.Join(", ", t.Shape)}], the module expects [{string.Join(", ", entry.Shape)}]");
            }
        }
        foreach (var entry in entries)
        {
            var t = byKey[entry.Key];
            if (entry.Counter is not null)
            {
                entry.Counter.Value = t.ToLong();
            }
            else
            {
                kernels.Upload(entry.Tensor!.Data, t.ToFloats());
            }
        }
        return file.Metadata;
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Bad(path, $"has a {MetadataKey} that is not an object of strings");
        }
        foreach (var m in value.EnumerateObject())
        {
            if (m.Value.ValueKind != JsonValueKind.String)
            {
                throw Bad(path, $"{MetadataKey} '{m.Name}' is not a string");
            }
            metadata[m.Name] = m.Value.GetString()!;
        }
    }

    private static (string Dtype, long[] Shape, long Begin, long End) ReadEntry(string path, string key, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String
            || !value.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array
            || !value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array
            || offsets.GetArrayLength() != 2)
        {
            throw Bad(path, $"key '{key}' needs \"dtype\" (string), \"shape\" (array) and \"data_offsets\" ([begin, end])");
        }
        var dims = new long[shape.GetArrayLength()];
        int i = 0;
        foreach (var d in shape.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out dims[i]) || dims[i] < 0)
            {
                throw Bad(path, $"key '{key}' has a shape entry that is not a non-negative integer: {d}");
            }
            i++;
        }
        if (!offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end))
        {
            throw Bad(path, $"key '{key}' has data_offsets that are not integers");
        }
        return (dtype.GetString()!, dims, begin, end);
    }

    private static long ElementCount(long[] shape, string path, string key)
    {
        long n = 1;
        foreach (long d in shape)
        {
            if (d != 0 && n > int.MaxValue / d)
            {
                throw Bad(path, $"key '{key}' has shape [{string.Join(", ", shape)}], too large to hold");
            }
            n *= d;
        }
        return n;
    }

    private static long DtypeSize(string dtype, string path, string key) => dtype switch
    {
        SafeTensor.F32 => 4,
        SafeTensor.I64 => 8,
        _ => throw Bad(path, $"key '{key}' has dtype {dtype}; only F32 and I64 are supported"),
    };

    private static InvalidDataException Bad(string path, string message) => new($"safetensors file {path} {message}");
}

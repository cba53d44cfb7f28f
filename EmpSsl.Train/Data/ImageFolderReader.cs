using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace EmpSsl.Train.Data;

/// <summary>
/// Reads a folder of images per class (the ImageNet-100 layout <c>root/class/*.JPEG</c>, and Tiny ImageNet's
/// train split <c>root/class/images/*.JPEG</c>) into an RGB dataset of size x size images. Labels are the class
/// folders in ordinal name order. A file that fails to decode is skipped and counted in SkippedCorrupt.
/// </summary>
public static class ImageFolderReader
{
    /// <summary>Largest side we decode: ImageNet's largest are a few thousand pixels.</summary>
    public const int MaxSide = 8192;

    /// <summary>Largest pixel count we decode (3 bytes each in Rgb24), well under the allocation cap.</summary>
    public const long MaxPixels = 40_000_000;

    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg"];

    /// <summary>
    /// Only PNG and JPEG, and a per-allocation cap, because ImageSharp 2.1.13 has unfixed advisories in its other
    /// codecs and decodes an image that claims 30000x30000 pixels into gigabytes without complaint.
    /// </summary>
    private static readonly Configuration Decoding = CreateConfiguration();

    /// <summary>Loads every class folder under root, each image resized (shorter side, then centre crop) to size x size.</summary>
    public static Dataset Load(string root, int size, string name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if (!Directory.Exists(root))
        {
            throw new DatasetException(root, "folder not found");
        }
        string[] classFolders = Directory.GetDirectories(root).Order(StringComparer.Ordinal).ToArray();
        if (classFolders.Length == 0)
        {
            throw new DatasetException(root, "holds no class folders (expected root/<class>/*.JPEG or root/<class>/images/*.JPEG)");
        }
        var files = new List<(string Path, int Label)>();
        for (int label = 0; label < classFolders.Length; label++)
        {
            string images = Path.Combine(classFolders[label], "images");
            string folder = Directory.Exists(images) ? images : classFolders[label];
            foreach (string file in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
            {
                if (Extensions.Contains(Path.GetExtension(file), StringComparer.OrdinalIgnoreCase))
                {
                    files.Add((file, label));
                }
            }
        }
        if (files.Count == 0)
        {
            throw new DatasetException(root, "its class folders hold no .png, .jpg or .jpeg files");
        }
        int imageBytes = 3 * size * size;
        if ((long)files.Count * imageBytes > Array.MaxLength)
        {
            throw new DatasetException(root,
                $"{files.Count} images of 3x{size}x{size} need {(long)files.Count * imageBytes >> 20} MiB, more than one array holds; choose a smaller image size");
        }

        var decoded = new byte[files.Count * imageBytes];
        var ok = new bool[files.Count];
        Parallel.For(0, files.Count, i => ok[i] = TryDecode(files[i].Path, size, decoded.AsSpan(i * imageBytes, imageBytes)));

        // Compact in place: the good images keep their order, so labels stay grouped by class.
        int kept = 0;
        var labels = new List<int>(files.Count);
        for (int i = 0; i < files.Count; i++)
        {
            if (!ok[i])
            {
                continue;
            }
            if (kept != i)
            {
                decoded.AsSpan(i * imageBytes, imageBytes).CopyTo(decoded.AsSpan(kept * imageBytes));
            }
            labels.Add(files[i].Label);
            kept++;
        }
        if (kept == 0)
        {
            throw new DatasetException(root, $"none of its {files.Count} image files could be decoded");
        }
        byte[] pixels = kept == files.Count ? decoded : decoded.AsSpan(0, kept * imageBytes).ToArray();
        string[] classNames = classFolders.Select(f => Path.GetFileName(f)).ToArray();
        return new Dataset(name, pixels, labels.ToArray(), 3, size, size, classFolders.Length,
            skippedCorrupt: files.Count - kept, classNames: classNames);
    }

    /// <summary>Decodes one file into chw (3, size, size); false when the file is unreadable, corrupt or too large.</summary>
    public static bool TryDecode(string path, int size, Span<byte> chw)
    {
        try
        {
            using var image = Decode(path);
            if (image is null)
            {
                return false;
            }
            image.Mutate(x => x.Resize(new ResizeOptions
            {
                Size = new Size(size, size),
                Mode = ResizeMode.Crop,
                Sampler = KnownResamplers.Bicubic,
            }));
            var interleaved = new Rgb24[size * size];
            image.CopyPixelDataTo(interleaved);
            int plane = size * size;
            for (int p = 0; p < plane; p++)
            {
                chw[p] = interleaved[p].R;
                chw[plane + p] = interleaved[p].G;
                chw[2 * plane + p] = interleaved[p].B;
            }
            return true;
        }
        // A JPEG cut off after its frame header throws NullReferenceException in ImageSharp 2.1.13, not a format
        // error, so anything thrown while decoding one file marks that file as corrupt.
        catch (Exception)
        {
            return false;
        }
    }

    private static Image<Rgb24>? Decode(string path)
    {
        using var stream = File.OpenRead(path);
        IImageInfo? info = Image.Identify(Decoding, stream);
        if (info is null || info.Width < 1 || info.Height < 1 || info.Width > MaxSide || info.Height > MaxSide
            || (long)info.Width * info.Height > MaxPixels)
        {
            return null;
        }
        stream.Position = 0;
        return Image.Load<Rgb24>(Decoding, stream);
    }

    private static Configuration CreateConfiguration()
    {
        var configuration = new Configuration(new PngConfigurationModule(), new JpegConfigurationModule());
        configuration.MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions
        {
            AllocationLimitMegabytes = 256,
        });
        return configuration;
    }
}

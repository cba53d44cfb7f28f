namespace EmpSsl.Train.IO;

/// <summary>
/// Writes a file so that a reader (or a crash) sees the old file or the new one, never half of either:
/// write a temporary file beside it, flush it to disk, then rename over the target. <see cref="Stage"/> and
/// <see cref="Commit"/> split the two halves for callers that must finish several files before renaming any.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes the temporary file for <paramref name="path"/> through <paramref name="writeTemp"/> and flushes it; returns its path.</summary>
    public static string Stage(string path, Action<string> writeTemp)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string tmp = $"{full}.tmp-{Environment.ProcessId}";
        try
        {
            writeTemp(tmp);
            using var fs = new FileStream(tmp, FileMode.Open, FileAccess.ReadWrite);
            fs.Flush(flushToDisk: true);
        }
        catch
        {
            File.Delete(tmp);
            throw;
        }
        return tmp;
    }

    /// <summary>Renames a staged file over its target.</summary>
    public static void Commit(string staged, string path) => File.Move(staged, Path.GetFullPath(path), overwrite: true);

    /// <summary>Writes <paramref name="path"/> atomically through a writer that takes a file path.</summary>
    public static void WriteFile(string path, Action<string> writeTemp) => Commit(Stage(path, writeTemp), path);

    public static void Write(string path, Action<Stream> write) =>
        WriteFile(path, tmp =>
        {
            using var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None);
            write(fs);
        });

    public static void WriteAllText(string path, string text) =>
        Write(path, s =>
        {
            using var w = new StreamWriter(s, leaveOpen: true);
            w.Write(text);
        });
}

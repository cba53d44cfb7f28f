namespace EmpSsl.Train.Data;

/// <summary>A dataset file or folder that is missing or not in the format its reader expects.</summary>
public sealed class DatasetException : Exception
{
    public DatasetException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        Path = path;
    }

    /// <summary>The file or folder at fault.</summary>
    public string Path { get; }
}

using System.Globalization;
using System.Text;
using EmpSsl.Train.Training;
using Spectre.Console;

namespace EmpSsl.Train.Cli;

/// <summary>
/// Per-step output: every step as a line of metrics.jsonl (flushed, so a crash keeps it), and on screen a progress
/// bar with the ETA when the console is interactive, else a plain line now and then with the ETA written out
/// (Spectre's bar falls back to ETA-less lines when output goes to a file or CI).
/// </summary>
internal sealed class StepLog : IDisposable
{
    private readonly StreamWriter _metrics;
    private readonly DateTime _start = DateTime.UtcNow;
    private readonly int _firstStep;
    private DateTime _lastPrint = DateTime.MinValue;

    public StepLog(string outDir, int firstStep)
    {
        Directory.CreateDirectory(outDir);
        _metrics = new StreamWriter(Path.Combine(outDir, "metrics.jsonl"), append: true, new UTF8Encoding(false));
        _firstStep = firstStep;
    }

    public static bool Interactive => AnsiConsole.Profile.Capabilities.Interactive;

    public void Write(StepInfo s)
    {
        _metrics.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"step\":{s.Step},\"epoch\":{s.Epoch},\"loss\":{s.Loss:R},\"tcr\":{s.CodingRate:R},\"cos\":{s.Cosine:R},\"lr\":{s.Lr:R},\"crops_per_s\":{s.CropsPerSecond:F1},\"seconds\":{s.Seconds:F4}}}"));
        _metrics.Flush();
    }

    /// <summary>Seconds left at the pace of the steps run in this process.</summary>
    public TimeSpan Eta(StepInfo s)
    {
        double perStep = (DateTime.UtcNow - _start).TotalSeconds / Math.Max(1, s.Step - _firstStep);
        return TimeSpan.FromSeconds(perStep * (s.TotalSteps - s.Step));
    }

    public void PrintPlain(StepInfo s)
    {
        bool last = s.Step == s.TotalSteps;
        if (!last && s.Step > _firstStep + 3 && (DateTime.UtcNow - _lastPrint).TotalSeconds < 10)
        {
            return;
        }
        _lastPrint = DateTime.UtcNow;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"step {s.Step}/{s.TotalSteps}  loss {s.Loss:F3}  tcr {s.CodingRate:F3}  cos {s.Cosine:F4}  lr {s.Lr:F4}  {s.CropsPerSecond:F0} crops/s  ETA {Eta(s):hh\\:mm\\:ss}"));
    }

    public void Dispose() => _metrics.Dispose();
}

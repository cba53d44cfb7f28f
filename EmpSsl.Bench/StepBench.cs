using System.Diagnostics;
using System.Text.Json.Serialization;
using EmpSsl.Autodiff.Nn;
using EmpSsl.Kernels;
using EmpSsl.Train.Data;
using EmpSsl.Train.Optim;
using EmpSsl.Train.Training;

namespace EmpSsl.Bench;

/// <summary>The step benchmark's result. Phase and op-kind times are medians over the timed steps, in seconds.</summary>
public sealed record StepResult(
    [property: JsonPropertyName("crops_per_second")] double CropsPerSecond,
    [property: JsonPropertyName("seconds_per_step")] double SecondsPerStep,
    [property: JsonPropertyName("peak_rss_mb")] double PeakRssMb,
    [property: JsonPropertyName("device")] string Device,
    [property: JsonPropertyName("conv_math")] string ConvMath,
    [property: JsonPropertyName("config")] string Config,
    [property: JsonPropertyName("phases")] Dictionary<string, double> Phases,
    [property: JsonPropertyName("op_kinds")] Dictionary<string, double> OpKinds);

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(StepResult))]
internal sealed partial class StepJson : JsonSerializerContext;

public sealed record StepOptions(string Arch = "resnet18", int Image = 32, int Batch = 8, int Patches = 20, double Width = 1.0,
    int Channels = 3, string Projector = "paper", int Hidden = 4096, int Out = 512, int Steps = 5, int Warmup = 2, int ChunkViews = 0, bool Profile = true);

/// <summary>
/// Times the production EMP-SSL step (<see cref="EmpSslStep"/>: augmentation, forward, loss, backward, LARS) on random
/// images: the median of the timed steps after warm-up. A second, profiled pass splits the step by op kind;
/// the profiler synchronizes after every op, so its split is for finding bottlenecks, not the headline number.
/// </summary>
public static class StepBench
{
    public static StepResult Run(IKernels kernels, StepOptions o, TextWriter log)
    {
        var data = RandomImages(o.Batch, o.Channels, 2 * o.Image);
        var config = new EmpSsl.Train.TrainConfig { Arch = o.Arch, Width = o.Width, Projector = o.Projector, Hidden = o.Hidden, ProjectorOut = o.Out };
        var profiler = new ProfilingKernels(kernels);
        var model = ModelFactory.Build(profiler, config, o.Channels);
        using var lars = new Lars(profiler, model.Parameters());
        var spec = new AugmentSpec { OutputSize = o.Image, Scale = 0.25 };
        using var step = new EmpSslStep(profiler, model, lars, data, spec, o.Patches, o.Batch, 200f, 0.2f, o.ChunkViews);
        var indices = Enumerable.Range(0, o.Batch).ToArray();
        string desc = $"{o.Arch} x{o.Width} {o.Channels}x{o.Image}x{o.Image}, b={o.Batch}, n={o.Patches}, projector {o.Projector} {o.Hidden}->{o.Out}{(o.ChunkViews > 0 ? $", two-pass in chunks of {o.ChunkViews} views" : "")}";
        log.WriteLine($"step benchmark on '{kernels.Name}': {desc}; {o.Warmup} warm-up + {o.Steps} timed steps");

        var totals = new List<double>();
        var phases = new List<StepTimes>();
        for (int i = 0; i < o.Warmup + o.Steps; i++)
        {
            var crops = CropSampler.Sample(spec, 1, 0, i, o.Batch, o.Patches, o.Channels, data.Height, data.Width);
            var sw = Stopwatch.StartNew();
            var loss = step.Run(indices, crops, 0.3f, i);
            double t = sw.Elapsed.TotalSeconds;
            log.WriteLine($"  step {i}{(i < o.Warmup ? " (warm-up)" : "")}: {t:F3} s, {o.Batch * o.Patches / t:F1} crops/s, loss {loss.Loss:F2}");
            if (i >= o.Warmup)
            {
                totals.Add(t);
                phases.Add(step.LastTimes);
            }
            // Only the profiled pass below should fill the per-op totals.
            profiler.Clear();
        }
        double median = Median(totals);

        // Profiled pass: one more step, timed per op (skipped with --no-profile, for steps that take many minutes).
        double profiledWall = 0;
        if (o.Profile)
        {
            var last = CropSampler.Sample(spec, 1, 0, o.Warmup + o.Steps, o.Batch, o.Patches, o.Channels, data.Height, data.Width);
            var profiled = Stopwatch.StartNew();
            step.Run(indices, last, 0.3f, o.Warmup + o.Steps);
            profiledWall = profiled.Elapsed.TotalSeconds;
        }
        double kernelSum = profiler.Totals.Values.Sum(v => v.Seconds);
        var kinds = new Dictionary<string, double>();
        foreach (var (op, v) in profiler.Totals)
        {
            string kind = Kind(op);
            kinds[kind] = kinds.GetValueOrDefault(kind) + v.Seconds;
        }
        var phaseMedians = new Dictionary<string, double>
        {
            ["augmentation"] = Median(phases.Select(p => p.Augment).ToList()),
            ["forward_and_loss"] = Median(phases.Select(p => p.Forward).ToList()),
            ["backward"] = Median(phases.Select(p => p.Backward).ToList()),
            ["optimizer"] = Median(phases.Select(p => p.Optimizer).ToList()),
        };
        kinds["augmentation"] = phaseMedians["augmentation"];
        double rss = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);
        var result = new StepResult(o.Batch * o.Patches / median, median, rss, kernels.Name,
            kernels is EmpSsl.Kernels.Ilgpu.IlgpuKernels { Tf32Convolutions: true } ? "tf32" : "fp32", desc, phaseMedians, kinds);
        if (o.Profile)
        {
            log.WriteLine($"profiled step: {profiledWall:F3} s wall, {kernelSum:F3} s inside kernels ({profiledWall / kernelSum:F3}x: what the tape, the renderer and the host add)");
        }
        log.WriteLine($"median {median:F3} s/step = {result.CropsPerSecond:F1} crops/s, peak RSS {rss:F0} MB, tape pool buffers {step.PoolAllocations}");
        foreach (var (k, v) in phaseMedians)
        {
            log.WriteLine($"  phase {k,-18} {v:F3} s");
        }
        foreach (var (k, v) in kinds.OrderByDescending(e => e.Value))
        {
            log.WriteLine($"  ops   {k,-18} {v:F3} s");
        }
        PrintConvShapes(profiler, log, 40);
        foreach (var (k, v) in profiler.Totals.Where(e => Kind(e.Key) != "conv").OrderByDescending(e => e.Value.Seconds).Take(16))
        {
            log.WriteLine($"  op    {k,-48} {v.Seconds:F3} s in {v.Calls,3} calls");
        }
        return result;
    }

    /// <summary>The slowest convolution shapes of the profiled pass, with their achieved GFLOP/s.</summary>
    internal static void PrintConvShapes(ProfilingKernels profiler, TextWriter log, int top)
    {
        foreach (var (k, v) in profiler.ConvByShape.OrderByDescending(e => e.Value.Seconds).Take(top))
        {
            log.WriteLine($"  conv  {k,-48} {v.Seconds:F3} s in {v.Calls,3} calls, {v.Flops / v.Seconds / 1e9,6:F1} GFLOP/s");
        }
    }

    /// <summary>The op kinds the issue asks to see: where the next bottleneck is.</summary>
    private static string Kind(string op) => op switch
    {
        _ when op.StartsWith("Conv2d", StringComparison.Ordinal) => "conv",
        _ when op.StartsWith("BatchNorm", StringComparison.Ordinal) => "batchnorm",
        "Gemm" or "AddBias" or "ColumnSum" => "gemm",
        "Cholesky" or "CholeskySolve" or "AddDiagonal" or "RowDot" or "RowScale" or "Sum" or "L2NormalizeRows" or "L2NormalizeRowsBackward" => "loss",
        "LarsSgdUpdate" => "optimizer",
        "Upload" or "Download" => "transfer",
        _ => "elementwise",
    };

    private static double Median(List<double> v)
    {
        var s = v.Order().ToList();
        return s.Count == 0 ? double.NaN : s.Count % 2 == 1 ? s[s.Count / 2] : 0.5 * (s[s.Count / 2 - 1] + s[s.Count / 2]);
    }

    private static Dataset RandomImages(int count, int channels, int side)
    {
        var pixels = new byte[count * channels * side * side];
        new Random(7).NextBytes(pixels);
        return new Dataset("random", pixels, new int[count], channels, side, side, 1);
    }
}

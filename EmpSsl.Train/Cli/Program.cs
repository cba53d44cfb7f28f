using System.CommandLine;
using System.Diagnostics;
using EmpSsl.Autodiff.IO;
using EmpSsl.Kernels;
using EmpSsl.Train;
using EmpSsl.Train.Cli;
using EmpSsl.Train.Data;
using EmpSsl.Train.Eval;
using EmpSsl.Train.IO;
using EmpSsl.Train.Training;
using Spectre.Console;

var o = new Overrides();
var device = new Option<string?>("--device") { Description = $"backend: {string.Join(", ", Devices.Names)} (default: ${Devices.EnvironmentVariable}, else cuda when present, else cpu)", Recursive = true };
var outDir = new Option<string?>("--out") { Description = "folder for everything the run writes (default runs/<preset>-<time>)", Recursive = true };
var resume = new Option<string?>("--resume") { Description = "continue the run whose checkpoint is in this folder (it keeps that run's configuration)" };
var noEval = new Option<bool>("--no-eval") { Description = "train only" };
var checkpoint = new Option<string>("--checkpoint") { Description = "run folder holding model.safetensors", Required = true };
var split = new Option<string>("--split") { Description = "train or test", DefaultValueFactory = _ => "test" };

var root = new RootCommand("EMP-SSL: self-supervised pretraining in one epoch. With no command, runs `train` with the fmnist-cpu preset.");
foreach (var opt in o.All)
{
    opt.Recursive = true;
    root.Options.Add(opt);
}
root.Options.Add(device);
root.Options.Add(outDir);

var train = new Command("train", "pretrain an encoder, checkpoint it each epoch, then evaluate it (unless --no-eval)") { resume, noEval };
var eval = new Command("eval", "evaluate a checkpoint: linear probe, kNN, random-encoder control and raw pixels") { checkpoint };
var embed = new Command("embed", "write a dataset's features and labels as .npy with a checkpoint's encoder") { checkpoint, split };
root.Subcommands.Add(train);
root.Subcommands.Add(eval);
root.Subcommands.Add(embed);

train.SetAction(r => Guard(() => Train(r, r.GetValue(resume), r.GetValue(noEval))));
root.SetAction(r => Guard(() => Train(r, null, false)));
eval.SetAction(r => Guard(() => Evaluate(r)));
embed.SetAction(r => Guard(() => Embed(r)));
return root.Parse(args).Invoke();

int Train(ParseResult r, string? resumeDir, bool skipEval)
{
    var resumed = resumeDir is null ? ((TrainConfig Config, int Step)?)null : Checkpoint.Peek(resumeDir);
    var config = resumed?.Config ?? o.Apply(r);
    string dir = r.GetValue(outDir) ?? resumeDir ?? Path.Combine("runs", $"{config.Preset}-{DateTime.Now:yyyyMMdd-HHmmss}");
    using var k = OpenDevice(r.GetValue(device), config);
    var trainSet = DataSource.Load(config, Split.Train);
    AnsiConsole.MarkupLineInterpolated($"[bold]EMP-SSL[/] on [green]{k.Name}[/]: {trainSet.Name} ({trainSet.Count} images {trainSet.Channels}x{trainSet.Height}x{trainSet.Width}), {config.Arch} x{config.Width}, {config.Patches} crops of {config.CropSize}px, batch {config.Batch}, {config.Epochs} epoch(s) -> {dir}");
    if (trainSet.SkippedCorrupt > 0)
    {
        AnsiConsole.MarkupLineInterpolated($"[yellow]{trainSet.SkippedCorrupt} corrupt image(s) skipped[/]");
    }
    Directory.CreateDirectory(dir);
    AtomicFile.WriteAllText(Path.Combine(dir, "config.json"), config.ToJson());

    using var cancel = new CancellationTokenSource();
    ConsoleCancelEventHandler onCancel = (_, e) =>
    {
        e.Cancel = true;
        cancel.Cancel();
        Console.Error.WriteLine("Ctrl-C: finishing this step, saving a checkpoint, then exiting (Ctrl-C again to kill).");
    };
    Console.CancelKeyPress += onCancel;
    var trainer = new Trainer(k, config, trainSet, dir);
    int first = resumed?.Step ?? 0;
    var clock = Stopwatch.StartNew();
    (int Step, bool Finished) outcome;
    using (var log = new StepLog(dir, first))
    {
        if (StepLog.Interactive)
        {
            outcome = default;
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("training", maxValue: trainer.TotalSteps);
                    task.Value = first;
                    outcome = trainer.Run(resumeDir, s =>
                    {
                        log.Write(s);
                        task.Value = s.Step;
                        task.Description = $"loss {s.Loss:F2} cos {s.Cosine:F3} {s.CropsPerSecond:F0} crops/s";
                    }, cancel.Token);
                });
        }
        else
        {
            outcome = trainer.Run(resumeDir, s =>
            {
                log.Write(s);
                log.PrintPlain(s);
            }, cancel.Token);
        }
    }
    Console.CancelKeyPress -= onCancel;
    double trainSeconds = clock.Elapsed.TotalSeconds;
    Console.WriteLine($"trained to step {outcome.Step} of {trainer.TotalSteps} in {trainSeconds:F0} s; checkpoint in {dir}");
    if (!outcome.Finished)
    {
        Console.WriteLine($"stopped early; continue with: dotnet run -c Release --project EmpSsl.Train -- train --resume {dir}");
        return cancel.IsCancellationRequested ? 130 : 0;
    }
    if (skipEval)
    {
        return 0;
    }
    var results = Evaluation.Run(k, trainer.Model!, config, trainSet, DataSource.Load(config, Split.Test), Console.WriteLine) with { TrainSeconds = trainSeconds, Steps = outcome.Step };
    Report(results, dir);
    return 0;
}

// --tf32 switches the ILGPU convolutions to the tensor cores, --cpu-conv pins the cpu backend's convolution path;
// other devices say why they cannot.
static IKernels OpenDevice(string? name, TrainConfig config)
{
    var k = Devices.Open(name);
    try
    {
        if (config.Tf32)
        {
            (k as EmpSsl.Kernels.Ilgpu.IlgpuKernels ?? throw new NotSupportedException($"--tf32 needs a CUDA GPU with tensor cores; the '{k.Name}' device has none"))
                .Tf32Convolutions = true;
        }
        if (!EmpSsl.Kernels.Cpu.ConvolutionPathNames.TryParse(config.CpuConv, out var path))
        {
            throw new ArgumentException($"--cpu-conv '{config.CpuConv}': expected {EmpSsl.Kernels.Cpu.ConvolutionPathNames.All}");
        }
        if (k is EmpSsl.Kernels.Cpu.CpuKernels cpu)
        {
            cpu.Convolution = path;
        }
        else if (path != EmpSsl.Kernels.Cpu.ConvolutionPath.Auto)
        {
            throw new NotSupportedException($"--cpu-conv {config.CpuConv} applies to the cpu device only, not '{k.Name}'");
        }
        return k;
    }
    catch
    {
        k.Dispose();
        throw;
    }
}

// A checkpoint's configuration with this command line's options on top. One trained with --tf32 or --cpu-conv is
// read with the device's defaults unless the option is given again, so any machine can evaluate it.
TrainConfig CheckpointConfig(ParseResult r, string ckpt) => o.Apply(r, Checkpoint.Peek(ckpt).Config with { Tf32 = false, CpuConv = "auto" });

int Evaluate(ParseResult r)
{
    string ckpt = r.GetValue(checkpoint)!;
    var config = CheckpointConfig(r, ckpt);
    string dir = r.GetValue(outDir) ?? ckpt;
    using var k = OpenDevice(r.GetValue(device), config);
    var trainSet = DataSource.Load(config, Split.Train);
    var model = ModelFactory.Build(k, config, trainSet.Channels);
    Checkpoint.LoadModel(ckpt, model, k);
    var results = Evaluation.Run(k, model, config, trainSet, DataSource.Load(config, Split.Test), Console.WriteLine);
    Report(results, dir);
    return 0;
}

int Embed(ParseResult r)
{
    string ckpt = r.GetValue(checkpoint)!;
    var config = CheckpointConfig(r, ckpt);
    var which = r.GetValue(split) switch
    {
        "train" => Split.Train,
        "test" => Split.Test,
        var s => throw new ArgumentException($"--split must be train or test, not '{s}'"),
    };
    string dir = r.GetValue(outDir) ?? ckpt;
    using var k = OpenDevice(r.GetValue(device), config);
    var data = DataSource.Load(config, which);
    var model = ModelFactory.Build(k, config, data.Channels);
    Checkpoint.LoadModel(ckpt, model, k);
    var f = Embedder.Embed(k, model, data, config.CropSize, config.CropScale, config.EvalCrops, config.EvalFeature, config.Seed + 1_000_003);
    string name = which.ToString().ToLowerInvariant();
    Directory.CreateDirectory(dir);
    Npy.Write(Path.Combine(dir, $"{name}_features.npy"), f.Rows, f.Count, f.Dim);
    Npy.Write(Path.Combine(dir, $"{name}_labels.npy"), f.Labels.Select(l => (float)l).ToArray(), f.Count);
    Console.WriteLine($"wrote {f.Count} x {f.Dim} features and labels to {dir}/{name}_features.npy, {name}_labels.npy");
    return 0;
}

static void Report(Results results, string dir)
{
    AtomicFile.WriteAllText(Path.Combine(dir, "results.json"), results.ToJson());
    var table = new Table().AddColumns("representation", "linear probe", "kNN");
    table.AddRow("EMP-SSL encoder", $"{results.LinearProbeTop1:P2}", $"{results.KnnTop1:P2}");
    table.AddRow("random-init encoder (control)", $"{results.ControlRandomLinearTop1:P2}", "");
    table.AddRow("raw pixels", $"{results.RawPixelsLinearTop1:P2}", "");
    AnsiConsole.Write(table);
    Console.WriteLine($"train {results.TrainSeconds:F0} s, eval {results.EvalSeconds:F0} s on {results.Device}; results in {Path.Combine(dir, "results.json")}");
}

// Expected failures (bad data, bad options, divergence) print one clear line, not a stack trace.
static int Guard(Func<int> run)
{
    try
    {
        return run();
    }
    catch (Exception e) when (e is DatasetException or ArgumentException or InvalidDataException or FileNotFoundException
                                  or DirectoryNotFoundException or TrainingDivergedException or InvalidOperationException or NotSupportedException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
}

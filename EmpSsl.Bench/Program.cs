using System.Text.Json;
using BenchmarkDotNet.Running;
using EmpSsl.Bench;
using EmpSsl.Kernels;

// quick [--json FILE] [--device NAME] [--conv auto|gemm|direct|winograd|polyphase] [--tf32] [--prefetch P] [--tile T] [--only TEXT]:
// every kernel case, validated then timed, in well under 3 minutes; --only TEXT keeps just the GEMM and convolution
// shapes whose name holds TEXT (e.g. r3_s2, or 1024x1024x1024). --conv pins the cpu backend's convolution path, to compare the two; --tf32 runs the CUDA
// convolutions on the tensor cores (their relerr then shows TF32's rounding, about 1e-3).
// Anything else goes to BenchmarkDotNet (e.g. --filter '*Gemm*').
if (args.Length > 0 && args[0] == "quick")
{
    string? json = null;
    string? device = null;
    var conv = EmpSsl.Kernels.Cpu.ConvolutionPath.Auto;
    bool tf32 = false;
    var prefetch = EmpSsl.Kernels.Ilgpu.ConvPrefetch.Auto;
    var tile = EmpSsl.Kernels.Ilgpu.ConvTile.Auto;
    string? only = null;
    for (int i = 1; i < args.Length; i++)
    {
        string? value = i + 1 < args.Length ? args[i + 1] : null;
        switch (args[i])
        {
            case "--tf32":
                tf32 = true;
                break;
            case "--prefetch" when value is "auto" or "always" or "never":
                prefetch = Prefetch(value);
                i++;
                break;
            case "--tile" when value is "auto" or "narrow" or "wide" or "flat":
                tile = Tile(value);
                i++;
                break;
            case "--json" when value is not null:
                json = value;
                i++;
                break;
            case "--only" when value is not null:
                only = value;
                i++;
                break;
            case "--device" when value is not null:
                device = value;
                i++;
                break;
            case "--conv" when EmpSsl.Kernels.Cpu.ConvolutionPathNames.TryParse(value, out var path):
                conv = path;
                i++;
                break;
            default:
                Console.Error.WriteLine($"quick: unknown or incomplete option '{args[i]}'. Usage: quick [--json FILE] [--device cuda|opencl|ilgpu-cpu|cpu] [--conv auto|gemm|direct|winograd|polyphase] [--tf32] [--prefetch auto|always|never] [--tile auto|narrow|wide|flat] [--only TEXT]");
                return 2;
        }
    }
    using var kernels = Devices.Open(device);
    if (!ConvOptions(kernels, tf32, prefetch, tile))
    {
        return 2;
    }
    var cpu = kernels as EmpSsl.Kernels.Cpu.CpuKernels;
    if (cpu is not null)
    {
        cpu.Convolution = conv;
    }
    Console.WriteLine($"quick benchmark on '{kernels.Name}', {Environment.ProcessorCount} cores; each case checked against float64 before timing");
    // The ceiling on this machine as it is now, before and after, for reading the kernels' figures as a fraction of it.
    if (cpu is not null)
    {
        Console.WriteLine($"fp32 FMA peak before: {PeakBench.Describe()}");
    }
    var results = new QuickBench(kernels, Console.Out, only).Run();
    if (cpu is not null)
    {
        Console.WriteLine($"fp32 FMA peak after: {PeakBench.Describe()}");
    }
    if (json is not null)
    {
        string tmp = json + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(results, BenchJson.Default.ListBenchResult));
        File.Move(tmp, json, overwrite: true);
        Console.WriteLine($"wrote {results.Count} results to {json}");
    }
    return 0;
}

if (args.Length > 0 && args[0] == "paths")
{
    // paths [--only TEXT] [--paths auto,gemm,...] [--seconds S] [--batch N]: the cpu convolution paths in turn, one
    // process (ConvPathBench); --batch replaces quick mode's 64 images (the b = 8, n = 20 step convolves 160).
    string only = "";
    var paths = new List<EmpSsl.Kernels.Cpu.ConvolutionPath>();
    double seconds = 2;
    int batch = 0;
    for (int i = 1; i + 1 < args.Length; i += 2)
    {
        switch (args[i])
        {
            case "--only":
                only = args[i + 1];
                break;
            case "--seconds":
                seconds = double.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
                break;
            case "--batch" when int.TryParse(args[i + 1], out int b) && b > 0:
                batch = b;
                break;
            case "--paths":
                foreach (string name in args[i + 1].Split(','))
                {
                    if (!EmpSsl.Kernels.Cpu.ConvolutionPathNames.TryParse(name, out var path))
                    {
                        Console.Error.WriteLine($"paths: '{name}' is not one of {EmpSsl.Kernels.Cpu.ConvolutionPathNames.All}");
                        return 2;
                    }
                    paths.Add(path);
                }
                break;
            default:
                Console.Error.WriteLine($"paths: unknown option '{args[i]}' or bad value. Options: --only TEXT --paths auto,gemm,... --seconds S --batch N");
                return 2;
        }
    }
    if (paths.Count == 0)
    {
        paths.Add(EmpSsl.Kernels.Cpu.ConvolutionPath.Auto);
    }
    using var cpu = new EmpSsl.Kernels.Cpu.CpuKernels();
    Console.WriteLine($"fp32 FMA peak before: {PeakBench.Describe()}");
    var shapes = EmpSsl.Bench.Cases.Conv
        .Where(s => s.ToString().Contains(only, StringComparison.Ordinal))
        .Select(s => batch > 0 ? s with { N = batch } : s)
        .ToList();
    ConvPathBench.Run(cpu, shapes, paths, seconds, Console.Out);
    Console.WriteLine($"fp32 FMA peak after: {PeakBench.Describe()}");
    return 0;
}

if (args.Length > 0 && args[0] == "peak")
{
    Console.WriteLine($"fp32 FMA peak: {PeakBench.Describe()}");
    return 0;
}

if (args.Length > 0 && args[0] == "resnet")
{
    // resnet [batch] [image] [width] [steps] [device]
    int batch = args.Length > 1 ? int.Parse(args[1]) : 64;
    int image = args.Length > 2 ? int.Parse(args[2]) : 32;
    double width = args.Length > 3 ? double.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 1.0;
    int steps = args.Length > 4 ? int.Parse(args[4]) : 5;
    using var kernels = Devices.Open(args.Length > 5 ? args[5] : null);
    ResNetBench.Run(kernels, batch, image, width, steps, Console.Out);
    return 0;
}

if (args.Length > 0 && args[0] == "forward")
{
    // forward [batch] [image] [width] [channels] [steps] [device]
    int batch = args.Length > 1 ? int.Parse(args[1]) : 1024;
    int image = args.Length > 2 ? int.Parse(args[2]) : 28;
    double width = args.Length > 3 ? double.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 0.5;
    int channels = args.Length > 4 ? int.Parse(args[4]) : 1;
    int steps = args.Length > 5 ? int.Parse(args[5]) : 3;
    using var kernels = Devices.Open(args.Length > 6 ? args[6] : null);
    ForwardBench.Run(kernels, batch, image, width, channels, steps, Console.Out);
    return 0;
}

if (args.Length > 0 && args[0] == "step")
{
    var o = new StepOptions();
    var stepConv = EmpSsl.Kernels.Cpu.ConvolutionPath.Auto;
    string? json = null;
    string? device = null;
    bool stepTf32 = false;
    var stepPrefetch = EmpSsl.Kernels.Ilgpu.ConvPrefetch.Auto;
    var stepTile = EmpSsl.Kernels.Ilgpu.ConvTile.Auto;
    for (int i = 1; i < args.Length; i += 2)
    {
        // The two flags take no value; the loop steps by two, so each steps back one.
        if (args[i] == "--no-profile")
        {
            o = o with { Profile = false };
            i--;
            continue;
        }
        if (args[i] == "--tf32")
        {
            stepTf32 = true;
            i--;
            continue;
        }
        string? v = i + 1 < args.Length ? args[i + 1] : null;
        if (v is null)
        {
            Console.Error.WriteLine($"step: option '{args[i]}' needs a value");
            return 2;
        }
        switch (args[i])
        {
            case "--arch": o = o with { Arch = v }; break;
            case "--image": o = o with { Image = int.Parse(v) }; break;
            case "--batch": o = o with { Batch = int.Parse(v) }; break;
            case "--patches": o = o with { Patches = int.Parse(v) }; break;
            case "--width": o = o with { Width = double.Parse(v, System.Globalization.CultureInfo.InvariantCulture) }; break;
            case "--channels": o = o with { Channels = int.Parse(v) }; break;
            case "--projector": o = o with { Projector = v }; break;
            case "--hidden": o = o with { Hidden = int.Parse(v) }; break;
            case "--out": o = o with { Out = int.Parse(v) }; break;
            case "--steps": o = o with { Steps = int.Parse(v) }; break;
            case "--warmup": o = o with { Warmup = int.Parse(v) }; break;
            case "--chunk-views": o = o with { ChunkViews = int.Parse(v) }; break;
            case "--json": json = v; break;
            case "--device": device = v; break;
            case "--conv" when EmpSsl.Kernels.Cpu.ConvolutionPathNames.TryParse(v, out var path): stepConv = path; break;
            case "--prefetch" when v is "auto" or "always" or "never": stepPrefetch = Prefetch(v); break;
            case "--tile" when v is "auto" or "narrow" or "wide" or "flat": stepTile = Tile(v); break;
            default:
                Console.Error.WriteLine($"step: unknown option '{args[i]}'. Options: --arch --image --batch --patches --width --channels --projector --hidden --out --steps --warmup --chunk-views --no-profile --tf32 --json --device --conv auto|gemm|direct|winograd|polyphase --prefetch auto|always|never --tile auto|narrow|wide|flat");
                return 2;
        }
    }
    using var kernels = Devices.Open(device);
    if (!ConvOptions(kernels, stepTf32, stepPrefetch, stepTile))
    {
        return 2;
    }
    if (kernels is EmpSsl.Kernels.Cpu.CpuKernels stepCpu)
    {
        stepCpu.Convolution = stepConv;
    }
    var result = StepBench.Run(kernels, o, Console.Out);
    if (json is not null)
    {
        File.WriteAllText(json + ".tmp", JsonSerializer.Serialize(result, StepJson.Default.StepResult));
        File.Move(json + ".tmp", json, overwrite: true);
        Console.WriteLine($"wrote {json}");
    }
    return 0;
}

BenchmarkSwitcher.FromAssembly(typeof(QuickBench).Assembly).Run(args);
return 0;

// --tf32: the CUDA convolutions on the tensor cores; --prefetch pins the ILGPU convolutions' schedule, --tile the
// TF32 convolutions' block. A device that cannot says why, and the benchmark stops.
static bool ConvOptions(IKernels kernels, bool on, EmpSsl.Kernels.Ilgpu.ConvPrefetch prefetch, EmpSsl.Kernels.Ilgpu.ConvTile tile)
{
    if (!on && prefetch == EmpSsl.Kernels.Ilgpu.ConvPrefetch.Auto && tile == EmpSsl.Kernels.Ilgpu.ConvTile.Auto)
    {
        return true;
    }
    if (kernels is not EmpSsl.Kernels.Ilgpu.IlgpuKernels ilgpu)
    {
        Console.Error.WriteLine($"error: --tf32, --prefetch and --tile are options of the ILGPU backends; the '{kernels.Name}' device is not one");
        return false;
    }
    if (!on && tile != EmpSsl.Kernels.Ilgpu.ConvTile.Auto)
    {
        Console.Error.WriteLine("error: --tile picks the block of the TF32 convolutions; add --tf32");
        return false;
    }
    try
    {
        ilgpu.Tf32Convolutions = on;
    }
    catch (NotSupportedException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return false;
    }
    ilgpu.ConvPrefetch = prefetch;
    ilgpu.ConvTile = tile;
    Console.WriteLine($"convolutions in {(on ? "TF32 on the tensor cores" : "fp32")}, prefetch {prefetch}, tile {tile}");
    return true;
}

static EmpSsl.Kernels.Ilgpu.ConvTile Tile(string name) => name switch
{
    "narrow" => EmpSsl.Kernels.Ilgpu.ConvTile.Narrow,
    "wide" => EmpSsl.Kernels.Ilgpu.ConvTile.Wide,
    "flat" => EmpSsl.Kernels.Ilgpu.ConvTile.Flat,
    _ => EmpSsl.Kernels.Ilgpu.ConvTile.Auto,
};

static EmpSsl.Kernels.Ilgpu.ConvPrefetch Prefetch(string name) => name switch
{
    "always" => EmpSsl.Kernels.Ilgpu.ConvPrefetch.Always,
    "never" => EmpSsl.Kernels.Ilgpu.ConvPrefetch.Never,
    _ => EmpSsl.Kernels.Ilgpu.ConvPrefetch.Auto,
};

using System.Text.Json;
using BenchmarkDotNet.Running;
using EmpSsl.Bench;
using EmpSsl.Kernels;

// quick [--json FILE] [--device NAME]: every kernel case, validated then timed, in well under 3 minutes.
// Anything else goes to BenchmarkDotNet (e.g. --filter '*Gemm*').
if (args.Length > 0 && args[0] == "quick")
{
    string? json = null;
    string? device = null;
    for (int i = 1; i < args.Length; i++)
    {
        string? value = i + 1 < args.Length ? args[i + 1] : null;
        switch (args[i])
        {
            case "--json" when value is not null:
                json = value;
                i++;
                break;
            case "--device" when value is not null:
                device = value;
                i++;
                break;
            default:
                Console.Error.WriteLine($"quick: unknown or incomplete option '{args[i]}'. Usage: quick [--json FILE] [--device cuda|opencl|ilgpu-cpu|cpu]");
                return 2;
        }
    }
    using var kernels = Devices.Open(device);
    Console.WriteLine($"quick benchmark on '{kernels.Name}', {Environment.ProcessorCount} cores; each case checked against float64 before timing");
    var results = new QuickBench(kernels, Console.Out).Run();
    if (json is not null)
    {
        string tmp = json + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(results, BenchJson.Default.ListBenchResult));
        File.Move(tmp, json, overwrite: true);
        Console.WriteLine($"wrote {results.Count} results to {json}");
    }
    return 0;
}

BenchmarkSwitcher.FromAssembly(typeof(QuickBench).Assembly).Run(args);
return 0;

using System.Text.Json;
using System.Text.Json.Serialization;

namespace EmpSsl.Train.Eval;

/// <summary>results.json: accuracies are fractions in [0, 1], each the value after the probe's last epoch.</summary>
public sealed record Results
{
    public double LinearProbeTop1 { get; init; }
    public double KnnTop1 { get; init; }
    public double ControlRandomLinearTop1 { get; init; }
    public double RawPixelsLinearTop1 { get; init; }
    public double TrainSeconds { get; init; }
    public double EvalSeconds { get; init; }
    public int Epochs { get; init; }
    public int Steps { get; init; }
    public int Patches { get; init; }
    public int BatchSize { get; init; }
    public string Arch { get; init; } = "";
    public double Width { get; init; }
    public int CropSize { get; init; }
    public double CropScale { get; init; }
    public string Projector { get; init; } = "";
    public int EvalCrops { get; init; }
    public string EvalFeature { get; init; } = "";
    public string Dataset { get; init; } = "";
    public string Device { get; init; } = "";

    /// <summary>"tf32" when the convolutions ran on CUDA's tensor cores in TF32 (--tf32), else "fp32".</summary>
    public string ConvMath { get; init; } = "fp32";

    /// <summary>The cpu device's convolution path as set (--cpu-conv): auto, gemm, direct, winograd or polyphase.</summary>
    public string CpuConv { get; init; } = "auto";
    public string Machine { get; init; } = "";

    public string ToJson() => JsonSerializer.Serialize(this, ResultsJson.Default.Results);
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(Results))]
internal sealed partial class ResultsJson : JsonSerializerContext;

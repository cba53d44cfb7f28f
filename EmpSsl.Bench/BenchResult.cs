using System.Text.Json.Serialization;

namespace EmpSsl.Bench;

/// <summary>
/// One quick-mode row. gflops uses the op's nominal flop count (GEMM 2MNK, convolution 2*N*K*OH*OW*C*R*R per pass,
/// Cholesky n^3/3 per matrix, BatchNorm 5 flops per element forward and 8 backward); gbps is the bytes the op must
/// move at least once, over the time. seconds is the best call, seconds_median the median one: on a shared machine the
/// two part by 10-40%, and gflops (from the best) is the kernel's speed where the host left the cores alone.
/// relerr is max |got - ref| / max |ref| over the checked entries, ref in float64.
/// </summary>
public sealed record BenchResult(
    [property: JsonPropertyName("op")] string Op,
    [property: JsonPropertyName("backend")] string Backend,
    [property: JsonPropertyName("shape")] string Shape,
    [property: JsonPropertyName("gflops")] double Gflops,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("relerr")] double RelErr,
    [property: JsonPropertyName("gbps")] double Gbps,
    [property: JsonPropertyName("seconds_median")] double SecondsMedian);

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(List<BenchResult>))]
internal sealed partial class BenchJson : JsonSerializerContext;

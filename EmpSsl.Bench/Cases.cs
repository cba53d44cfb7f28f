using EmpSsl.Kernels;

namespace EmpSsl.Bench;

/// <summary>
/// The shapes every benchmark times: the ones EMP-SSL's ResNet-18 (CIFAR stem, batch 64) and its coding-rate
/// term actually run. Quick mode and the BenchmarkDotNet classes both read this list, so they time the same thing.
/// </summary>
public static class Cases
{
    public static readonly GemmShape[] Gemm =
    [
        new(1024, 1024, 1024),
        new(4096, 64, 576),
        // The odd size times the edge paths (dotnet/performance's 6*512+7 habit).
        new(1031, 1031, 1031),
        // Linear backward: dW = dY^T X and dX = dY W^T.
        new(512, 4096, 100, TransA: true),
        new(100, 512, 4096, TransB: true),
    ];

    /// <summary>ResNet-18 CIFAR at batch 64: each stage's 3x3, the stride-2 3x3 entering it, and its 1x1 stride-2 shortcut.</summary>
    public static readonly Conv2dShape[] Conv =
    [
        new(64, 64, 32, 32, 64, 3, 1, 1),
        new(64, 64, 32, 32, 128, 3, 2, 1),
        new(64, 64, 32, 32, 128, 1, 2, 0),
        new(64, 128, 16, 16, 128, 3, 1, 1),
        new(64, 128, 16, 16, 256, 3, 2, 1),
        new(64, 128, 16, 16, 256, 1, 2, 0),
        new(64, 256, 8, 8, 256, 3, 1, 1),
        new(64, 256, 8, 8, 512, 3, 2, 1),
        new(64, 256, 8, 8, 512, 1, 2, 0),
        new(64, 512, 4, 4, 512, 3, 1, 1),
    ];

    public static readonly BatchNormShape[] BatchNorm =
    [
        new(64, 64, 32 * 32),
        new(64, 128, 16 * 16),
        new(64, 256, 8 * 8),
        new(64, 512, 4 * 4),
    ];

    /// <summary>(n, batch): one 512x512 matrix (the d side), and the EMP-SSL b side: 20 views of batch 100.</summary>
    public static readonly (int N, int Batch)[] Cholesky = [(512, 1), (100, 20)];

    /// <summary>Tiny shapes for ILGPU's CPU accelerator, which simulates one GPU thread per OS thread.</summary>
    public static readonly GemmShape[] TinyGemm = [new(64, 64, 64)];

    public static readonly Conv2dShape[] TinyConv = [new(2, 8, 8, 8, 8, 3, 1, 1)];

    public static readonly BatchNormShape[] TinyBatchNorm = [new(2, 8, 64)];

    public static readonly (int N, int Batch)[] TinyCholesky = [(32, 2)];
}

namespace EmpSsl.Kernels;

/// <summary>
/// Row-major C (M x N) = Alpha * op(A) * op(B) + Beta * C, where op(A) is M x K and op(B) is K x N.
/// A is stored (M x K), or (K x M) when TransA; B is stored (K x N), or (N x K) when TransB.
/// With Beta == 0, C is write-only: whatever it held (NaN included) must not reach the result.
/// </summary>
public readonly record struct GemmShape(int M, int N, int K, bool TransA = false, bool TransB = false, float Alpha = 1f, float Beta = 0f)
{
    public long Flops => 2L * M * N * K;

    public override string ToString() => $"{M}x{N}x{K}{(TransA ? "_tA" : "")}{(TransB ? "_tB" : "")}";
}

/// <summary>
/// NCHW convolution with a square kernel, no bias, no dilation, no groups (all ResNet needs).
/// x is (N, C, H, W), w is (K, C, R, R), y is (N, K, OutH, OutW).
/// </summary>
public readonly record struct Conv2dShape(int N, int C, int H, int W, int K, int R, int Stride, int Pad)
{
    public int OutH => (H + 2 * Pad - R) / Stride + 1;

    public int OutW => (W + 2 * Pad - R) / Stride + 1;

    public int InputLength => N * C * H * W;

    public int WeightLength => K * C * R * R;

    public int OutputLength => N * K * OutH * OutW;

    /// <summary>Multiply-adds times two, for the forward pass; each backward pass costs the same.</summary>
    public long Flops => 2L * N * K * OutH * OutW * C * R * R;

    public override string ToString() => $"n{N}_c{C}_k{K}_h{H}_w{W}_r{R}_s{Stride}";
}

/// <summary>
/// BatchNorm over x (N, C, HW): statistics per channel C over N*HW values. BatchNorm1d is HW = 1.
/// Momentum and Eps follow PyTorch: running = (1 - Momentum) * running + Momentum * batch, and the
/// running variance takes the unbiased batch variance while normalization uses the biased one.
/// Relu fuses the ReLU that follows in ResNet (y = max(0, bn(x))): the forward writes the clamped output, and the
/// backward masks dy where bn(x) &lt;= 0, recomputing bn(x) from x with the forward's own float expression
/// (x - mean) * (gamma * invStd) + beta, so the two passes a separate ReLU makes over the activation in each
/// direction are gone and the backward reads no more than BatchNorm's alone.
/// </summary>
public readonly record struct BatchNormShape(int N, int C, int HW, float Momentum = 0.1f, float Eps = 1e-5f, bool Relu = false)
{
    public int Length => N * C * HW;

    public override string ToString() => $"n{N}_c{C}_hw{HW}{(Relu ? "_relu" : "")}";
}

/// <summary>Max pooling over x (Planes = N*C, H, W) with a square window; y is (Planes, OutH, OutW). Padding never wins the max.</summary>
public readonly record struct PoolShape(int Planes, int H, int W, int Kernel, int Stride, int Pad)
{
    public int OutH => (H + 2 * Pad - Kernel) / Stride + 1;

    public int OutW => (W + 2 * Pad - Kernel) / Stride + 1;

    public override string ToString() => $"p{Planes}_h{H}_w{W}_k{Kernel}_s{Stride}";
}

/// <summary>
/// One fused SGD step with optional LARS, as the official EMP-SSL code runs it (solo-learn's LARSWrapper
/// around torch.optim.SGD). With Lars set: g' = trust * (g + WeightDecay * w), where
/// trust = Eta * |w| / (|g| + WeightDecay * |w| + Eps), clipped to min(trust / Lr, 1) when Clip.
/// When |w| or |g| is zero, LARSWrapper skips the parameter: g' = g, no trust ratio and no decay.
/// Without Lars (biases, BN): g' = g, no decay.
/// Then v = Momentum * v + g'; step = Nesterov ? g' + Momentum * v : v; w -= Lr * step.
/// </summary>
public readonly record struct LarsStep(
    float Lr,
    float Momentum = 0.9f,
    float WeightDecay = 1e-4f,
    float Eta = 0.005f,
    bool Nesterov = true,
    bool Lars = true,
    bool Clip = true,
    float Eps = 1e-8f);

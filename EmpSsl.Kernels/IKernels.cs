namespace EmpSsl.Kernels;

/// <summary>
/// The backend contract: memory plus every op the autodiff engine needs. Two implementations,
/// <c>Cpu/</c> (SIMD, all cores) and <c>Ilgpu/</c> (CUDA, OpenCL, ILGPU's CPU accelerator), pass the
/// same conformance suite against the float64 spec in <c>Reference/</c>.
///
/// Gradient rule (as in llm.c): parameter gradients accumulate (+=: dw, dgamma, dbeta, dbias);
/// activation gradients are written (=: dx). Every shape is checked by <see cref="Checks"/> before the
/// launch, and a mismatch throws <see cref="ShapeMismatchException"/> naming the op and the shapes.
/// All tensors are dense and row-major; a comment gives each one's shape.
/// Launches may be asynchronous: <see cref="Download"/> and <see cref="Synchronize"/> wait.
/// </summary>
public interface IKernels : IDisposable
{
    /// <summary>"cpu", "ilgpu-cpu", "cuda" or "opencl".</summary>
    string Name { get; }

    /// <summary>A new buffer with undefined contents. Hot paths rent from a <see cref="BufferPool"/> instead.</summary>
    DeviceBuffer Allocate(int length);

    void Upload(DeviceSpan dst, ReadOnlySpan<float> src);

    void Download(DeviceSpan src, Span<float> dst);

    void Synchronize();

    // ---- elementwise ----------------------------------------------------------------------

    void Fill(DeviceSpan y, float value);

    /// <summary>y = x.</summary>
    void Copy(DeviceSpan y, DeviceSpan x);

    /// <summary>y = a + b (y may alias a or b).</summary>
    void Add(DeviceSpan y, DeviceSpan a, DeviceSpan b);

    /// <summary>y += alpha * x.</summary>
    void Axpy(DeviceSpan y, DeviceSpan x, float alpha);

    /// <summary>y = alpha * x (y may alias x).</summary>
    void Scale(DeviceSpan y, DeviceSpan x, float alpha);

    /// <summary>y = max(x, 0) (y may alias x).</summary>
    void Relu(DeviceSpan y, DeviceSpan x);

    /// <summary>y = max(a + b, 0): a residual block's output, its add and ReLU in one sweep. y may alias a or b.</summary>
    void AddRelu(DeviceSpan y, DeviceSpan a, DeviceSpan b);

    /// <summary>dx = y &gt; 0 ? dy : 0, from the forward output y (dx may alias dy).</summary>
    void ReluBackward(DeviceSpan dx, DeviceSpan dy, DeviceSpan y);

    // ---- matrix products and rows ---------------------------------------------------------

    /// <summary>c (M, N) = alpha op(a) op(b) + beta c; see <see cref="GemmShape"/>.</summary>
    void Gemm(DeviceSpan c, DeviceSpan a, DeviceSpan b, in GemmShape s);

    /// <summary>y (rows, cols) += bias (cols) broadcast over rows.</summary>
    void AddBias(DeviceSpan y, DeviceSpan bias, int rows, int cols);

    /// <summary>dbias (cols) += column sums of dy (rows, cols): AddBias's backward.</summary>
    void ColumnSum(DeviceSpan dbias, DeviceSpan dy, int rows, int cols);

    /// <summary>y (rows) = row-wise dot products of a and b (rows, cols).</summary>
    void RowDot(DeviceSpan y, DeviceSpan a, DeviceSpan b, int rows, int cols);

    /// <summary>y (rows, cols) = x (rows, cols) * s (rows) per row (y may alias x).</summary>
    void RowScale(DeviceSpan y, DeviceSpan x, DeviceSpan s, int rows, int cols);

    /// <summary>y (1) = sum of x, accumulated in a wider type or by pairwise tree.</summary>
    void Sum(DeviceSpan y, DeviceSpan x);

    /// <summary>
    /// y (rows, cols) = x / max(|x_row|, eps), as torch.nn.functional.normalize; norms (rows) saves |x_row|.
    /// </summary>
    void L2NormalizeRows(DeviceSpan y, DeviceSpan norms, DeviceSpan x, int rows, int cols, float eps);

    /// <summary>
    /// dx = (dy - y * (dy . y)) / |x| per row where |x| &gt; eps, else dx = dy / eps, from the forward's
    /// output y and saved norms.
    /// </summary>
    void L2NormalizeRowsBackward(DeviceSpan dx, DeviceSpan dy, DeviceSpan y, DeviceSpan norms, int rows, int cols, float eps);

    // ---- convolution -----------------------------------------------------------------------

    /// <summary>y (N, K, OH, OW) = conv(x (N, C, H, W), w (K, C, R, R)).</summary>
    void Conv2dForward(DeviceSpan y, DeviceSpan x, DeviceSpan w, in Conv2dShape s);

    /// <summary>
    /// dx (N, C, H, W) = gradient of the loss with respect to the input, from dy (N, K, OH, OW); with
    /// <paramref name="accumulate"/>, dx += it (a residual block's input, which already holds the shortcut's gradient).
    /// </summary>
    void Conv2dBackwardData(DeviceSpan dx, DeviceSpan dy, DeviceSpan w, in Conv2dShape s, bool accumulate = false);

    /// <summary>dw (K, C, R, R) += gradient with respect to the weight, from dy and the input x.</summary>
    void Conv2dBackwardWeight(DeviceSpan dw, DeviceSpan dy, DeviceSpan x, in Conv2dShape s);

    // ---- normalization and pooling -----------------------------------------------------------

    /// <summary>
    /// Training-mode BatchNorm. x, y (N, C, HW); gamma, beta, saveMean, saveInvStd, runningMean, runningVar (C).
    /// Writes y, saveMean and saveInvStd = 1 / sqrt(biased var + eps), and updates the running statistics.
    /// </summary>
    void BatchNormForwardTrain(
        DeviceSpan y, DeviceSpan saveMean, DeviceSpan saveInvStd, DeviceSpan runningMean, DeviceSpan runningVar,
        DeviceSpan x, DeviceSpan gamma, DeviceSpan beta, in BatchNormShape s);

    /// <summary>Eval-mode BatchNorm from the running statistics.</summary>
    void BatchNormForwardEval(
        DeviceSpan y, DeviceSpan x, DeviceSpan gamma, DeviceSpan beta, DeviceSpan runningMean, DeviceSpan runningVar,
        in BatchNormShape s);

    /// <summary>
    /// Training-mode backward: dx = (write), dgamma += and dbeta += (C). beta is read only with
    /// <see cref="BatchNormShape.Relu"/>, whose mask recomputes the forward's output.
    /// </summary>
    void BatchNormBackward(
        DeviceSpan dx, DeviceSpan dgamma, DeviceSpan dbeta, DeviceSpan dy, DeviceSpan x, DeviceSpan gamma, DeviceSpan beta,
        DeviceSpan saveMean, DeviceSpan saveInvStd, in BatchNormShape s);

    /// <summary>y (Planes, OH, OW) = max over each window of x (Planes, H, W).</summary>
    void MaxPool2dForward(DeviceSpan y, DeviceSpan x, in PoolShape s);

    /// <summary>dx = dy routed to the first position of each window's max (row-major order), summed where windows overlap.</summary>
    void MaxPool2dBackward(DeviceSpan dx, DeviceSpan dy, DeviceSpan x, DeviceSpan y, in PoolShape s);

    /// <summary>y (planes) = mean of each plane of x (planes, hw).</summary>
    void GlobalAvgPoolForward(DeviceSpan y, DeviceSpan x, int planes, int hw);

    /// <summary>dx (planes, hw) = dy (planes) / hw.</summary>
    void GlobalAvgPoolBackward(DeviceSpan dx, DeviceSpan dy, int planes, int hw);

    /// <summary>
    /// y (planes, oh, ow) = bilinear resize of x (planes, h, w) with half-pixel centres and edge clamping,
    /// as torch.nn.functional.interpolate(mode="bilinear", align_corners=False, antialias=False).
    /// </summary>
    void BilinearResize(DeviceSpan y, DeviceSpan x, int planes, int h, int w, int oh, int ow);

    // ---- small SPD matrices: the coding rate -------------------------------------------------

    /// <summary>a (batch, n, n) += value * I for each matrix.</summary>
    void AddDiagonal(DeviceSpan a, float value, int n, int batch);

    /// <summary>
    /// Batched Cholesky: l (batch, n, n) = lower factor of each SPD a (batch, n, n), upper triangle zeroed;
    /// logdet (batch) = 2 sum log diag(l). Only a's lower triangle is read.
    /// Throws <see cref="MatrixNotPositiveDefiniteException"/> naming the matrix and the pivot.
    /// </summary>
    void Cholesky(DeviceSpan l, DeviceSpan logdet, DeviceSpan a, int n, int batch);

    /// <summary>x (batch, n, nrhs) solves (l l^T) x = b (batch, n, nrhs) by two triangular solves; x may alias b.</summary>
    void CholeskySolve(DeviceSpan x, DeviceSpan l, DeviceSpan b, int n, int nrhs, int batch);

    // ---- optimizer -------------------------------------------------------------------------

    /// <summary>One fused LARS/SGD step on w, given its gradient g and momentum buffer v (all the same length); see <see cref="LarsStep"/>.</summary>
    void LarsSgdUpdate(DeviceSpan w, DeviceSpan g, DeviceSpan v, in LarsStep p);
}

using System.Diagnostics;

namespace EmpSsl.Kernels;

/// <summary>
/// Wraps a backend and adds up the wall time of each op (synchronizing after every launch, so the split is true
/// on asynchronous devices too, at some cost to overlap). The step benchmark uses it to show where a step's time
/// goes. Everything else passes straight through.
/// </summary>
public sealed class ProfilingKernels(IKernels inner) : IKernels
{
    private readonly IKernels _inner = inner;
    private readonly Dictionary<string, (double Seconds, long Calls)> _totals = new();

    public string Name => _inner.Name;

    /// <summary>The wrapped backend, for components that bring kernels of their own (crop rendering).</summary>
    public IKernels Inner => _inner;

    /// <summary>Seconds and calls per op name since the last <see cref="Clear"/>.</summary>
    public IReadOnlyDictionary<string, (double Seconds, long Calls)> Totals => _totals;

    /// <summary>
    /// Convolutions split further by pass and shape, with their flops: a step's conv time is spread over a dozen
    /// layer shapes, and the slowest per flop is the one to work on.
    /// </summary>
    public IReadOnlyDictionary<string, (double Seconds, long Calls, long Flops)> ConvByShape => _convs;

    private readonly Dictionary<string, (double Seconds, long Calls, long Flops)> _convs = new();

    public void Clear()
    {
        _totals.Clear();
        _convs.Clear();
    }

    public DeviceBuffer Allocate(int length) => _inner.Allocate(length);

    public void Upload(DeviceSpan dst, ReadOnlySpan<float> src)
    {
        var t = Start();
        _inner.Upload(dst, src);
        Stop("Upload", t);
    }

    public void Download(DeviceSpan src, Span<float> dst)
    {
        var t = Start();
        _inner.Download(src, dst);
        Stop("Download", t);
    }

    public void Synchronize() => _inner.Synchronize();

    public void Dispose() => _inner.Dispose();

    private static long Start() => Stopwatch.GetTimestamp();

    private double Stop(string op, long start)
    {
        _inner.Synchronize();
        double s = Stopwatch.GetElapsedTime(start).TotalSeconds;
        _totals.TryGetValue(op, out var v);
        _totals[op] = (v.Seconds + s, v.Calls + 1);
        return s;
    }

    private void StopConv(string op, long start, in Conv2dShape s)
    {
        double seconds = Stop(op, start);
        string key = $"{op} {s}";
        _convs.TryGetValue(key, out var v);
        _convs[key] = (v.Seconds + seconds, v.Calls + 1, v.Flops + s.Flops);
    }

    public void Fill(DeviceSpan y, float value)
    {
        var t = Start();
        _inner.Fill(y, value);
        Stop("Fill", t);
    }

    public void Copy(DeviceSpan y, DeviceSpan x)
    {
        var t = Start();
        _inner.Copy(y, x);
        Stop("Copy", t);
    }

    public void Add(DeviceSpan y, DeviceSpan a, DeviceSpan b)
    {
        var t = Start();
        _inner.Add(y, a, b);
        Stop("Add", t);
    }

    public void Axpy(DeviceSpan y, DeviceSpan x, float alpha)
    {
        var t = Start();
        _inner.Axpy(y, x, alpha);
        Stop("Axpy", t);
    }

    public void Scale(DeviceSpan y, DeviceSpan x, float alpha)
    {
        var t = Start();
        _inner.Scale(y, x, alpha);
        Stop("Scale", t);
    }

    public void AddRelu(DeviceSpan y, DeviceSpan a, DeviceSpan b)
    {
        var t = Start();
        _inner.AddRelu(y, a, b);
        Stop("AddRelu", t);
    }

    public void Relu(DeviceSpan y, DeviceSpan x)
    {
        var t = Start();
        _inner.Relu(y, x);
        Stop("Relu", t);
    }

    public void ReluBackward(DeviceSpan dx, DeviceSpan dy, DeviceSpan y)
    {
        var t = Start();
        _inner.ReluBackward(dx, dy, y);
        Stop("ReluBackward", t);
    }

    public void Gemm(DeviceSpan c, DeviceSpan a, DeviceSpan b, in GemmShape s)
    {
        var t = Start();
        _inner.Gemm(c, a, b, in s);
        Stop("Gemm", t);
    }

    public void AddBias(DeviceSpan y, DeviceSpan bias, int rows, int cols)
    {
        var t = Start();
        _inner.AddBias(y, bias, rows, cols);
        Stop("AddBias", t);
    }

    public void ColumnSum(DeviceSpan dbias, DeviceSpan dy, int rows, int cols)
    {
        var t = Start();
        _inner.ColumnSum(dbias, dy, rows, cols);
        Stop("ColumnSum", t);
    }

    public void RowDot(DeviceSpan y, DeviceSpan a, DeviceSpan b, int rows, int cols)
    {
        var t = Start();
        _inner.RowDot(y, a, b, rows, cols);
        Stop("RowDot", t);
    }

    public void RowScale(DeviceSpan y, DeviceSpan x, DeviceSpan s, int rows, int cols)
    {
        var t = Start();
        _inner.RowScale(y, x, s, rows, cols);
        Stop("RowScale", t);
    }

    public void Sum(DeviceSpan y, DeviceSpan x)
    {
        var t = Start();
        _inner.Sum(y, x);
        Stop("Sum", t);
    }

    public void L2NormalizeRows(DeviceSpan y, DeviceSpan norms, DeviceSpan x, int rows, int cols, float eps)
    {
        var t = Start();
        _inner.L2NormalizeRows(y, norms, x, rows, cols, eps);
        Stop("L2NormalizeRows", t);
    }

    public void L2NormalizeRowsBackward(DeviceSpan dx, DeviceSpan dy, DeviceSpan y, DeviceSpan norms, int rows, int cols, float eps)
    {
        var t = Start();
        _inner.L2NormalizeRowsBackward(dx, dy, y, norms, rows, cols, eps);
        Stop("L2NormalizeRowsBackward", t);
    }

    public void Conv2dForward(DeviceSpan y, DeviceSpan x, DeviceSpan w, in Conv2dShape s)
    {
        var t = Start();
        _inner.Conv2dForward(y, x, w, in s);
        StopConv("Conv2dForward", t, s);
    }

    public void Conv2dBackwardData(DeviceSpan dx, DeviceSpan dy, DeviceSpan w, in Conv2dShape s, bool accumulate = false)
    {
        var t = Start();
        _inner.Conv2dBackwardData(dx, dy, w, in s, accumulate);
        StopConv("Conv2dBackwardData", t, s);
    }

    public void Conv2dBackwardWeight(DeviceSpan dw, DeviceSpan dy, DeviceSpan x, in Conv2dShape s)
    {
        var t = Start();
        _inner.Conv2dBackwardWeight(dw, dy, x, in s);
        StopConv("Conv2dBackwardWeight", t, s);
    }

    public void BatchNormForwardTrain(DeviceSpan y, DeviceSpan saveMean, DeviceSpan saveInvStd, DeviceSpan runningMean, DeviceSpan runningVar, DeviceSpan x, DeviceSpan gamma, DeviceSpan beta, in BatchNormShape s)
    {
        var t = Start();
        _inner.BatchNormForwardTrain(y, saveMean, saveInvStd, runningMean, runningVar, x, gamma, beta, in s);
        Stop("BatchNormForwardTrain", t);
    }

    public void BatchNormForwardEval(DeviceSpan y, DeviceSpan x, DeviceSpan gamma, DeviceSpan beta, DeviceSpan runningMean, DeviceSpan runningVar, in BatchNormShape s)
    {
        var t = Start();
        _inner.BatchNormForwardEval(y, x, gamma, beta, runningMean, runningVar, in s);
        Stop("BatchNormForwardEval", t);
    }

    public void BatchNormBackward(DeviceSpan dx, DeviceSpan dgamma, DeviceSpan dbeta, DeviceSpan dy, DeviceSpan x, DeviceSpan gamma, DeviceSpan beta, DeviceSpan saveMean, DeviceSpan saveInvStd, in BatchNormShape s)
    {
        var t = Start();
        _inner.BatchNormBackward(dx, dgamma, dbeta, dy, x, gamma, beta, saveMean, saveInvStd, in s);
        Stop("BatchNormBackward", t);
    }

    public void MaxPool2dForward(DeviceSpan y, DeviceSpan x, in PoolShape s)
    {
        var t = Start();
        _inner.MaxPool2dForward(y, x, in s);
        Stop("MaxPool2dForward", t);
    }

    public void MaxPool2dBackward(DeviceSpan dx, DeviceSpan dy, DeviceSpan x, DeviceSpan y, in PoolShape s)
    {
        var t = Start();
        _inner.MaxPool2dBackward(dx, dy, x, y, in s);
        Stop("MaxPool2dBackward", t);
    }

    public void GlobalAvgPoolForward(DeviceSpan y, DeviceSpan x, int planes, int hw)
    {
        var t = Start();
        _inner.GlobalAvgPoolForward(y, x, planes, hw);
        Stop("GlobalAvgPoolForward", t);
    }

    public void GlobalAvgPoolBackward(DeviceSpan dx, DeviceSpan dy, int planes, int hw)
    {
        var t = Start();
        _inner.GlobalAvgPoolBackward(dx, dy, planes, hw);
        Stop("GlobalAvgPoolBackward", t);
    }

    public void BilinearResize(DeviceSpan y, DeviceSpan x, int planes, int h, int w, int oh, int ow)
    {
        var t = Start();
        _inner.BilinearResize(y, x, planes, h, w, oh, ow);
        Stop("BilinearResize", t);
    }

    public void AddDiagonal(DeviceSpan a, float value, int n, int batch)
    {
        var t = Start();
        _inner.AddDiagonal(a, value, n, batch);
        Stop("AddDiagonal", t);
    }

    public void Cholesky(DeviceSpan l, DeviceSpan logdet, DeviceSpan a, int n, int batch)
    {
        var t = Start();
        _inner.Cholesky(l, logdet, a, n, batch);
        Stop("Cholesky", t);
    }

    public void CholeskySolve(DeviceSpan x, DeviceSpan l, DeviceSpan b, int n, int nrhs, int batch)
    {
        var t = Start();
        _inner.CholeskySolve(x, l, b, n, nrhs, batch);
        Stop("CholeskySolve", t);
    }

    public void LarsSgdUpdate(DeviceSpan w, DeviceSpan g, DeviceSpan v, in LarsStep p)
    {
        var t = Start();
        _inner.LarsSgdUpdate(w, g, v, in p);
        Stop("LarsSgdUpdate", t);
    }
}

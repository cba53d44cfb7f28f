using System.Diagnostics;
using EmpSsl.Autodiff;
using EmpSsl.Autodiff.Nn;
using EmpSsl.Kernels;
using EmpSsl.Train.Data;
using EmpSsl.Train.Optim;

namespace EmpSsl.Train.Training;

/// <summary>Wall time of one step's phases, in seconds.</summary>
public readonly record struct StepTimes(double Augment, double Forward, double Backward, double Optimizer)
{
    public double Total => Augment + Forward + Backward + Optimizer;
}

/// <summary>The objective's values after one step.</summary>
public readonly record struct StepLoss(float Loss, float CodingRate, float Cosine);

/// <summary>
/// One EMP-SSL optimizer step, the unit both the trainer and the step benchmark run: render the batch's n crops
/// patch-major on the device (<see cref="CropRenderers"/>), forward the encoder, the objective, backward, LARS. A non-finite loss stops before the update.
/// </summary>
public sealed class EmpSslStep : IDisposable
{
    private readonly IKernels _k;
    private readonly Encoder _model;
    private readonly Lars _lars;
    private readonly ICropRenderer _renderer;
    private readonly int _patches;
    private readonly float _lambda;
    private readonly float _eps;
    private readonly Tensor _input;
    private readonly Tape _tape;
    private readonly int _batch;
    private readonly int _chunkViews;
    private Tensor? _zAll;
    private Tensor? _zGrad;

    /// <param name="chunkViews">
    /// Views per chunk for the two-pass step (0: the plain one-pass step). See <see cref="RunTwoPass"/>.
    /// </param>
    public EmpSslStep(IKernels k, Encoder model, Lars lars, Dataset data, AugmentSpec spec, int patches, int batch, float lambda, float eps, int chunkViews = 0)
    {
        _k = k;
        _model = model;
        _lars = lars;
        _renderer = CropRenderers.For(k, data, spec);
        _patches = patches;
        _batch = batch;
        _chunkViews = chunkViews > 0 ? Math.Min(chunkViews, patches) : 0;
        _lambda = lambda;
        _eps = eps;
        int s = spec.OutputSize;
        _input = Tensor.Create(k, [patches * batch, data.Channels, s, s], name: "crops");
        _tape = new Tape(k);
    }

    public StepTimes LastTimes { get; private set; }

    /// <summary>Buffers the tape's pool holds; flat once the step has run twice.</summary>
    public int PoolAllocations => _tape.Pool.Allocations;

    public StepLoss Run(int[] batchIndices, CropParams[] crops, float lr, int step)
    {
        long t0 = Stopwatch.GetTimestamp();
        _renderer.Render(batchIndices, crops, _input.Data);
        _k.Synchronize();
        long t1 = Stopwatch.GetTimestamp();

        _model.ZeroGrad(_k);
        StepLoss loss;
        long t2;
        try
        {
            loss = _chunkViews > 0 ? RunTwoPass(step, out t2) : RunOnePass(step, out t2);
        }
        catch (MatrixNotPositiveDefiniteException e)
        {
            _tape.Reset();
            throw new TrainingDivergedException($"step {step}: the coding-rate matrix is not positive definite, so z holds NaN or Inf.", e);
        }
        _k.Synchronize();
        long t3 = Stopwatch.GetTimestamp();
        _lars.Step(lr);
        _tape.Reset();
        _k.Synchronize();
        long t4 = Stopwatch.GetTimestamp();
        double f = Stopwatch.Frequency;
        LastTimes = new StepTimes((t1 - t0) / f, (t2 - t1) / f, (t3 - t2) / f, (t4 - t3) / f);
        return loss;
    }

    /// <summary>Every crop's activations held at once: forward, objective, backward.</summary>
    private StepLoss RunOnePass(int step, out long forwardDone)
    {
        var (_, z) = _model.Encode(_tape, _input);
        var terms = Objective.EmpSsl(_tape, z, _patches, _lambda, _eps);
        var loss = new StepLoss(Scalar(terms.Loss), Scalar(terms.CodingRate), Scalar(terms.Cosine));
        forwardDone = Stopwatch.GetTimestamp();
        ThrowIfDiverged(loss, step);
        _tape.Backward(terms.Loss);
        return loss;
    }

    private void ThrowIfDiverged(StepLoss loss, int step)
    {
        if (!float.IsFinite(loss.Loss))
        {
            _tape.Reset();
            throw new TrainingDivergedException(
                $"step {step}: the loss is {loss.Loss} (coding rate {loss.CodingRate}, cosine {loss.Cosine}); stopped before the update.");
        }
    }

    /// <summary>
    /// The memory-bounded step for many views (the paper's n = 200 at batch 100): activations are held for one chunk
    /// of views at a time, never for all n*b crops.
    /// Pass 1 runs the encoder over each chunk without recording, keeps only z (n*b, d), and restores the BatchNorm
    /// running statistics afterwards so that they are updated once per chunk, in pass 2. The objective then runs on
    /// the whole z and gives dL/dz. Pass 2 runs each chunk again, recording, and backpropagates that chunk's dL/dz
    /// (as the gradient of sum(z_chunk * dL/dz_chunk)); parameter gradients add up over the chunks.
    /// BatchNorm's batch statistics are per chunk (chunkViews * b crops), in both passes, so pass 2 recomputes exactly
    /// the z of pass 1. With one chunk this is the one-pass step; with several it differs from it only through those
    /// per-chunk statistics.
    /// </summary>
    private StepLoss RunTwoPass(int step, out long forwardDone)
    {
        int rowsPerView = _batch;
        int chunks = (_patches + _chunkViews - 1) / _chunkViews;
        var saved = SaveBatchNormState();
        using (_tape.NoGrad())
        {
            for (int c = 0; c < chunks; c++)
            {
                var (start, count) = ChunkRows(c, rowsPerView);
                var z = _model.Encode(_tape, _tape.Slice(_input, start, count)).Z;
                _zAll ??= Tensor.Create(_k, [_patches * rowsPerView, z.Dim(1)], requiresGrad: true, name: "z");
                _k.Copy(_zAll.Data.Slice(start * z.Dim(1), count * z.Dim(1)), z.Data);
                _tape.Reset();
            }
        }
        RestoreBatchNormState(saved);
        var zAll = _zAll!;
        zAll.ZeroGrad(_k);
        var terms = Objective.EmpSsl(_tape, zAll, _patches, _lambda, _eps);
        var loss = new StepLoss(Scalar(terms.Loss), Scalar(terms.CodingRate), Scalar(terms.Cosine));
        forwardDone = Stopwatch.GetTimestamp();
        ThrowIfDiverged(loss, step);
        _tape.Backward(terms.Loss);
        _tape.Reset();
        _zGrad ??= Tensor.Create(_k, zAll.Shape, name: "dL/dz");
        _k.Copy(_zGrad.Data, zAll.Grad);
        for (int c = 0; c < chunks; c++)
        {
            var (start, count) = ChunkRows(c, rowsPerView);
            var z = _model.Encode(_tape, _tape.Slice(_input, start, count)).Z;
            var g = _tape.Slice(_zGrad, start, count);
            _tape.Backward(_tape.Sum(_tape.RowDot(z, g)));
            _tape.Reset();
        }
        return loss;
    }

    private (int Start, int Count) ChunkRows(int chunk, int rowsPerView)
    {
        int v0 = chunk * _chunkViews;
        int views = Math.Min(_chunkViews, _patches - v0);
        return (v0 * rowsPerView, views * rowsPerView);
    }

    private List<(StateEntry Entry, float[]? Values, long Count)> SaveBatchNormState() =>
        _model.StateDict().Where(e => !e.IsParameter)
            .Select(e => (e, e.Tensor?.ToHost(_k), e.Counter?.Value ?? 0L)).ToList();

    private void RestoreBatchNormState(List<(StateEntry Entry, float[]? Values, long Count)> saved)
    {
        foreach (var (entry, values, count) in saved)
        {
            if (entry.Tensor is not null)
            {
                _k.Upload(entry.Tensor.Data, values);
            }
            else
            {
                entry.Counter!.Value = count;
            }
        }
    }

    private float Scalar(Tensor t)
    {
        Span<float> v = stackalloc float[1];
        _k.Download(t.Data, v);
        return v[0];
    }

    public void Dispose()
    {
        _tape.Dispose();
        _input.DisposeLeaf();
        _zAll?.DisposeLeaf();
        _zGrad?.DisposeLeaf();
        _renderer.Dispose();
    }
}

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

    public EmpSslStep(IKernels k, Encoder model, Lars lars, Dataset data, AugmentSpec spec, int patches, int batch, float lambda, float eps)
    {
        _k = k;
        _model = model;
        _lars = lars;
        _renderer = CropRenderers.For(k, data, spec);
        _patches = patches;
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
            var (_, z) = _model.Encode(_tape, _input);
            var terms = Objective.EmpSsl(_tape, z, _patches, _lambda, _eps);
            loss = new StepLoss(Scalar(terms.Loss), Scalar(terms.CodingRate), Scalar(terms.Cosine));
            t2 = Stopwatch.GetTimestamp();
            if (!float.IsFinite(loss.Loss))
            {
                _tape.Reset();
                throw new TrainingDivergedException(
                    $"step {step}: the loss is {loss.Loss} (coding rate {loss.CodingRate}, cosine {loss.Cosine}); stopped before the update.");
            }
            _tape.Backward(terms.Loss);
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
        _renderer.Dispose();
    }
}

using System.Diagnostics;
using EmpSsl.Autodiff.Nn;
using EmpSsl.Kernels;
using EmpSsl.Train.Data;
using EmpSsl.Train.Optim;

namespace EmpSsl.Train.Training;

/// <summary>What one optimizer step reports.</summary>
public sealed record StepInfo(int Step, int TotalSteps, int Epoch, float Loss, float CodingRate, float Cosine, float Lr, double CropsPerSecond, double Seconds);

/// <summary>The loss became NaN or infinite: the run stops and keeps its last good checkpoint.</summary>
public sealed class TrainingDivergedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// EMP-SSL pretraining: each step takes b images, renders n augmented crops of each patch-major, runs the encoder,
/// the objective, backward and LARS. Everything random comes from (seed, epoch, step), so a resumed run repeats
/// an uninterrupted one exactly; each epoch's image order is a permutation drawn from (seed, epoch).
/// </summary>
public sealed class Trainer(IKernels k, TrainConfig config, Dataset train, string outDir)
{
    public Encoder? Model { get; private set; }

    /// <summary>Steps in one epoch; the last partial batch is dropped, as the official loader does.</summary>
    public int StepsPerEpoch => train.Count / config.Batch;

    public int TotalSteps => StepsPerEpoch * config.Epochs;

    public AugmentSpec Augment => new() { OutputSize = config.CropSize, Scale = config.CropScale };

    /// <summary>Trains from <paramref name="resumeFrom"/> (or from scratch) until the last step, MaxSteps, or cancellation.</summary>
    /// <returns>The number of steps done in total, and whether the run reached its end.</returns>
    public (int Step, bool Finished) Run(string? resumeFrom, Action<StepInfo> report, CancellationToken cancel)
    {
        if (StepsPerEpoch < 1)
        {
            throw new ArgumentException($"{train.Name}: {train.Count} images make no batch of {config.Batch}");
        }
        var model = ModelFactory.Build(k, config, train.Channels);
        Model = model;
        using var lars = new Lars(k, model.Parameters(), config.Momentum, config.WeightDecay, config.Eta);
        int step = resumeFrom is null ? 0 : Checkpoint.Load(resumeFrom, model, lars, k);
        int end = config.MaxSteps > 0 ? Math.Min(config.MaxSteps, TotalSteps) : TotalSteps;
        var schedule = new CosineSchedule(config.Lr, TotalSteps, config.WarmupSteps);
        var spec = Augment;
        int b = config.Batch;
        using var stepper = new EmpSslStep(k, model, lars, train, spec, config.Patches, b, config.Lambda, config.Eps, config.ChunkViews);
        int[]? order = null;
        int orderEpoch = -1;
        var batchIndices = new int[b];
        model.Train();
        while (step < end && !cancel.IsCancellationRequested)
        {
            var clock = Stopwatch.StartNew();
            int epoch = step / StepsPerEpoch;
            if (epoch != orderEpoch)
            {
                order = Permutation(train.Count, config.Seed, epoch);
                orderEpoch = epoch;
            }
            Array.Copy(order!, (step % StepsPerEpoch) * b, batchIndices, 0, b);
            var crops = CropSampler.Sample(spec, (ulong)config.Seed, epoch, step, b, config.Patches, train.Channels, train.Height, train.Width);
            float lr = schedule.At(step);
            StepLoss loss;
            try
            {
                loss = stepper.Run(batchIndices, crops, lr, step);
            }
            catch (TrainingDivergedException e)
            {
                throw new TrainingDivergedException($"{e.Message} The last good checkpoint in {outDir} is kept. Try a lower --lr.", e);
            }
            step++;
            double seconds = clock.Elapsed.TotalSeconds;
            report(new StepInfo(step, end, epoch, loss.Loss, loss.CodingRate, loss.Cosine, lr, config.Patches * b / seconds, seconds));

            bool epochEnd = step % StepsPerEpoch == 0;
            bool due = config.SaveEvery > 0 && step % config.SaveEvery == 0;
            if (epochEnd || due)
            {
                Checkpoint.Save(outDir, model, lars, k, config, step);
            }
        }
        if (step % StepsPerEpoch != 0)
        {
            // Interrupted (Ctrl-C) or stopped by MaxSteps mid-epoch: save where we are.
            Checkpoint.Save(outDir, model, lars, k, config, step);
        }
        return (step, step >= end);
    }

    /// <summary>A Fisher-Yates shuffle driven by xoshiro256** keyed on (seed, epoch): the same on every machine.</summary>
    internal static int[] Permutation(int count, int seed, int epoch)
    {
        var order = new int[count];
        for (int i = 0; i < count; i++)
        {
            order[i] = i;
        }
        var rng = Xoshiro256.ForKey((ulong)seed, (ulong)epoch, ulong.MaxValue, 0);
        for (int i = count - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}

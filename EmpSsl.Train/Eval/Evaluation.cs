using System.Diagnostics;
using EmpSsl.Autodiff.Nn;
using EmpSsl.Kernels;
using EmpSsl.Train.Data;
using EmpSsl.Train.Training;

namespace EmpSsl.Train.Eval;

/// <summary>
/// The evaluation report: the trained encoder's linear probe and kNN, and always the two controls that say whether
/// it learned anything: the same architecture at its random initialization, and the raw pixels.
/// </summary>
public static class Evaluation
{
    public static Results Run(IKernels k, Encoder model, TrainConfig c, Dataset train, Dataset test, Action<string> log)
    {
        var clock = Stopwatch.StartNew();
        // Each line carries the time since evaluation began, so a user sees which part takes the time.
        var inner = log;
        log = line => inner($"[{clock.Elapsed.TotalSeconds,5:F0} s] {line}");
        var probe = new LinearProbeOptions(Epochs: c.ProbeEpochs, Seed: c.Seed);
        int evalSeed = c.Seed + 1_000_003;

        log($"embedding {train.Count} + {test.Count} images with the trained encoder ({Describe(c)})");
        var trainF = Embedder.Embed(k, model, train, c.CropSize, c.CropScale, c.EvalCrops, c.EvalFeature, evalSeed);
        var testF = Embedder.Embed(k, model, test, c.CropSize, c.CropScale, c.EvalCrops, c.EvalFeature, evalSeed + 1);
        log($"embedded: {trainF.Dim}-d features; linear probe, {probe.Epochs} epochs");
        double linear = LinearProbe.TrainAndTest(k, trainF, testF, probe);
        log($"linear probe: {linear:P2}");
        double knn = Knn.Classify(k, trainF, testF, c.KnnK, c.KnnTemperature);
        log($"kNN (k={c.KnnK}, T={c.KnnTemperature}): {knn:P2}");

        log("control: the same encoder at its random initialization");
        var random = ModelFactory.Build(k, c, train.Channels);
        var trainR = Embedder.Embed(k, random, train, c.CropSize, c.CropScale, c.EvalCrops, c.EvalFeature, evalSeed);
        var testR = Embedder.Embed(k, random, test, c.CropSize, c.CropScale, c.EvalCrops, c.EvalFeature, evalSeed + 1);
        log("embedded; control linear probe");
        double control = LinearProbe.TrainAndTest(k, trainR, testR, probe);
        log($"control linear probe: {control:P2}");

        double raw = LinearProbe.TrainAndTest(k, Embedder.RawPixels(train), Embedder.RawPixels(test), probe);
        log($"raw pixels linear probe: {raw:P2}");

        return new Results
        {
            LinearProbeTop1 = linear,
            KnnTop1 = knn,
            ControlRandomLinearTop1 = control,
            RawPixelsLinearTop1 = raw,
            EvalSeconds = clock.Elapsed.TotalSeconds,
            Epochs = c.Epochs,
            Patches = c.Patches,
            BatchSize = c.Batch,
            Arch = c.Arch,
            Width = c.Width,
            CropSize = c.CropSize,
            CropScale = c.CropScale,
            Projector = c.Projector,
            EvalCrops = c.EvalCrops,
            EvalFeature = c.EvalFeature,
            Dataset = train.Name,
            Device = k.Name,
            ConvMath = c.Tf32 ? "tf32" : "fp32",
            CpuConv = c.CpuConv,
            Machine = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
        };
    }

    private static string Describe(TrainConfig c) =>
        c.EvalCrops == 0 ? $"whole image at its own size, feature {c.EvalFeature}" : $"mean of {c.EvalCrops} crops, feature {c.EvalFeature}";
}

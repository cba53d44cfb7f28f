using System.Globalization;
using EmpSsl.Autodiff.IO;
using EmpSsl.Autodiff.Nn;
using EmpSsl.Kernels;
using EmpSsl.Train.IO;
using EmpSsl.Train.Optim;

namespace EmpSsl.Train.Training;

/// <summary>
/// A checkpoint is two safetensors files in the run folder: model.safetensors (the state dict under torchvision's
/// names, loadable by PyTorch with strict=True) and optimizer.safetensors (each parameter's momentum buffer).
/// Both carry the step and the run configuration as metadata. Each is written to a temporary file and flushed
/// first; the two renames come only after both are complete, so a crash or Ctrl-C never leaves a torn file, and
/// the step in each lets a resume refuse a pair split by a crash between the two renames.
/// </summary>
public static class Checkpoint
{
    public const string ModelFile = "model.safetensors";
    public const string OptimizerFile = "optimizer.safetensors";

    /// <summary>The backbone alone, for torchvision's resnet18 (fc = Identity) with strict=True.</summary>
    public const string BackboneFile = "backbone.safetensors";
    private const string Format = "empssl-checkpoint-1";

    public static void Save(string dir, Encoder model, Lars optimizer, IKernels k, TrainConfig config, int step)
    {
        EnsureFinite(model, k, step);
        Directory.CreateDirectory(dir);
        var meta = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["step"] = step.ToString(CultureInfo.InvariantCulture),
            ["config"] = config.ToJson(),
        };
        string modelPath = Path.Combine(dir, ModelFile);
        string optPath = Path.Combine(dir, OptimizerFile);
        var buffers = optimizer.State.Select(s =>
        {
            var host = new float[s.Momentum.Length];
            k.Download(s.Momentum.Span, host);
            return SafeTensor.FromFloats(s.Name + ".momentum_buffer", s.Param.Shape, host);
        }).ToList();
        string modelTmp = AtomicFile.Stage(modelPath, tmp => SafeTensors.Save(model, k, tmp, meta));
        string optTmp = AtomicFile.Stage(optPath, tmp => SafeTensors.Write(tmp, buffers, meta));
        AtomicFile.Commit(modelTmp, modelPath);
        AtomicFile.Commit(optTmp, optPath);
        // An export, not part of the resumable state: written after the pair, atomically on its own.
        AtomicFile.WriteFile(Path.Combine(dir, BackboneFile), tmp => SafeTensors.Save(model.Backbone, k, tmp, meta));
    }

    /// <summary>The configuration and step a checkpoint folder was saved with, read from model.safetensors.</summary>
    public static (TrainConfig Config, int Step) Peek(string dir)
    {
        string path = Path.Combine(dir, ModelFile);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no checkpoint here (expected {ModelFile} and {OptimizerFile})", path);
        }
        var meta = SafeTensors.Read(path).Metadata;
        return (Config(meta, path), Step(meta, path));
    }

    /// <summary>Loads weights and buffers (strictly) and the momentum buffers; returns the step to continue from.</summary>
    public static int Load(string dir, Encoder model, Lars optimizer, IKernels k)
    {
        string modelPath = Path.Combine(dir, ModelFile);
        string optPath = Path.Combine(dir, OptimizerFile);
        var meta = SafeTensors.Load(model, k, modelPath);
        int step = Step(meta, modelPath);
        var opt = SafeTensors.Read(optPath);
        int optStep = Step(opt.Metadata, optPath);
        if (optStep != step)
        {
            throw new InvalidDataException($"{dir}: {ModelFile} is from step {step} but {OptimizerFile} from step {optStep}; the save was interrupted between its two renames");
        }
        var byKey = opt.Tensors.ToDictionary(t => t.Key);
        foreach (var (name, param, momentum) in optimizer.State)
        {
            string key = name + ".momentum_buffer";
            if (!byKey.TryGetValue(key, out var t))
            {
                throw new InvalidDataException($"{optPath}: missing key '{key}'");
            }
            var values = t.ToFloats();
            if (values.Length != param.Length)
            {
                throw new InvalidDataException($"{optPath}: '{key}' has {values.Length} values, the parameter {param.Length}");
            }
            k.Upload(momentum.Span, values);
        }
        return step;
    }

    /// <summary>Loads only the model (for eval and embed).</summary>
    public static void LoadModel(string dir, Encoder model, IKernels k) => SafeTensors.Load(model, k, Path.Combine(dir, ModelFile));

    /// <summary>A diverged model is never saved over the last good checkpoint.</summary>
    private static void EnsureFinite(Encoder model, IKernels k, int step)
    {
        foreach (var e in model.StateDict())
        {
            if (e.Tensor is null)
            {
                continue;
            }
            var host = e.Tensor.ToHost(k);
            int bad = Array.FindIndex(host, v => !float.IsFinite(v));
            if (bad >= 0)
            {
                throw new TrainingDivergedException(
                    $"step {step}: {e.Key}[{bad}] is {host[bad]}; not saved, so the last good checkpoint is kept. Try a lower --lr.");
            }
        }
    }

    private static int Step(IReadOnlyDictionary<string, string> meta, string path) =>
        meta.TryGetValue("step", out var s) && int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int step)
            ? step
            : throw new InvalidDataException($"{path}: no 'step' in the metadata; not an EmpSsl checkpoint");

    private static TrainConfig Config(IReadOnlyDictionary<string, string> meta, string path) =>
        meta.TryGetValue("config", out var json)
            ? TrainConfig.FromJson(json, path)
            : throw new InvalidDataException($"{path}: no 'config' in the metadata; not an EmpSsl checkpoint");
}

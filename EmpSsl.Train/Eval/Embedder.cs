using EmpSsl.Autodiff;
using EmpSsl.Autodiff.Nn;
using EmpSsl.Kernels;
using EmpSsl.Train.Data;

namespace EmpSsl.Train.Eval;

/// <summary>
/// Turns a dataset into features with a frozen encoder in eval mode: the bag of features (the mean over k augmented
/// crops of each image, as EMP-SSL evaluates), or with k = 0 the whole image once at its own resolution, with no
/// augmentation: pixels then have the scale they had in training crops that were not resized, and the network's
/// global pooling takes any input size. The feature is h (the backbone's pooled output) or, as the official code, the first projector
/// block's output (Linear, BN, ReLU: 4096-d).
/// </summary>
public static class Embedder
{
    /// <summary>Rows per forward pass: enough to keep the kernels busy, small enough for any memory.</summary>
    private const int RowsPerPass = 128;

    public static Features Embed(IKernels k, Encoder model, Dataset data, int cropSize, double cropScale, int crops, string feature, int seed)
    {
        bool projector = feature switch
        {
            "h" => false,
            "proj" => true,
            _ => throw new ArgumentException($"unknown --eval-feature '{feature}'; expected h or proj"),
        };
        int views = Math.Max(crops, 1);
        if (crops == 0 && data.Height != data.Width)
        {
            throw new ArgumentException($"{data.Name}: whole-image evaluation (--eval-crops 0) needs square images, not {data.Height}x{data.Width}");
        }
        var spec = crops == 0
            ? new AugmentSpec { OutputSize = data.Height, Scale = 1, FlipP = 0, JitterP = 0, GrayP = 0, BlurP = 0, SolarizeP = 0 }
            : new AugmentSpec { OutputSize = cropSize, Scale = cropScale };
        cropSize = spec.OutputSize;
        int perPass = Math.Max(1, RowsPerPass / views);
        model.Eval();
        int dim = -1;
        float[]? rows = null;
        using var tape = new Tape(k);
        using var renderer = CropRenderers.For(k, data, spec);
        for (int start = 0, step = 0; start < data.Count; start += perPass, step++)
        {
            int b = Math.Min(perPass, data.Count - start);
            var indices = Enumerable.Range(start, b).ToArray();
            var crop = CropSampler.Sample(spec, (ulong)seed, epoch: 0, step, b, views, data.Channels, data.Height, data.Width);
            var input = Tensor.Create(k, [views * b, data.Channels, cropSize, cropSize]);
            renderer.Render(indices, crop, input.Data);
            try
            {
                using (tape.NoGrad())
                {
                    var f = model.Backbone.Forward(tape, input);
                    if (projector)
                    {
                        var layers = model.Projector.Layers;
                        for (int i = 0; i < 3; i++)
                        {
                            f = layers[i].Forward(tape, f);
                        }
                    }
                    var mean = views > 1 ? tape.MeanOverGroups(f, views) : f;
                    dim = mean.Dim(1);
                    rows ??= new float[(long)data.Count * dim];
                    k.Download(mean.Data, rows.AsSpan(start * dim, b * dim));
                }
            }
            finally
            {
                tape.Reset();
                input.DisposeLeaf();
            }
        }
        model.Train();
        return new Features(rows!, data.Count, dim, data.Labels, data.ClassCount);
    }

    /// <summary>Pixels scaled to [0, 1], flattened: the baseline every learned representation must beat.</summary>
    public static Features RawPixels(Dataset data)
    {
        var rows = new float[data.Pixels.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = data.Pixels[i] / 255f;
        }
        return new Features(rows, data.Count, data.Channels * data.Height * data.Width, data.Labels, data.ClassCount);
    }
}

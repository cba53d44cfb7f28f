using System.Diagnostics;
using EmpSsl.Autodiff;
using EmpSsl.Autodiff.Nn;
using EmpSsl.Kernels;

namespace EmpSsl.Bench;

/// <summary>
/// The evaluation's forward pass alone (eval mode, no tape), as the embedder runs it: images per second and where
/// the time goes, by op and by convolution shape. Embedding the train and test sets twice (trained encoder and
/// control) is most of an evaluation's time.
/// </summary>
public static class ForwardBench
{
    public static void Run(IKernels kernels, int batch, int image, double width, int channels, int steps, TextWriter log)
    {
        var profiler = new ProfilingKernels(kernels);
        var model = new ResNet(new Init(profiler, 0), Stem.Cifar, width, channels);
        model.Eval();
        var x = Tensor.FromHost(profiler, [batch, channels, image, image], RandomData.Uniform(new Random(1), batch * channels * image * image));
        using var tape = new Tape(profiler);
        log.WriteLine($"ResNet-18 x{width} eval forward on '{kernels.Name}', batch {batch}, {channels}x{image}x{image}; 1 warm-up + {steps} passes");
        var walls = new List<double>();
        for (int i = 0; i <= steps; i++)
        {
            profiler.Clear();
            var sw = Stopwatch.StartNew();
            using (tape.NoGrad())
            {
                model.Forward(tape, x);
            }
            tape.Reset();
            kernels.Synchronize();
            if (i > 0)
            {
                walls.Add(sw.Elapsed.TotalSeconds);
            }
        }
        walls.Sort();
        double median = walls[walls.Count / 2];
        log.WriteLine($"median {median:F3} s = {batch / median:F1} images/s (last pass profiled below)");
        foreach (var (op, v) in profiler.Totals.OrderByDescending(e => e.Value.Seconds).Take(8))
        {
            log.WriteLine($"  op    {op,-28} {v.Seconds:F3} s in {v.Calls,3} calls");
        }
        StepBench.PrintConvShapes(profiler, log, 10);
        x.DisposeLeaf();
    }
}

using System.Diagnostics;
using EmpSsl.Autodiff;
using EmpSsl.Autodiff.Nn;
using EmpSsl.Kernels;

namespace EmpSsl.Bench;

/// <summary>
/// ResNet-18 forward and backward alone (CIFAR stem, training mode), to see what the tape costs: the wall time of
/// a step against the time spent inside kernels in that same step. Each step is timed twice: plainly (the
/// headline), then through <see cref="ProfilingKernels"/> for the kernel sum.
/// </summary>
public static class ResNetBench
{
    public static void Run(IKernels kernels, int batch, int image, double width, int steps, TextWriter log)
    {
        var profiler = new ProfilingKernels(kernels);
        var model = new ResNet(new Init(profiler, 0), Stem.Cifar, width, 3);
        var x = Tensor.FromHost(profiler, [batch, 3, image, image], RandomData.Uniform(new Random(1), batch * 3 * image * image));
        using var tape = new Tape(profiler);
        log.WriteLine($"ResNet-18 x{width} fwd+bwd on '{kernels.Name}', batch {batch}, {image}x{image}; 1 warm-up + {steps} steps");
        var walls = new List<double>();
        var ratios = new List<double>();
        for (int i = 0; i <= steps; i++)
        {
            profiler.Clear();
            var sw = Stopwatch.StartNew();
            model.ZeroGrad(profiler);
            tape.Backward(tape.Sum(model.Forward(tape, x)));
            tape.Reset();
            kernels.Synchronize();
            double wall = sw.Elapsed.TotalSeconds;
            double inKernels = profiler.Totals.Values.Sum(v => v.Seconds);
            if (i > 0)
            {
                walls.Add(wall);
                ratios.Add(wall / inKernels);
            }
            log.WriteLine($"  step {i}{(i == 0 ? " (warm-up)" : "")}: {wall:F3} s wall, {inKernels:F3} s in kernels, ratio {wall / inKernels:F3}, {batch / wall:F1} crops/s");
        }
        walls.Sort();
        ratios.Sort();
        log.WriteLine($"median {walls[walls.Count / 2]:F3} s = {batch / walls[walls.Count / 2]:F1} crops/s; wall / kernel time median {ratios[ratios.Count / 2]:F3}");
        x.DisposeLeaf();
    }
}

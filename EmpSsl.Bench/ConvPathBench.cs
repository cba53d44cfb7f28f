using System.Diagnostics;
using EmpSsl.Kernels;
using EmpSsl.Kernels.Cpu;

namespace EmpSsl.Bench;

/// <summary>
/// paths mode: the cpu backend's convolution paths against each other on the same shapes, in one process, one call
/// of each path in turn, round after round, so that a neighbour taking a core slows every path alike. Prints each
/// path's best and median GFLOP/s per pass; the values are not checked (quick and the tests do that). First, as a
/// ceiling for the implicit GEMMs, a plain GEMM of the forward's dimensions (K x N*OH*OW x C*R*R), timed the same way.
/// </summary>
public static class ConvPathBench
{
    public static void Run(CpuKernels kernels, IReadOnlyList<Conv2dShape> shapes, IReadOnlyList<ConvolutionPath> paths, double seconds, TextWriter log)
    {
        var rng = new Random(1234);
        foreach (var s in shapes)
        {
            using var x = Upload(kernels, RandomData.Uniform(rng, s.InputLength));
            using var w = Upload(kernels, RandomData.Uniform(rng, s.WeightLength));
            using var dy = Upload(kernels, RandomData.Uniform(rng, s.OutputLength));
            using var y = kernels.Allocate(s.OutputLength);
            using var dx = kernels.Allocate(s.InputLength);
            using var dw = kernels.Allocate(s.WeightLength);
            int crr = s.C * s.R * s.R, np = s.N * s.OutH * s.OutW;
            using var gb = kernels.Allocate(crr * np);
            using var gc = kernels.Allocate(s.K * np);
            var passes = new (string Name, Action Op)[]
            {
                ("gemm_as_fwd", () => kernels.Gemm(gc.Span, w.Span, gb.Span, new GemmShape(s.K, np, crr))),
                ("conv2d_fwd", () => kernels.Conv2dForward(y.Span, x.Span, w.Span, s)),
                ("conv2d_bwd_data", () => kernels.Conv2dBackwardData(dx.Span, dy.Span, w.Span, s)),
                ("conv2d_bwd_weight", () => kernels.Conv2dBackwardWeight(dw.Span, dy.Span, x.Span, s)),
            };
            foreach (var (name, op) in passes)
            {
                var times = paths.Select(_ => new List<double>()).ToArray();
                var total = Stopwatch.StartNew();
                for (int round = 0; round < 3 || total.Elapsed.TotalSeconds < seconds; round++)
                {
                    for (int p = 0; p < paths.Count; p++)
                    {
                        kernels.Convolution = paths[p];
                        if (round == 0)
                        {
                            op();
                        }
                        var sw = Stopwatch.StartNew();
                        op();
                        times[p].Add(sw.Elapsed.TotalSeconds);
                    }
                }
                var cells = paths.Select((path, p) =>
                {
                    times[p].Sort();
                    double best = s.Flops / times[p][0] / 1e9;
                    double median = s.Flops / times[p][times[p].Count / 2] / 1e9;
                    return $"{path,-10} {best,6:F1} ({median,6:F1})";
                });
                log.WriteLine($"{name,-18} {s,-28} {string.Join("  ", cells)}   {times[0].Count} rounds");
            }
        }
    }

    private static DeviceBuffer Upload(IKernels kernels, float[] data)
    {
        var b = kernels.Allocate(data.Length);
        kernels.Upload(b.Span, data);
        return b;
    }
}

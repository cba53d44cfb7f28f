using System.Diagnostics;
using EmpSsl.Kernels;
using EmpSsl.Kernels.Reference;

namespace EmpSsl.Bench;

/// <summary>
/// Quick mode: every case of <see cref="Cases"/> on one backend, validated against float64 before it is timed,
/// then timed as the best of several runs after a warm-up (the warm-up also pays ILGPU's kernel compilation).
/// </summary>
/// <param name="only">null for every case, else just the GEMM and convolution shapes whose name contains it.</param>
public sealed class QuickBench(IKernels kernels, TextWriter log, string? only = null)
{
    private const int Samples = 64;
    private const double WarmSeconds = 0.3;
    private const double MinSeconds = 0.3;
    private readonly Random _rng = new(1234);

    public List<BenchResult> Run()
    {
        bool tiny = kernels.Name == "ilgpu-cpu";
        var results = new List<BenchResult>();
        foreach (var s in (tiny ? Cases.TinyGemm : Cases.Gemm).Where(s => only is null || s.ToString().Contains(only, StringComparison.Ordinal)))
        {
            results.Add(Report(Gemm(s)));
        }
        foreach (var s in (tiny ? Cases.TinyConv : Cases.Conv).Where(s => only is null || s.ToString().Contains(only, StringComparison.Ordinal)))
        {
            foreach (var r in Conv(s))
            {
                results.Add(Report(r));
            }
        }
        if (only is not null)
        {
            return results;
        }
        foreach (var s in tiny ? Cases.TinyBatchNorm : Cases.BatchNorm)
        {
            foreach (var r in BatchNorm(s))
            {
                results.Add(Report(r));
            }
        }
        foreach (var (n, batch) in tiny ? Cases.TinyCholesky : Cases.Cholesky)
        {
            results.Add(Report(Cholesky(n, batch)));
        }
        return results;
    }

    private BenchResult Report(BenchResult r)
    {
        log.WriteLine($"{r.Op,-18} {r.Backend,-9} {r.Shape,-28} {r.Gflops,9:F1} GFLOP/s {r.Gbps,7:F1} GB/s {r.Seconds * 1e3,10:F3} ms (median {r.Gflops * r.Seconds / r.SecondsMedian,7:F1})  relerr {r.RelErr:E1}");
        return r;
    }

    private BenchResult Gemm(GemmShape s)
    {
        var a = Random(s.M * s.K);
        var b = Random(s.K * s.N);
        using var da = Upload(a);
        using var db = Upload(b);
        using var dc = kernels.Allocate(s.M * s.N);
        kernels.Gemm(dc.Span, da.Span, db.Span, s);
        var c = Download(dc);
        var err = new Sampled.Error();
        for (int t = 0; t < Samples; t++)
        {
            int i = _rng.Next(s.M);
            int j = _rng.Next(s.N);
            err.Add(Sampled.GemmEntry(a, b, s, i, j), c[(long)i * s.N + j]);
        }
        var (sec, median) = Time(() => kernels.Gemm(dc.Span, da.Span, db.Span, s));
        long bytes = 4L * (a.Length + b.Length + c.Length);
        return new("gemm", kernels.Name, s.ToString(), s.Flops / sec / 1e9, sec, err.Relative, bytes / sec / 1e9, median);
    }

    private IEnumerable<BenchResult> Conv(Conv2dShape s)
    {
        var x = Random(s.InputLength);
        var w = Random(s.WeightLength);
        var dyHost = Random(s.OutputLength);
        using var dx = Upload(x);
        using var dw = Upload(w);
        using var dyb = Upload(dyHost);
        using var y = kernels.Allocate(s.OutputLength);
        using var gx = kernels.Allocate(s.InputLength);
        using var gw = kernels.Allocate(s.WeightLength);
        long bytes = 4L * (s.InputLength + s.WeightLength + s.OutputLength);

        kernels.Conv2dForward(y.Span, dx.Span, dw.Span, s);
        var yh = Download(y);
        var err = new Sampled.Error();
        for (int t = 0; t < Samples; t++)
        {
            int n = _rng.Next(s.N), k = _rng.Next(s.K), oh = _rng.Next(s.OutH), ow = _rng.Next(s.OutW);
            err.Add(Sampled.ConvForwardEntry(x, w, s, n, k, oh, ow), yh[((long)(n * s.K + k) * s.OutH + oh) * s.OutW + ow]);
        }
        var (sec, median) = Time(() => kernels.Conv2dForward(y.Span, dx.Span, dw.Span, s));
        yield return new("conv2d_fwd", kernels.Name, s.ToString(), s.Flops / sec / 1e9, sec, err.Relative, bytes / sec / 1e9, median);

        kernels.Conv2dBackwardData(gx.Span, dyb.Span, dw.Span, s);
        var gxh = Download(gx);
        err = new Sampled.Error();
        for (int t = 0; t < Samples; t++)
        {
            int n = _rng.Next(s.N), c = _rng.Next(s.C), h = _rng.Next(s.H), wi = _rng.Next(s.W);
            err.Add(Sampled.ConvBackwardDataEntry(dyHost, w, s, n, c, h, wi), gxh[((long)(n * s.C + c) * s.H + h) * s.W + wi]);
        }
        (sec, median) = Time(() => kernels.Conv2dBackwardData(gx.Span, dyb.Span, dw.Span, s));
        yield return new("conv2d_bwd_data", kernels.Name, s.ToString(), s.Flops / sec / 1e9, sec, err.Relative, bytes / sec / 1e9, median);

        kernels.Fill(gw.Span, 0f);
        kernels.Conv2dBackwardWeight(gw.Span, dyb.Span, dx.Span, s);
        var gwh = Download(gw);
        err = new Sampled.Error();
        for (int t = 0; t < Samples; t++)
        {
            int k = _rng.Next(s.K), c = _rng.Next(s.C), r = _rng.Next(s.R), q = _rng.Next(s.R);
            err.Add(Sampled.ConvBackwardWeightEntry(dyHost, x, s, k, c, r, q), gwh[((k * s.C + c) * s.R + r) * s.R + q]);
        }
        // Accumulating into dw while timing is what training does; the values no longer matter here.
        (sec, median) = Time(() => kernels.Conv2dBackwardWeight(gw.Span, dyb.Span, dx.Span, s));
        yield return new("conv2d_bwd_weight", kernels.Name, s.ToString(), s.Flops / sec / 1e9, sec, err.Relative, bytes / sec / 1e9, median);
    }

    private IEnumerable<BenchResult> BatchNorm(BatchNormShape s)
    {
        var x = Random(s.Length);
        var g = Random(s.C);
        var be = Random(s.C);
        var dyHost = Random(s.Length);
        using var dx = Upload(x);
        using var gamma = Upload(g);
        using var beta = Upload(be);
        using var dy = Upload(dyHost);
        using var y = kernels.Allocate(s.Length);
        using var mean = kernels.Allocate(s.C);
        using var invStd = kernels.Allocate(s.C);
        using var runMean = kernels.Allocate(s.C);
        using var runVar = kernels.Allocate(s.C);
        using var gx = kernels.Allocate(s.Length);
        using var dgamma = kernels.Allocate(s.C);
        using var dbeta = kernels.Allocate(s.C);
        kernels.Fill(runMean.Span, 0f);
        kernels.Fill(runVar.Span, 1f);
        kernels.Fill(dgamma.Span, 0f);
        kernels.Fill(dbeta.Span, 0f);

        kernels.BatchNormForwardTrain(y.Span, mean.Span, invStd.Span, runMean.Span, runVar.Span, dx.Span, gamma.Span, beta.Span, s);
        var yh = Download(y);
        var err = new Sampled.Error();
        int[] channels = [0, s.C / 2, s.C - 1];
        foreach (int c in channels)
        {
            var (m, v) = Sampled.ChannelMoments(x, s, c);
            double inv = 1.0 / Math.Sqrt(v + s.Eps);
            for (int t = 0; t < Samples; t++)
            {
                long i = (long)(_rng.Next(s.N) * s.C + c) * s.HW + _rng.Next(s.HW);
                err.Add((x[i] - m) * inv * g[c] + be[c], yh[i]);
            }
        }
        var (sec, median) = Time(() => kernels.BatchNormForwardTrain(y.Span, mean.Span, invStd.Span, runMean.Span, runVar.Span, dx.Span, gamma.Span, beta.Span, s));
        yield return new("batchnorm_fwd", kernels.Name, s.ToString(), 5.0 * s.Length / sec / 1e9, sec, err.Relative, 4.0 * 2 * s.Length / sec / 1e9, median);

        kernels.BatchNormBackward(gx.Span, dgamma.Span, dbeta.Span, dy.Span, dx.Span, gamma.Span, beta.Span, mean.Span, invStd.Span, s);
        var gxh = Download(gx);
        err = new Sampled.Error();
        foreach (int c in channels)
        {
            var (m, v) = Sampled.ChannelMoments(x, s, c);
            double inv = 1.0 / Math.Sqrt(v + s.Eps);
            double sumDy = 0, sumDyXhat = 0;
            for (int n = 0; n < s.N; n++)
            {
                for (int i = 0; i < s.HW; i++)
                {
                    long o = (long)(n * s.C + c) * s.HW + i;
                    sumDy += dyHost[o];
                    sumDyXhat += dyHost[o] * (x[o] - m) * inv;
                }
            }
            double count = (double)s.N * s.HW;
            for (int t = 0; t < Samples; t++)
            {
                long o = (long)(_rng.Next(s.N) * s.C + c) * s.HW + _rng.Next(s.HW);
                double xhat = (x[o] - m) * inv;
                err.Add(g[c] * inv * (dyHost[o] - sumDy / count - xhat * sumDyXhat / count), gxh[o]);
            }
        }
        (sec, median) = Time(() => kernels.BatchNormBackward(gx.Span, dgamma.Span, dbeta.Span, dy.Span, dx.Span, gamma.Span, beta.Span, mean.Span, invStd.Span, s));
        yield return new("batchnorm_bwd", kernels.Name, s.ToString(), 8.0 * s.Length / sec / 1e9, sec, err.Relative, 4.0 * 3 * s.Length / sec / 1e9, median);
    }

    private BenchResult Cholesky(int n, int batch)
    {
        // Z Z^T / cols + I: the shape of the coding-rate matrix, SPD and well conditioned.
        int cols = 2 * n;
        var a = new double[batch * n * n];
        for (int m = 0; m < batch; m++)
        {
            var z = Random(n * cols);
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    double dot = 0;
                    for (int k = 0; k < cols; k++)
                    {
                        dot += (double)z[i * cols + k] * z[j * cols + k];
                    }
                    double v = dot / cols + (i == j ? 1.0 : 0.0);
                    a[(m * n + i) * n + j] = v;
                    a[(m * n + j) * n + i] = v;
                }
            }
        }
        var refL = new double[a.Length];
        var refLogdet = new double[batch];
        Ref.Cholesky(refL, refLogdet, a, n, batch);

        using var da = Upload(Array.ConvertAll(a, v => (float)v));
        using var l = kernels.Allocate(a.Length);
        using var logdet = kernels.Allocate(batch);
        kernels.Cholesky(l.Span, logdet.Span, da.Span, n, batch);
        var got = Download(logdet);
        var err = new Sampled.Error();
        for (int m = 0; m < batch; m++)
        {
            err.Add(refLogdet[m], got[m]);
        }
        var (sec, median) = Time(() => kernels.Cholesky(l.Span, logdet.Span, da.Span, n, batch));
        double flops = batch * Math.Pow(n, 3) / 3;
        string shape = batch == 1 ? $"{n}x{n}" : $"{batch}x{n}x{n}";
        return new("cholesky_logdet", kernels.Name, shape, flops / sec / 1e9, sec, err.Relative, 8.0 * a.Length / sec / 1e9, median);
    }

    /// <summary>The best and the median seconds of one call, after a warm-up.</summary>
    private (double Best, double Median) Time(Action op)
    {
        // The warm-up outlasts the tiered JIT (small methods without loops, which QuickJitForLoops=false leaves at
        // tier 0, are recompiled after 30 calls and a 100 ms delay), and the longer window catches more of the calls
        // a shared host leaves alone: 1024^3 GEMM, four alternating pairs on the 2-core EPYC VM, 109-161 GFLOP/s
        // with one call and 0.2 s, 133-171 with this.
        var total = Stopwatch.StartNew();
        for (int rep = 0; rep < 2 || (total.Elapsed.TotalSeconds < WarmSeconds && rep < 100); rep++)
        {
            op();
            kernels.Synchronize();
        }
        var times = new List<double>();
        total.Restart();
        while (times.Count < 5 || (total.Elapsed.TotalSeconds < MinSeconds && times.Count < 200))
        {
            var sw = Stopwatch.StartNew();
            op();
            kernels.Synchronize();
            times.Add(sw.Elapsed.TotalSeconds);
        }
        times.Sort();
        return (times[0], times[times.Count / 2]);
    }

    private float[] Random(int length) => RandomData.Uniform(_rng, length);

    private DeviceBuffer Upload(float[] data)
    {
        var b = kernels.Allocate(data.Length);
        kernels.Upload(b.Span, data);
        return b;
    }

    private float[] Download(DeviceBuffer b)
    {
        var h = new float[b.Length];
        kernels.Download(b.Span, h);
        return h;
    }
}

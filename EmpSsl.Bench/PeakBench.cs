using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EmpSsl.Bench;

/// <summary>
/// The fp32 ceiling the kernels are held to, measured rather than assumed: twelve independent FMA chains in
/// registers per thread, no memory traffic. A VM's clock and its neighbours move this figure from hour to hour
/// (on the 2-core EPYC VM by as much as the kernels' own spread), so quick mode prints it beside the kernels.
/// </summary>
public static class PeakBench
{
    private const long Iterations = 1 << 23;

    /// <summary>The peak on one thread and on every core, as one line.</summary>
    public static string Describe()
        => $"{Measure(1):F1} GFLOP/s on 1 thread, {Measure(Environment.ProcessorCount):F1} on {Environment.ProcessorCount}";

    /// <summary>Best of five runs: GFLOP/s of <paramref name="threads"/> threads each running the FMA loop.</summary>
    public static double Measure(int threads)
    {
        int lanes = Vector512.IsHardwareAccelerated ? 16 : 8;
        double best = double.MaxValue;
        var sink = new float[threads];
        var starts = new long[threads];
        var ends = new long[threads];
        for (int rep = 0; rep < 5; rep++)
        {
            using var start = new Barrier(threads);
            var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                start.SignalAndWait();
                // Each worker stamps its own loop: a clock in the launching thread started late whenever that
                // thread lost its core after the barrier, and a 1-thread run once read 183 GFLOP/s on a
                // 98 GFLOP/s core.
                starts[t] = Stopwatch.GetTimestamp();
                sink[t] = lanes == 16 ? Loop512(Iterations) : Loop256(Iterations);
                ends[t] = Stopwatch.GetTimestamp();
            })).ToList();
            workers.ForEach(w => w.Start());
            workers.ForEach(w => w.Join());
            best = Math.Min(best, (double)(ends.Max() - starts.Min()) / Stopwatch.Frequency);
        }
        // Keeps the loops' results alive, so the JIT cannot drop them.
        GC.KeepAlive(sink);
        return threads * Iterations * 12.0 * lanes * 2 / best / 1e9;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop256(long iterations)
    {
        var m = Vector256.Create(0.999999f);
        var a = Vector256.Create(1e-7f);
        Vector256<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, m, a);
            c1 = Vector256.FusedMultiplyAdd(c1, m, a);
            c2 = Vector256.FusedMultiplyAdd(c2, m, a);
            c3 = Vector256.FusedMultiplyAdd(c3, m, a);
            c4 = Vector256.FusedMultiplyAdd(c4, m, a);
            c5 = Vector256.FusedMultiplyAdd(c5, m, a);
            c6 = Vector256.FusedMultiplyAdd(c6, m, a);
            c7 = Vector256.FusedMultiplyAdd(c7, m, a);
            c8 = Vector256.FusedMultiplyAdd(c8, m, a);
            c9 = Vector256.FusedMultiplyAdd(c9, m, a);
            c10 = Vector256.FusedMultiplyAdd(c10, m, a);
            c11 = Vector256.FusedMultiplyAdd(c11, m, a);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop512(long iterations)
    {
        var m = Vector512.Create(0.999999f);
        var a = Vector512.Create(1e-7f);
        Vector512<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, m, a);
            c1 = Vector512.FusedMultiplyAdd(c1, m, a);
            c2 = Vector512.FusedMultiplyAdd(c2, m, a);
            c3 = Vector512.FusedMultiplyAdd(c3, m, a);
            c4 = Vector512.FusedMultiplyAdd(c4, m, a);
            c5 = Vector512.FusedMultiplyAdd(c5, m, a);
            c6 = Vector512.FusedMultiplyAdd(c6, m, a);
            c7 = Vector512.FusedMultiplyAdd(c7, m, a);
            c8 = Vector512.FusedMultiplyAdd(c8, m, a);
            c9 = Vector512.FusedMultiplyAdd(c9, m, a);
            c10 = Vector512.FusedMultiplyAdd(c10, m, a);
            c11 = Vector512.FusedMultiplyAdd(c11, m, a);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }
}

using System.Runtime.Intrinsics;

namespace EmpSsl.Kernels.Cpu;

// The optimizer step: w, v updated in place from g (g is read only).
public sealed unsafe partial class CpuKernels
{
    /// <param name="w">(n) the weights, updated</param>
    /// <param name="g">(n) their gradient</param>
    /// <param name="v">(n) the momentum buffer, updated</param>
    public void LarsSgdUpdate(DeviceSpan w, DeviceSpan g, DeviceSpan v, in LarsStep p)
    {
        Checks.Same("LarsSgdUpdate", w, g, v);
        float* pw = SimdDriver.P(w);
        float* pg = SimdDriver.P(g);
        float trust = 1f;
        float decay = 0f;
        if (p.Lars)
        {
            double wNorm = Math.Sqrt(SimdReduce.ReduceParallel(pw, pw, w.Length, default(DotTerm)));
            double gNorm = Math.Sqrt(SimdReduce.ReduceParallel(pg, pg, g.Length, default(DotTerm)));
            if (wNorm > 0 && gNorm > 0)
            {
                decay = p.WeightDecay;
                double t = p.Eta * wNorm / (gNorm + p.WeightDecay * wNorm + p.Eps);
                if (p.Clip)
                {
                    t = Math.Min(t / p.Lr, 1.0);
                }
                trust = (float)t;
            }
        }
        var step = new LarsStepOp(trust, decay, p.Momentum, p.Lr, p.Nesterov);
        nint w0 = (nint)pw;
        nint g0 = (nint)pg;
        nint v0 = (nint)SimdDriver.P(v);
        SimdDriver.For(w.Length, SimdDriver.ParallelChunk, (start, length) =>
            step.Run((float*)w0 + start, (float*)g0 + start, (float*)v0 + start, length));
    }
}

/// <summary>
/// g' = trust (g + decay w); v = momentum v + g'; w -= lr (nesterov ? g' + momentum v : v), in one pass.
/// </summary>
internal readonly unsafe struct LarsStepOp(float trust, float decay, float momentum, float lr, bool nesterov)
{
    public void Run(float* w, float* g, float* v, long n)
    {
        long i = 0;
        for (; i <= n - 8; i += 8)
        {
            var (wi, vi) = Invoke(Vector256.Load(w + i), Vector256.Load(g + i), Vector256.Load(v + i));
            wi.Store(w + i);
            vi.Store(v + i);
        }
        if (i < n)
        {
            long k = n - i;
            var (wi, vi) = Invoke(SimdDriver.LoadTail(w + i, k), SimdDriver.LoadTail(g + i, k), SimdDriver.LoadTail(v + i, k));
            SimdDriver.StoreTail(w + i, k, wi);
            SimdDriver.StoreTail(v + i, k, vi);
        }
    }

    private (Vector256<float> W, Vector256<float> V) Invoke(Vector256<float> w, Vector256<float> g, Vector256<float> v)
    {
        var m = Vector256.Create(momentum);
        var scaled = Vector256.Create(trust) * (g + Vector256.Create(decay) * w);
        var velocity = m * v + scaled;
        var step = nesterov ? scaled + m * velocity : velocity;
        return (w - Vector256.Create(lr) * step, velocity);
    }
}

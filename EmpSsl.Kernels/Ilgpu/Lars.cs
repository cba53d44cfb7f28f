using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace EmpSsl.Kernels.Ilgpu;

// One LARS/SGD step (see LarsStep). With Lars set, three launches and no host round trip: partial sums of
// w^2 and g^2 per group, one group turning them into the trust ratio and decay on the device, then the fused
// update reading them. Without Lars only the update runs. w and v are updated in place; g is only read.
// As in solo-learn's LARSWrapper, a zero |w| or |g| skips LARS for the tensor: trust 1 and no decay.
public sealed partial class IlgpuKernels
{
    public void LarsSgdUpdate(DeviceSpan w, DeviceSpan g, DeviceSpan v, in LarsStep p)
    {
        Checks.Same("LarsSgdUpdate", w, g, v);
        if (w.Length == 0)
        {
            return;
        }
        int groups = p.Lars ? ReduceGroups(w.Length) : 0;
        var scratch = ReduceScratch(2 * groups + 2);
        var trust = scratch.SubView(2 * groups, 2);
        if (p.Lars)
        {
            var partials = scratch.SubView(0, 2 * groups);
            Load("LarsNormPartials", a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>>(LarsNormPartialsKernel))(
                new KernelConfig(groups, ReduceGroupSize), partials, V(w), V(g));
            Load("LarsTrust", a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, float, float, float, float, int>(LarsTrustKernel))(
                new KernelConfig(1, ReduceGroupSize), trust, partials, p.Lr, p.WeightDecay, p.Eta, p.Eps, p.Clip ? 1 : 0);
        }
        Load("LarsUpdate", a => a.LoadAutoGroupedStreamKernel<
            Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, int, int>(LarsUpdateKernel))(
            w.Length, V(w), V(g), V(v), trust, p.Lr, p.Momentum, p.Nesterov ? 1 : 0, p.Lars ? 1 : 0);
    }

    /// <summary>Group b writes its share of sum(w^2) to partials[b] and of sum(g^2) to partials[groups + b].</summary>
    /// <param name="partials">(2 * groups)</param>
    /// <param name="w">(n)</param>
    /// <param name="g">(n)</param>
    internal static void LarsNormPartialsKernel(ArrayView<float> partials, ArrayView<float> w, ArrayView<float> g)
    {
        var shared = SharedMemory.Allocate<float>(ReduceGroup.SharedSlots);
        long stride = (long)Grid.DimX * Group.DimX;
        float ww = 0f;
        float gg = 0f;
        for (long i = (long)Grid.IdxX * Group.DimX + Group.IdxX; i < w.Length; i += stride)
        {
            float wi = w[i];
            float gi = g[i];
            ww += wi * wi;
            gg += gi * gi;
        }
        ww = ReduceGroup.Sum(shared, ww);
        gg = ReduceGroup.Sum(shared, gg);
        if (Group.IdxX == 0)
        {
            partials[Grid.IdxX] = ww;
            partials[Grid.DimX + Grid.IdxX] = gg;
        }
    }

    /// <summary>
    /// One group: trust[0] = Eta |w| / (|g| + WeightDecay |w| + Eps), then min(trust / Lr, 1) when clip, and
    /// trust[1] = WeightDecay; when |w| or |g| is zero, trust[0] = 1 and trust[1] = 0.
    /// </summary>
    /// <param name="trust">(2): the trust ratio, then the weight decay to apply</param>
    /// <param name="partials">(2 * groups): the sums of w^2, then those of g^2</param>
    internal static void LarsTrustKernel(ArrayView<float> trust, ArrayView<float> partials, float lr, float weightDecay, float eta, float eps, int clip)
    {
        var shared = SharedMemory.Allocate<float>(ReduceGroup.SharedSlots);
        int groups = (int)(partials.Length / 2);
        float ww = 0f;
        float gg = 0f;
        for (int b = Group.IdxX; b < groups; b += Group.DimX)
        {
            ww += partials[b];
            gg += partials[groups + b];
        }
        float wNorm = XMath.Sqrt(ReduceGroup.Sum(shared, ww));
        float gNorm = XMath.Sqrt(ReduceGroup.Sum(shared, gg));
        if (Group.IdxX == 0)
        {
            float ratio = 1f;
            float decay = 0f;
            if (wNorm != 0f && gNorm != 0f)
            {
                decay = weightDecay;
                ratio = eta * wNorm / (gNorm + weightDecay * wNorm + eps);
                if (clip != 0)
                {
                    ratio = XMath.Min(ratio / lr, 1f);
                }
            }
            trust[0] = ratio;
            trust[1] = decay;
        }
    }

    /// <summary>
    /// g' = lars ? trust[0] (g + trust[1] w) : g; v = Momentum v + g'; w -= Lr (nesterov ? g' + Momentum v : v).
    /// </summary>
    /// <param name="w">(n), updated</param>
    /// <param name="g">(n)</param>
    /// <param name="v">(n), the momentum buffer, updated</param>
    /// <param name="trust">(2) from LarsTrustKernel, read only when lars</param>
    internal static void LarsUpdateKernel(
        Index1D i, ArrayView<float> w, ArrayView<float> g, ArrayView<float> v, ArrayView<float> trust,
        float lr, float momentum, int nesterov, int lars)
    {
        float wi = w[i];
        float step = lars != 0 ? trust[0] * (g[i] + trust[1] * wi) : g[i];
        float vi = momentum * v[i] + step;
        v[i] = vi;
        w[i] = wi - lr * (nesterov != 0 ? step + momentum * vi : vi);
    }
}

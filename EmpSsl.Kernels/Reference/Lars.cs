namespace EmpSsl.Kernels.Reference;

public static partial class Ref
{
    /// <summary>
    /// One SGD step with optional LARS on w, given its gradient g (read only) and momentum buffer v, all the same
    /// length, as <see cref="LarsStep"/> documents it. With Lars: trust = Eta |w| / (|g| + WeightDecay |w| + Eps),
    /// clipped to min(trust / Lr, 1) when Clip, and 1 when |w| or |g| is zero; g' = trust (g + WeightDecay w).
    /// Without Lars: g' = g, no decay. Then v = Momentum v + g'; step = Nesterov ? g' + Momentum v : v; w -= Lr step.
    /// (solo-learn's LARSWrapper differs in one corner: with |g| = 0 and |w| &gt; 0 it skips the decay too.)
    /// </summary>
    public static void LarsSgdUpdate(Span<double> w, ReadOnlySpan<double> g, Span<double> v, in LarsStep p)
    {
        Same("LarsSgdUpdate", w.Length, g.Length, v.Length);
        double trust = 1;
        double decay = p.Lars ? p.WeightDecay : 0;
        if (p.Lars)
        {
            double wNorm = Norm(w);
            double gNorm = Norm(g);
            if (wNorm > 0 && gNorm > 0)
            {
                trust = p.Eta * wNorm / (gNorm + (double)p.WeightDecay * wNorm + p.Eps);
                if (p.Clip)
                {
                    trust = Math.Min(trust / p.Lr, 1);
                }
            }
        }
        for (int i = 0; i < w.Length; i++)
        {
            double gi = trust * (g[i] + decay * w[i]);
            v[i] = p.Momentum * v[i] + gi;
            double step = p.Nesterov ? gi + p.Momentum * v[i] : v[i];
            w[i] -= p.Lr * step;
        }
    }

    private static double Norm(ReadOnlySpan<double> x)
    {
        double sq = 0;
        foreach (double e in x)
        {
            sq += e * e;
        }
        return Math.Sqrt(sq);
    }
}

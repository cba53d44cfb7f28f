using System.Runtime.InteropServices;
using EmpSsl.Kernels.Reference;
using EmpSsl.Testing;

namespace EmpSsl.Kernels.Tests;

/// <summary>
/// For tests that call the cpu kernels' pointer entry points directly (Winograd, polyphase, strided pointwise):
/// NaN-poisoned outputs, inputs pinned for the length of one run, outputs between guard bands (CpuCompare), and a
/// convolution pass checked against the float64 spec on random data seeded by its shape.
/// </summary>
public abstract unsafe class PinnedRuns
{
    private readonly List<GCHandle> _pins = [];

    protected delegate void UnsafeOp(float* output);

    protected static float[] Poisoned(int length)
    {
        var x = new float[length];
        Array.Fill(x, float.NaN);
        return x;
    }

    /// <summary>A pointer to data, pinned until the next <see cref="Run"/> ends.</summary>
    protected float* Pin(float[] data)
    {
        var handle = GCHandle.Alloc(data, GCHandleType.Pinned);
        _pins.Add(handle);
        return (float*)handle.AddrOfPinnedObject();
    }

    /// <summary>A convolution pass at pointer level: its output, then its two inputs (x and w, dy and w, or dy and x).</summary>
    protected delegate void ConvPass(float* output, float* first, float* second);

    /// <summary>The bound a path's results are held to; Gemm's unless the path sums differently.</summary>
    protected virtual Tolerance Band(double[] want) => Tol.Gemm;

    /// <summary>The guard bands of a buffer <see cref="Run"/> returned are intact, and what lies between them is want within <see cref="Band"/>.</summary>
    protected void Check(double[] want, float[] guarded, string what)
    {
        CpuCompare.AssertGuards(guarded, what);
        Compare.AssertClose(what, want, guarded.AsSpan(CpuCompare.Guard, want.Length), Band(want));
    }

    /// <summary>
    /// backwardWeight onto zeros, nine times over the same seeded dy and x, gives the same bits every time: training
    /// repeats only if the weight gradient sums its tiles in the same order on every run.
    /// </summary>
    protected void WeightGradientRepeats(Conv2dShape s, ConvPass backwardWeight, int seed)
    {
        var rng = new Random(seed);
        float[] dy = CpuCompare.Random(rng, s.OutputLength);
        float[] x = CpuCompare.Random(rng, s.InputLength);
        float[] first = Run(new float[s.WeightLength], dw => backwardWeight(dw, Pin(dy), Pin(x)));
        for (int run = 0; run < 8; run++)
        {
            Assert.Equal(first, Run(new float[s.WeightLength], dw => backwardWeight(dw, Pin(dy), Pin(x))));
        }
    }

    /// <summary>y = forward(x, w), written over NaN poison, against the spec.</summary>
    protected void ForwardMatches(Conv2dShape s, ConvPass forward, string what)
    {
        var rng = new Random(s.GetHashCode());
        float[] x = CpuCompare.Random(rng, s.InputLength);
        float[] wt = CpuCompare.Random(rng, s.WeightLength);
        var want = new double[s.OutputLength];
        Ref.Conv2dForward(want, CpuCompare.Wide(x), CpuCompare.Wide(wt), s);
        Check(want, Run(Poisoned(s.OutputLength), y => forward(y, Pin(x), Pin(wt))), what);
    }

    /// <summary>
    /// dx = backwardData(dy, w), written over NaN poison, against the spec; with <paramref name="accumulating"/>, added
    /// onto a random start instead (a shortcut's gradient already there).
    /// </summary>
    protected void BackwardDataMatches(Conv2dShape s, ConvPass backwardData, string what, bool accumulating = false)
    {
        var rng = new Random(s.GetHashCode() + 1);
        float[] dy = CpuCompare.Random(rng, s.OutputLength);
        float[] wt = CpuCompare.Random(rng, s.WeightLength);
        var want = new double[s.InputLength];
        Ref.Conv2dBackwardData(want, CpuCompare.Wide(dy), CpuCompare.Wide(wt), s);
        float[] start = Poisoned(s.InputLength);
        if (accumulating)
        {
            start = CpuCompare.Random(rng, s.InputLength);
            for (int i = 0; i < want.Length; i++)
            {
                want[i] += start[i];
            }
        }
        Check(want, Run(start, dx => backwardData(dx, Pin(dy), Pin(wt))), what);
    }

    /// <summary>dw += backwardWeight(dy, x) onto a random start, against the spec.</summary>
    protected void BackwardWeightMatches(Conv2dShape s, ConvPass backwardWeight, string what)
    {
        var rng = new Random(s.GetHashCode() + 2);
        float[] dy = CpuCompare.Random(rng, s.OutputLength);
        float[] x = CpuCompare.Random(rng, s.InputLength);
        float[] dw0 = CpuCompare.Random(rng, s.WeightLength);
        var want = CpuCompare.Wide(dw0);
        Ref.Conv2dBackwardWeight(want, CpuCompare.Wide(dy), CpuCompare.Wide(x), s);
        Check(want, Run(dw0, dw => backwardWeight(dw, Pin(dy), Pin(x))), what);
    }

    /// <summary>Runs op on an output that starts as `initial` between guard bands; returns the whole guarded buffer.</summary>
    protected float[] Run(float[] initial, UnsafeOp op)
    {
        float[] guarded = CpuCompare.WithGuards(initial);
        try
        {
            fixed (float* p = guarded)
            {
                op(p + CpuCompare.Guard);
            }
        }
        finally
        {
            _pins.ForEach(h => h.Free());
            _pins.Clear();
        }
        return guarded;
    }
}

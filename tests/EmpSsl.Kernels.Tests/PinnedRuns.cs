using System.Runtime.InteropServices;
using EmpSsl.Testing;

namespace EmpSsl.Kernels.Tests;

/// <summary>
/// For tests that call the cpu kernels' pointer entry points directly (Winograd, polyphase): NaN-poisoned outputs,
/// inputs pinned for the length of one run, and outputs between guard bands (CpuCompare).
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

    /// <summary>The guard bands of a buffer <see cref="Run"/> returned are intact, and what lies between them is want within tol.</summary>
    protected static void CheckGuarded(double[] want, float[] guarded, string what, Tolerance tol)
    {
        CpuCompare.AssertGuards(guarded, what);
        Compare.AssertClose(what, want, guarded.AsSpan(CpuCompare.Guard, want.Length), tol);
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

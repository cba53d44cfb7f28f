using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// Work arrays for the cpu kernels: one per use and thread ([ThreadStatic] slots held by the callers), pinned so a
/// pointer stays valid, 64-byte aligned, grown to the largest size asked for and never shrunk. Steady state
/// allocates nothing, and memory is bounded by one array per slot: ArrayPool.Shared, used before, kept arrays of
/// every power-of-two size a run had asked for, and a training run followed by its evaluation grew to 14 GB.
/// </summary>
internal static unsafe class Scratch
{
    /// <summary>At least length floats (plus slack for packing's spilled vector stores), 64-byte aligned.</summary>
    public static float* Floats(ref float[]? slot, long length)
    {
        if (slot == null || slot.Length < length + 32)
        {
            // Dropped first, so the old array can be collected before the larger one is taken.
            slot = null;
            slot = GC.AllocateUninitializedArray<float>(checked((int)(length + 32)), pinned: true);
        }
        float* p = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(slot));
        return (float*)(((nint)p + 63) & ~(nint)63);
    }

    /// <summary>At least length longs, pinned.</summary>
    public static long* Longs(ref long[]? slot, long length)
    {
        if (slot == null || slot.Length < length)
        {
            // Dropped first, as in Floats.
            slot = null;
            slot = GC.AllocateUninitializedArray<long>(checked((int)length), pinned: true);
        }
        return (long*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(slot));
    }
}

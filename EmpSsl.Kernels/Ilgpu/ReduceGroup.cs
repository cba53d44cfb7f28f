using ILGPU;
using ILGPU.Runtime;

namespace EmpSsl.Kernels.Ilgpu;

/// <summary>
/// Sums across one group: a butterfly over each warp's lanes (no shared memory, no barrier), then one
/// shared slot per warp and a second butterfly, so every thread ends with the total after two barriers.
/// The group size must be a multiple of the warp size and at most warp size squared (see
/// <see cref="IlgpuKernels.ReduceGroupSize"/>), and every thread of the group must make the call (the
/// shuffles and barriers are collective). Kernels allocate the shared slots and pass them in, so the
/// allocation is visibly the kernel's own.
/// </summary>
internal static class ReduceGroup
{
    /// <summary>Shared slots a kernel allocates for <see cref="Sum"/>: one per warp of the largest group.</summary>
    public const int SharedSlots = 32;

    /// <summary>The group-wide total of each thread's value, returned to every thread.</summary>
    public static float Sum(ArrayView<float> shared, float value)
    {
        float warpTotal = WarpSum(value);
        if (Warp.LaneIdx == 0)
        {
            shared[Warp.WarpIdx] = warpTotal;
        }
        Group.Barrier();
        int warps = Group.DimX / Warp.WarpSize;
        float total = WarpSum(Warp.LaneIdx < warps ? shared[Warp.LaneIdx] : 0f);
        // The next call writes these slots again: no thread may still be reading them.
        Group.Barrier();
        return total;
    }

    /// <summary>Every lane gets the sum over its warp; XOR pairing keeps the order the same in every lane.</summary>
    public static float WarpSum(float value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset >>= 1)
        {
            value += Warp.ShuffleXor(value, offset);
        }
        return value;
    }
}

public sealed partial class IlgpuKernels
{
    /// <summary>At most this many groups share a grid-stride reduction (Sum, the LARS norms).</summary>
    internal const int ReducePartials = 1024;

    private int _reduceGroupSize;
    private MemoryBuffer1D<float, Stride1D.Dense>? _reduceScratch;

    /// <summary>
    /// Threads per group for the reduction kernels: 256 on GPUs (8 warps), fewer where the accelerator caps it
    /// (ILGPU's CPU accelerator allows 16). A power of two and a multiple of the warp size.
    /// </summary>
    internal int ReduceGroupSize
    {
        get
        {
            if (_reduceGroupSize == 0)
            {
                int warp = Accelerator.WarpSize;
                int size = Math.Min(256, Math.Min(Accelerator.MaxNumThreadsPerGroup, warp * Math.Min(warp, ReduceGroup.SharedSlots)));
                size = 1 << (31 - System.Numerics.BitOperations.LeadingZeroCount((uint)size));
                if (size % warp != 0)
                {
                    throw new NotSupportedException(
                        $"{Name}: a group of {size} threads is not a whole number of {warp}-lane warps");
                }
                _reduceGroupSize = size;
            }
            return _reduceGroupSize;
        }
    }

    /// <summary>
    /// Device scratch of at least <paramref name="length"/> floats for the partial sums of multi-stage
    /// reductions. One buffer serves every launch because launches run in order on one stream; it only grows,
    /// after the launches that may still read the old one have finished.
    /// </summary>
    internal ArrayView<float> ReduceScratch(long length)
    {
        if (_reduceScratch is null || _reduceScratch.Length < length)
        {
            if (_reduceScratch is not null)
            {
                Accelerator.Synchronize();
                _reduceScratch.Dispose();
            }
            _reduceScratch = Accelerator.Allocate1D<float>(Math.Max(length, 2 * ReducePartials + 8));
        }
        return _reduceScratch.View.SubView(0, length);
    }

    /// <summary>Groups for a grid-stride pass over n values: enough to cover n once, capped at <see cref="ReducePartials"/>.</summary>
    internal int ReduceGroups(long n) => (int)Math.Clamp((n + ReduceGroupSize - 1) / ReduceGroupSize, 1, ReducePartials);
}

namespace EmpSsl.Kernels.Ilgpu;

/// <summary>
/// Caps a TF32 kernel's registers per thread (<see cref="PtxRegisterLimit"/>). The big tiles hold 64 sums per thread,
/// and their 256-thread blocks fit two to a multiprocessor (65,536 registers) only at 128 registers or fewer: the
/// 128 x 128 forward once came out of ptxas at 142 and ran the H100 step's forward 10-20% slower at one block per
/// multiprocessor.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class MaxRegistersAttribute(int count) : Attribute
{
    public int Count { get; } = count;
}

/// <summary>Writes a `.maxnreg` directive into a kernel's PTX, which ptxas then honours (spilling if it must).</summary>
internal static class PtxRegisterLimit
{
    /// <summary>The PTX with `.maxnreg count` between the entry's parameter list and its body.</summary>
    public static string Apply(string ptx, int count)
    {
        int entry = ptx.IndexOf(".entry", StringComparison.Ordinal);
        int close = entry < 0 ? -1 : ptx.IndexOf("\n)", entry, StringComparison.Ordinal);
        if (close < 0)
        {
            throw new FormatException("the PTX has no .entry parameter list to put .maxnreg after");
        }
        int at = close + 2;
        return string.Concat(ptx.AsSpan(0, at), $"\n.maxnreg {count}", ptx.AsSpan(at));
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// Copies of one image row or output row (4 to 32 floats in the ResNet shapes), inlined: at that length a call to
/// memmove costs more than the copy.
/// </summary>
internal static unsafe class ShortRows
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(float* dst, float* src, int n)
    {
        int t = 0;
        for (; t + 8 <= n; t += 8)
        {
            Vector256.Store(Vector256.Load(src + t), dst + t);
        }
        // 4-pixel rows (the 4x4 planes) are common enough for a step of their own.
        if (t + 4 <= n)
        {
            Vector128.Store(Vector128.Load(src + t), dst + t);
            t += 4;
        }
        for (; t < n; t++)
        {
            dst[t] = src[t];
        }
    }
}

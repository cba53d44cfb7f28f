using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// Copies and clears of rows and small planes (4 to about 1,000 floats in the ResNet shapes), inlined as vector
/// loops. At that length a call to memmove or memset costs more than the work, and worse: on 2 Xeon cores (AVX-512,
/// FSRM) a Span Clear or CopyTo of 16 to 1,024 floats right after a row of ordinary stores took 80-170 ns, 13x the
/// vector loop (27 against 2 ms for 660,000 such pairs over 42 MB), presumably the string instructions waiting for
/// the stores before them to drain; 1 to 4 floats were not slowed. Whole buffers of megabytes still go to Span.
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Clear(float* dst, long n)
    {
        long t = 0;
        for (; t + 8 <= n; t += 8)
        {
            Vector256.Store(Vector256<float>.Zero, dst + t);
        }
        if (t + 4 <= n)
        {
            Vector128.Store(Vector128<float>.Zero, dst + t);
            t += 4;
        }
        for (; t < n; t++)
        {
            dst[t] = 0f;
        }
    }
}

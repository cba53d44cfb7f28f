using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// Copies of rows and small planes (4 to about 1,000 floats in the ResNet shapes), inlined as vector loops. At that
/// length a call to memmove costs more than the copy, and worse: on 2 Xeon cores (AVX-512, FSRM) a Span CopyTo or
/// Clear of 16 to 1,024 floats right after a row of ordinary stores took 80-170 ns, 13x a vector loop (27 against 2 ms
/// for 655,360 such pairs over 42 MB), presumably the string instructions waiting for the stores before them to drain;
/// 1 to 4 floats were not slowed. Such rows are cleared with <see cref="SimdDriver.FillRange"/> for the same reason.
/// Whole buffers of megabytes still go to Span.
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

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EmpSsl.Kernels.Cpu;

/// <summary>One term of a reduction, sum over i of Term(a[i], b[i]).</summary>
internal interface IReduceOp
{
    float Term(float a, float b);

    Vector256<float> Term(Vector256<float> a, Vector256<float> b);
}

internal readonly struct SumTerm : IReduceOp
{
    public float Term(float a, float b) => a;

    public Vector256<float> Term(Vector256<float> a, Vector256<float> b) => a;
}

internal readonly struct DotTerm : IReduceOp
{
    public float Term(float a, float b) => a * b;

    public Vector256<float> Term(Vector256<float> a, Vector256<float> b) => a * b;
}

/// <summary>
/// Reductions to double. Each block of 1024 floats sums in 32 float lanes (32 terms per lane), and the
/// blocks add in double, so the error does not grow with n the way a plain float running sum does.
/// They run 256-bit vectors only: every caller is bound by memory or cache bandwidth, not by arithmetic.
/// </summary>
internal static unsafe class SimdReduce
{
    private const long Block = 1024;

    public static double Sum(float* x, long n) => Reduce(x, x, n, default(SumTerm));

    public static double Dot(float* a, float* b, long n) => Reduce(a, b, n, default(DotTerm));

    /// <summary>Sum over i of op.Term(a[i], b[i]), split over the cores for big n; the pieces add in a fixed order.</summary>
    public static double ReduceParallel<TOp>(float* a, float* b, long n, TOp op)
        where TOp : struct, IReduceOp
    {
        long pieces = Math.Min(Environment.ProcessorCount, n / SimdDriver.ParallelChunk);
        if (pieces < 2)
        {
            return Reduce(a, b, n, op);
        }
        long step = (n / pieces + 63) & ~63L;
        pieces = (n + step - 1) / step;
        var partial = new double[pieces];
        nint pa = (nint)a;
        nint pb = (nint)b;
        Parallel.For(0, pieces, p =>
        {
            long start = p * step;
            partial[p] = Reduce((float*)pa + start, (float*)pb + start, Math.Min(step, n - start), op);
        });
        double total = 0;
        foreach (double s in partial)
        {
            total += s;
        }
        return total;
    }

    public static double Reduce<TOp>(float* a, float* b, long n, TOp op)
        where TOp : struct, IReduceOp
    {
        double total = 0;
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            while (n - i >= 32)
            {
                long end = i + Math.Min(Block, (n - i) & ~31L);
                var s0 = Vector256<float>.Zero;
                var s1 = Vector256<float>.Zero;
                var s2 = Vector256<float>.Zero;
                var s3 = Vector256<float>.Zero;
                for (; i < end; i += 32)
                {
                    s0 += op.Term(Vector256.Load(a + i), Vector256.Load(b + i));
                    s1 += op.Term(Vector256.Load(a + i + 8), Vector256.Load(b + i + 8));
                    s2 += op.Term(Vector256.Load(a + i + 16), Vector256.Load(b + i + 16));
                    s3 += op.Term(Vector256.Load(a + i + 24), Vector256.Load(b + i + 24));
                }
                total += Widen((s0 + s1) + (s2 + s3));
            }
            var tail = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                tail += op.Term(Vector256.Load(a + i), Vector256.Load(b + i));
            }
            if (i < n && Avx.IsSupported)
            {
                var mask = TailMask(n - i);
                tail += op.Term(Avx.MaskLoad(a + i, mask), Avx.MaskLoad(b + i, mask)) & mask;
                i = n;
            }
            total += Widen(tail);
        }
        for (; i < n; i++)
        {
            total += op.Term(a[i], b[i]);
        }
        return total;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> TailMask(long k) => SimdDriver.TailMask(k);

    /// <summary>The sum of the eight lanes, in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Widen(Vector256<float> v)
    {
        var (lo, hi) = Vector256.Widen(v);
        return Vector256.Sum(lo + hi);
    }
}

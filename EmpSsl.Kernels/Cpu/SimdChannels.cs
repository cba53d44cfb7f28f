using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EmpSsl.Kernels.Cpu;

/// <summary>Two sums at once over (a, b) around a center c, for BatchNorm's per-channel statistics.</summary>
internal interface IPairTerms
{
    void Terms(Vector256<float> a, Vector256<float> b, Vector256<float> c, out Vector256<float> t1, out Vector256<float> t2);
}

/// <summary>(x - c, (x - c)^2): mean and variance around a shift c.</summary>
internal readonly struct DeviationTerms : IPairTerms
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Terms(Vector256<float> a, Vector256<float> b, Vector256<float> c, out Vector256<float> t1, out Vector256<float> t2)
    {
        t1 = a - c;
        t2 = t1 * t1;
    }
}

/// <summary>(dy, dy (x - mean)): a = dy, b = x; BatchNorm backward's dbeta and dgamma / invStd.</summary>
internal readonly struct GradientTerms : IPairTerms
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Terms(Vector256<float> a, Vector256<float> b, Vector256<float> c, out Vector256<float> t1, out Vector256<float> t2)
    {
        t1 = a;
        t2 = a * (b - c);
    }
}

/// <summary>
/// <see cref="GradientTerms"/> with dy masked by the fused ReLU: 0 where the forward's output, recomputed from x with
/// the forward's own expression (<see cref="NormalizeOp"/>: (x - mean) scale + shift), was not positive.
/// </summary>
internal readonly struct ReluGradientTerms(float scale, float shift) : IPairTerms
{
    private readonly Vector256<float> _scale = Vector256.Create(scale);
    private readonly Vector256<float> _shift = Vector256.Create(shift);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Terms(Vector256<float> a, Vector256<float> b, Vector256<float> c, out Vector256<float> t1, out Vector256<float> t2)
    {
        var centered = b - c;
        t1 = Mask(a, centered);
        t2 = t1 * centered;
    }

    /// <summary>dy where (x - mean) scale + shift is positive, else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Mask(Vector256<float> dy, Vector256<float> centered) => Mask(dy, centered, _scale, _shift);

    /// <summary>The fused ReLU's mask, one expression for every sweep that applies it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Mask(Vector256<float> dy, Vector256<float> centered, Vector256<float> scale, Vector256<float> shift)
        => Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.FusedMultiplyAdd(centered, scale, shift), Vector256<float>.Zero), dy, Vector256<float>.Zero);
}

/// <summary>out = f(a, b) with four per-channel parameters p0..p3.</summary>
internal interface IChannelOp
{
    Vector256<float> Invoke(Vector256<float> a, Vector256<float> b, Vector256<float> p0, Vector256<float> p1, Vector256<float> p2, Vector256<float> p3);
}

/// <summary>a = x; y = (x - mean) * scale + shift, p0..p2 = mean, scale, shift.</summary>
internal readonly struct NormalizeOp : IChannelOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b, Vector256<float> p0, Vector256<float> p1, Vector256<float> p2, Vector256<float> p3)
        => Vector256.FusedMultiplyAdd(a - p0, p1, p2);
}

/// <summary><see cref="NormalizeOp"/> then ReLU: BatchNorm with the ReLU that follows it fused.</summary>
internal readonly struct NormalizeReluOp : IChannelOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b, Vector256<float> p0, Vector256<float> p1, Vector256<float> p2, Vector256<float> p3)
        => Vector256.Max(Vector256.FusedMultiplyAdd(a - p0, p1, p2), Vector256<float>.Zero);
}

/// <summary>
/// a = dy, b = x; dy where <see cref="NormalizeOp"/> of x with p0..p2 = mean, scale, shift is positive, else 0:
/// the fused ReLU's backward, from the forward's own expression so the two agree on every element.
/// </summary>
internal readonly struct ReluMaskOp : IChannelOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b, Vector256<float> p0, Vector256<float> p1, Vector256<float> p2, Vector256<float> p3)
        => ReluGradientTerms.Mask(a, b - p0, p1, p2);
}

/// <summary>
/// a = dy, b = x; dx = k dy - k mean(dy) - (x - mean) k b, with p0..p3 = mean, k, k mean(dy), k b.
/// Centering x before the multiply keeps the digits that x c1 + c0 would cancel when |mean| is large.
/// </summary>
internal readonly struct BatchNormGradOp : IChannelOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b, Vector256<float> p0, Vector256<float> p1, Vector256<float> p2, Vector256<float> p3)
        => Vector256.FusedMultiplyAdd(-(b - p0), p3, Vector256.FusedMultiplyAdd(a, p1, -p2));
}

/// <summary><see cref="BatchNormGradOp"/> of dy masked by the fused ReLU (<see cref="ReluGradientTerms.Mask"/>).</summary>
internal readonly struct ReluBatchNormGradOp(ReluGradientTerms relu) : IChannelOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b, Vector256<float> p0, Vector256<float> p1, Vector256<float> p2, Vector256<float> p3)
    {
        var centered = b - p0;
        return Vector256.FusedMultiplyAdd(-centered, p3, Vector256.FusedMultiplyAdd(relu.Mask(a, centered), p1, -p2));
    }
}

/// <summary>
/// The two sweeps BatchNorm makes over (N, C, HW): sums per channel, then an elementwise map with
/// per-channel parameters. Rows of HW floats are contiguous; with a small HW (BatchNorm1d has 1) the
/// sweeps run down the columns of the (N, C*HW) matrix instead, so each read is still a vector.
/// 256-bit vectors only: these sweeps are bound by memory bandwidth.
/// </summary>
internal static unsafe class SimdChannels
{
    /// <summary>Rows (or row blocks) summed in float before the sums move to double.</summary>
    private const int FloatRun = 32;

    /// <summary>(sum t1, sum t2) over a contiguous run of n floats, in double.</summary>
    public static (double S1, double S2) RowSums<TOp>(float* a, float* b, long n, float center, TOp op)
        where TOp : struct, IPairTerms
    {
        var c = Vector256.Create(center);
        double s1 = 0;
        double s2 = 0;
        long i = 0;
        while (n - i >= 16)
        {
            long end = i + Math.Min(16L * FloatRun, (n - i) & ~15L);
            var u0 = Vector256<float>.Zero;
            var u1 = Vector256<float>.Zero;
            var v0 = Vector256<float>.Zero;
            var v1 = Vector256<float>.Zero;
            for (; i < end; i += 16)
            {
                op.Terms(Vector256.Load(a + i), Vector256.Load(b + i), c, out var t1, out var t2);
                op.Terms(Vector256.Load(a + i + 8), Vector256.Load(b + i + 8), c, out var t3, out var t4);
                u0 += t1;
                v0 += t2;
                u1 += t3;
                v1 += t4;
            }
            s1 += SimdReduce.Widen(u0 + u1);
            s2 += SimdReduce.Widen(v0 + v1);
        }
        while (i < n)
        {
            long k = Math.Min(8, n - i);
            var mask = SimdDriver.TailMask(k);
            op.Terms(SimdDriver.LoadTail(a + i, k), SimdDriver.LoadTail(b + i, k), c, out var t1, out var t2);
            s1 += SimdReduce.Widen(t1 & mask);
            s2 += SimdReduce.Widen(t2 & mask);
            i += k;
        }
        return (s1, s2);
    }

    /// <summary>Most columns one ColumnSums call takes: its float partial sums stay in L1.</summary>
    public const int ColumnChunk = 512;

    /// <summary>
    /// Per column j in [0, width) of (rows, stride) matrices a and b (width at most <see cref="ColumnChunk"/>):
    /// s1[j] += sum t1, s2[j] += sum t2, around the per-column centers c[j]. Rows go in order, each a
    /// contiguous run, so the reads stream; blocks of rows sum in float before moving to double.
    /// </summary>
    public static void ColumnSums<TOp>(double* s1, double* s2, float* a, float* b, float* c, int rows, long stride, int width, TOp op)
        where TOp : struct, IPairTerms
    {
        int full = width & ~7;
        int tail = width - full;
        float* u = stackalloc float[ColumnChunk];
        float* v = stackalloc float[ColumnChunk];
        for (int r0 = 0; r0 < rows; r0 += FloatRun)
        {
            int r1 = Math.Min(rows, r0 + FloatRun);
            SimdDriver.FillRange(u, width, 0f);
            SimdDriver.FillRange(v, width, 0f);
            for (int r = r0; r < r1; r++)
            {
                float* ar = a + r * stride;
                float* br = b + r * stride;
                int j = 0;
                for (; j < full; j += 8)
                {
                    op.Terms(Vector256.Load(ar + j), Vector256.Load(br + j), Vector256.Load(c + j), out var t1, out var t2);
                    (Vector256.Load(u + j) + t1).Store(u + j);
                    (Vector256.Load(v + j) + t2).Store(v + j);
                }
                if (tail > 0)
                {
                    var mask = SimdDriver.TailMask(tail);
                    op.Terms(SimdDriver.LoadTail(ar + j, tail), SimdDriver.LoadTail(br + j, tail), SimdDriver.LoadTail(c + j, tail), out var t1, out var t2);
                    SimdDriver.StoreTail(u + j, tail, SimdDriver.LoadTail(u + j, tail) + (t1 & mask));
                    SimdDriver.StoreTail(v + j, tail, SimdDriver.LoadTail(v + j, tail) + (t2 & mask));
                }
            }
            for (int j = 0; j < width; j++)
            {
                s1[j] += u[j];
                s2[j] += v[j];
            }
        }
    }

    /// <summary>y[i] = op(a[i], b[i]) over a contiguous run, with the same four parameters for every element.</summary>
    public static void Apply<TOp>(float* y, float* a, float* b, long n, float p0, float p1, float p2, float p3, TOp op)
        where TOp : struct, IChannelOp
    {
        var q0 = Vector256.Create(p0);
        var q1 = Vector256.Create(p1);
        var q2 = Vector256.Create(p2);
        var q3 = Vector256.Create(p3);
        long i = 0;
        for (; i <= n - 16; i += 16)
        {
            var r0 = op.Invoke(Vector256.Load(a + i), Vector256.Load(b + i), q0, q1, q2, q3);
            var r1 = op.Invoke(Vector256.Load(a + i + 8), Vector256.Load(b + i + 8), q0, q1, q2, q3);
            r0.Store(y + i);
            r1.Store(y + i + 8);
        }
        while (i < n)
        {
            long k = Math.Min(8, n - i);
            SimdDriver.StoreTail(y + i, k, op.Invoke(SimdDriver.LoadTail(a + i, k), SimdDriver.LoadTail(b + i, k), q0, q1, q2, q3));
            i += k;
        }
    }

    /// <summary>y[j] = op(a[j], b[j]) over one row, with per-column parameters p0..p3[j].</summary>
    public static void ApplyColumns<TOp>(float* y, float* a, float* b, long n, float* p0, float* p1, float* p2, float* p3, TOp op)
        where TOp : struct, IChannelOp
    {
        long i = 0;
        for (; i <= n - 8; i += 8)
        {
            op.Invoke(Vector256.Load(a + i), Vector256.Load(b + i), Vector256.Load(p0 + i), Vector256.Load(p1 + i), Vector256.Load(p2 + i), Vector256.Load(p3 + i))
                .Store(y + i);
        }
        if (i < n)
        {
            long k = n - i;
            var r = op.Invoke(
                SimdDriver.LoadTail(a + i, k),
                SimdDriver.LoadTail(b + i, k),
                SimdDriver.LoadTail(p0 + i, k),
                SimdDriver.LoadTail(p1 + i, k),
                SimdDriver.LoadTail(p2 + i, k),
                SimdDriver.LoadTail(p3 + i, k));
            SimdDriver.StoreTail(y + i, k, r);
        }
    }
}

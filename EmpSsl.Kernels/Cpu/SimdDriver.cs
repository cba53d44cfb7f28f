using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EmpSsl.Kernels.Cpu;

/// <summary>An elementwise map y = f(x), in the TensorPrimitives style: one scalar and one vector form per width.</summary>
internal interface IUnaryOp
{
    float Invoke(float x);

    Vector256<float> Invoke(Vector256<float> x);

    Vector512<float> Invoke(Vector512<float> x);
}

/// <summary>An elementwise map y = f(a, b).</summary>
internal interface IBinaryOp
{
    float Invoke(float a, float b);

    Vector256<float> Invoke(Vector256<float> a, Vector256<float> b);

    Vector512<float> Invoke(Vector512<float> a, Vector512<float> b);
}

/// <summary>
/// The shared elementwise driver: picks the vector width, unrolls by four, finishes the tail with
/// one masked vector (never a scalar loop on x86), and splits big arrays over the cores.
/// Each element is read before it is written at the same index, so the output may alias an input.
/// </summary>
internal static unsafe class SimdDriver
{
    /// <summary>Arrays below two chunks run on the calling thread: a Parallel.For costs microseconds.</summary>
    public const long ParallelChunk = 1 << 16;

    /// <summary>
    /// Whether the driver runs 512-bit vectors. Tests may set it where the CPU lacks AVX-512 (the runtime
    /// then emulates Vector512) to exercise that path; the tail never needs AVX-512 masks.
    /// </summary>
    internal static bool Use512 { get; set; } = Vector512.IsHardwareAccelerated;

    // Eight all-ones lanes then eight zero lanes: loading at 8 - k gives a mask of the first k lanes.
    private static readonly int[] MaskTable = [-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>A raw pointer to a span's first float. CpuBuffer arrays are pinned, so it stays valid.</summary>
    public static float* P(DeviceSpan span)
    {
        var (array, offset) = CpuKernels.A(span);
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array)) + offset;
    }

    /// <summary>A mask of the first k (0..8) lanes, for Avx.MaskLoad / Avx.MaskStore.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> TailMask(long k)
        => Vector256.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(MaskTable), (nuint)(8 - k)).AsSingle();

    /// <summary>The first k (0..8) floats at p, the other lanes zero; never reads past p + k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadTail(float* p, long k)
    {
        if (Avx.IsSupported)
        {
            return Avx.MaskLoad(p, TailMask(k));
        }
        var v = Vector256<float>.Zero;
        for (int j = 0; j < k; j++)
        {
            v = v.WithElement(j, p[j]);
        }
        return v;
    }

    /// <summary>Stores the first k (0..8) lanes of v at p; never writes past p + k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreTail(float* p, long k, Vector256<float> v)
    {
        if (Avx.IsSupported)
        {
            Avx.MaskStore(p, TailMask(k), v);
            return;
        }
        for (int j = 0; j < k; j++)
        {
            p[j] = v.GetElement(j);
        }
    }

    /// <summary>
    /// Runs body(start, length) over [0, n) in pieces of at least <paramref name="grain"/> (aligned to 64
    /// elements), one piece per core at most, or inline when n is below two grains.
    /// </summary>
    public static void For(long n, long grain, Action<long, long> body)
    {
        long pieces = Math.Min(Environment.ProcessorCount, n / grain);
        if (pieces < 2)
        {
            body(0, n);
            return;
        }
        long step = (n / pieces + 63) & ~63L;
        pieces = (n + step - 1) / step;
        Parallel.For(0, pieces, p =>
        {
            long start = p * step;
            body(start, Math.Min(step, n - start));
        });
    }

    /// <summary>Runs body(plane) for every plane in [0, planes), one contiguous run of planes per core.</summary>
    public static void ForPlanes(int planes, Action<int> body)
    {
        int threads = Math.Min(Environment.ProcessorCount, planes);
        if (threads <= 1)
        {
            for (int p = 0; p < planes; p++)
            {
                body(p);
            }
            return;
        }
        Parallel.For(0, threads, t =>
        {
            int end = (int)((long)(t + 1) * planes / threads);
            for (int p = (int)((long)t * planes / threads); p < end; p++)
            {
                body(p);
            }
        });
    }

    /// <summary>Runs body(first, count) over [0, count) items, in about one batch per core when the total work is big.</summary>
    public static void ForItems(int count, long workPerItem, Action<int, int> body)
    {
        int pieces = (int)Math.Min(Math.Min(Environment.ProcessorCount, count), workPerItem * count / ParallelChunk);
        if (pieces < 2)
        {
            body(0, count);
            return;
        }
        // Four batches per core evens out uneven cores; each batch still amortizes its scheduling cost.
        pieces = Math.Min(count, pieces * 4);
        Parallel.For(0, pieces, p =>
        {
            int first = (int)((long)count * p / pieces);
            int last = (int)((long)count * (p + 1) / pieces);
            body(first, last - first);
        });
    }

    public static void Fill(float* y, long n, float value)
    {
        nint py = (nint)y;
        For(n, ParallelChunk, (start, length) => FillRange((float*)py + start, length, value));
    }

    public static void Map<TOp>(float* y, float* x, long n, TOp op)
        where TOp : struct, IUnaryOp
    {
        nint py = (nint)y;
        nint px = (nint)x;
        For(n, ParallelChunk, (start, length) => MapRange((float*)py + start, (float*)px + start, length, op));
    }

    public static void Map<TOp>(float* y, float* a, float* b, long n, TOp op)
        where TOp : struct, IBinaryOp
    {
        nint py = (nint)y;
        nint pa = (nint)a;
        nint pb = (nint)b;
        For(n, ParallelChunk, (start, length) => MapRange((float*)py + start, (float*)pa + start, (float*)pb + start, length, op));
    }

    public static void FillRange(float* y, long n, float value)
    {
        long i = 0;
        if (Use512)
        {
            var v = Vector512.Create(value);
            for (; i <= n - 16; i += 16)
            {
                v.Store(y + i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var v = Vector256.Create(value);
            for (; i <= n - 8; i += 8)
            {
                v.Store(y + i);
            }
            if (i < n && Avx.IsSupported)
            {
                Avx.MaskStore(y + i, TailMask(n - i), v);
                return;
            }
        }
        for (; i < n; i++)
        {
            y[i] = value;
        }
    }

    public static void MapRange<TOp>(float* y, float* x, long n, TOp op)
        where TOp : struct, IUnaryOp
    {
        long i = 0;
        if (Use512)
        {
            for (; i <= n - 64; i += 64)
            {
                var x0 = Vector512.Load(x + i);
                var x1 = Vector512.Load(x + i + 16);
                var x2 = Vector512.Load(x + i + 32);
                var x3 = Vector512.Load(x + i + 48);
                op.Invoke(x0).Store(y + i);
                op.Invoke(x1).Store(y + i + 16);
                op.Invoke(x2).Store(y + i + 32);
                op.Invoke(x3).Store(y + i + 48);
            }
            for (; i <= n - 16; i += 16)
            {
                op.Invoke(Vector512.Load(x + i)).Store(y + i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 32; i += 32)
            {
                var x0 = Vector256.Load(x + i);
                var x1 = Vector256.Load(x + i + 8);
                var x2 = Vector256.Load(x + i + 16);
                var x3 = Vector256.Load(x + i + 24);
                op.Invoke(x0).Store(y + i);
                op.Invoke(x1).Store(y + i + 8);
                op.Invoke(x2).Store(y + i + 16);
                op.Invoke(x3).Store(y + i + 24);
            }
            for (; i <= n - 8; i += 8)
            {
                op.Invoke(Vector256.Load(x + i)).Store(y + i);
            }
            if (i < n && Avx.IsSupported)
            {
                var mask = TailMask(n - i);
                Avx.MaskStore(y + i, mask, op.Invoke(Avx.MaskLoad(x + i, mask)));
                return;
            }
        }
        for (; i < n; i++)
        {
            y[i] = op.Invoke(x[i]);
        }
    }

    public static void MapRange<TOp>(float* y, float* a, float* b, long n, TOp op)
        where TOp : struct, IBinaryOp
    {
        long i = 0;
        if (Use512)
        {
            for (; i <= n - 64; i += 64)
            {
                var r0 = op.Invoke(Vector512.Load(a + i), Vector512.Load(b + i));
                var r1 = op.Invoke(Vector512.Load(a + i + 16), Vector512.Load(b + i + 16));
                var r2 = op.Invoke(Vector512.Load(a + i + 32), Vector512.Load(b + i + 32));
                var r3 = op.Invoke(Vector512.Load(a + i + 48), Vector512.Load(b + i + 48));
                r0.Store(y + i);
                r1.Store(y + i + 16);
                r2.Store(y + i + 32);
                r3.Store(y + i + 48);
            }
            for (; i <= n - 16; i += 16)
            {
                op.Invoke(Vector512.Load(a + i), Vector512.Load(b + i)).Store(y + i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 32; i += 32)
            {
                var r0 = op.Invoke(Vector256.Load(a + i), Vector256.Load(b + i));
                var r1 = op.Invoke(Vector256.Load(a + i + 8), Vector256.Load(b + i + 8));
                var r2 = op.Invoke(Vector256.Load(a + i + 16), Vector256.Load(b + i + 16));
                var r3 = op.Invoke(Vector256.Load(a + i + 24), Vector256.Load(b + i + 24));
                r0.Store(y + i);
                r1.Store(y + i + 8);
                r2.Store(y + i + 16);
                r3.Store(y + i + 24);
            }
            for (; i <= n - 8; i += 8)
            {
                op.Invoke(Vector256.Load(a + i), Vector256.Load(b + i)).Store(y + i);
            }
            if (i < n && Avx.IsSupported)
            {
                var mask = TailMask(n - i);
                Avx.MaskStore(y + i, mask, op.Invoke(Avx.MaskLoad(a + i, mask), Avx.MaskLoad(b + i, mask)));
                return;
            }
        }
        for (; i < n; i++)
        {
            y[i] = op.Invoke(a[i], b[i]);
        }
    }
}

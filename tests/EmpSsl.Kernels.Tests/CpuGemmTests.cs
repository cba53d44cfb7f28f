using EmpSsl.Kernels.Reference;
using EmpSsl.Kernels.Cpu;

namespace EmpSsl.Kernels.Tests;

/// <summary>
/// The fast CPU Gemm (packed panels, register tiles, threads) against its plain float64 loop
/// the float64 spec <see cref="Ref.Gemm"/>, on sizes around the tile and vector widths, all four transpose
/// combinations, beta 0 on a NaN-poisoned C and beta 1 / 0.5 on a live one. Both register tiles run:
/// the native one through the public Gemm, and the other through the driver (emulated if need be).
/// </summary>
public sealed class CpuGemmTests
{
    private static readonly int[] Sizes = [1, 5, 6, 7, 8, 15, 16, 17, 31, 32, 33, 63, 65, 129];

    public static TheoryData<int, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int>();
        foreach (int v in Sizes)
        {
            data.Add(v, 33, 17);
            data.Add(17, v, 33);
            data.Add(33, 17, v);
        }
        // Past the cache blocks: N over NC (2048), M over MC (144) with K over KC (256), and the threaded path.
        data.Add(9, 2100, 20);
        data.Add(150, 40, 257);
        data.Add(100, 90, 240);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GemmMatchesPlainLoop(int m, int n, int k)
    {
        foreach (bool transA in new[] { false, true })
        {
            foreach (bool transB in new[] { false, true })
            {
                foreach (var (alpha, beta) in new[] { (1f, 0f), (1f, 1f), (-1.5f, 0.5f) })
                {
                    Check(new GemmShape(m, n, k, transA, transB, alpha, beta), wide: null);
                }
            }
        }
    }

    [Theory]
    [InlineData(33, 65, 17)]
    [InlineData(17, 31, 129)]
    [InlineData(100, 90, 240)]
    public void BothRegisterTilesMatchPlainLoop(int m, int n, int k)
    {
        foreach (bool wide in new[] { false, true })
        {
            foreach (bool transA in new[] { false, true })
            {
                foreach (bool transB in new[] { false, true })
                {
                    Check(new GemmShape(m, n, k, transA, transB, 1f, 0f), wide);
                    Check(new GemmShape(m, n, k, transA, transB, 0.5f, 1f), wide);
                }
            }
        }
    }

    [Fact]
    public void AlphaZeroScalesCAndReadsNeitherOperand()
    {
        using var kernels = new CpuKernels();
        var s = new GemmShape(5, 7, 3, Alpha: 0f, Beta: 2f);
        var a = Upload(kernels, Filled(s.M * s.K, float.NaN));
        var b = Upload(kernels, Filled(s.K * s.N, float.NaN));
        var c = Upload(kernels, Filled(s.M * s.N, 3f));
        kernels.Gemm(c.Span, a.Span, b.Span, s);
        Assert.All(Download(kernels, c.Span), v => Assert.Equal(6f, v));
    }

    [Fact]
    public void WrongLengthThrowsNamingGemm()
    {
        using var kernels = new CpuKernels();
        var a = kernels.Allocate(6);
        var b = kernels.Allocate(6);
        var c = kernels.Allocate(5);
        var e = Assert.Throws<ShapeMismatchException>(() => kernels.Gemm(c.Span, a.Span, b.Span, new GemmShape(2, 2, 3)));
        Assert.Contains("Gemm", e.Message);
    }

    /// <summary>Runs one shape through the fast path and the plain loop; C sits between guard bands.</summary>
    private static unsafe void Check(GemmShape s, bool? wide)
    {
        var rng = new Random(HashCode.Combine(s.M, s.N, s.K, s.TransA, s.TransB, s.Beta));
        float[] a = CpuCompare.Random(rng, s.M * s.K);
        float[] b = CpuCompare.Random(rng, s.K * s.N);
        float[] c0 = s.Beta == 0f ? Filled(s.M * s.N, float.NaN) : CpuCompare.Random(rng, s.M * s.N);
        float[] want = CpuCompare.Spec(c0, c => Ref.Gemm(c, CpuCompare.Wide(a), CpuCompare.Wide(b), s));

        using var kernels = new CpuKernels();
        var da = Upload(kernels, a);
        var db = Upload(kernels, b);
        var dc = kernels.Allocate(s.M * s.N + 2 * CpuCompare.Guard);
        var cSpan = dc.Slice(CpuCompare.Guard, s.M * s.N);
        kernels.Upload(dc.Span, CpuCompare.WithGuards(c0));
        if (wide is bool w)
        {
            fixed (float* pa = a, pb = b, pc = ((CpuBuffer)dc).Data)
            {
                GemmDriver.Run(
                    s.M, s.N, s.K,
                    new GemmMatrix(pa, s.TransA ? s.M : s.K), s.TransA,
                    new GemmMatrix(pb, s.TransB ? s.K : s.N), s.TransB,
                    new GemmMatrix(pc + CpuCompare.Guard, s.N), s.Alpha, s.Beta, new GemmTiling(w));
            }
        }
        else
        {
            kernels.Gemm(cSpan, da.Span, db.Span, s);
        }
        float[] got = Download(kernels, dc.Span);
        CpuCompare.AssertGuards(got, $"Gemm {s} wide={wide}");
        CpuCompare.AssertClose(want, got.AsSpan(CpuCompare.Guard, s.M * s.N), CpuCompare.Tolerance(s.K), $"Gemm {s} alpha={s.Alpha} beta={s.Beta} wide={wide}");
    }

    private static float[] Filled(int n, float v)
    {
        var x = new float[n];
        Array.Fill(x, v);
        return x;
    }

    private static DeviceBuffer Upload(CpuKernels kernels, float[] x)
    {
        var buffer = kernels.Allocate(x.Length);
        kernels.Upload(buffer.Span, x);
        return buffer;
    }

    private static float[] Download(CpuKernels kernels, DeviceSpan span)
    {
        var x = new float[span.Length];
        kernels.Download(span, x);
        return x;
    }
}

/// <summary>Random operands, guard bands and the one closeness check the CPU GEMM and Conv2d tests share.</summary>
internal static class CpuCompare
{
    /// <summary>x in a new buffer of the backend.</summary>
    public static DeviceSpan Upload(CpuKernels kernels, float[] x)
    {
        var buffer = kernels.Allocate(x.Length);
        kernels.Upload(buffer.Span, x);
        return buffer.Span;
    }

    /// <summary>Floats of sentinel before and after an output, to catch stray writes.</summary>
    public const int Guard = 37;

    private const float Sentinel = 12345.5f;

    /// <summary>
    /// The float64 spec's answer for an output that starts as <paramref name="start"/> (it may be read: beta, +=),
    /// rounded to float32 as the kernel's result is.
    /// </summary>
    public static float[] Spec(float[] start, Action<double[]> spec)
    {
        var wide = Array.ConvertAll(start, v => (double)v);
        spec(wide);
        return Array.ConvertAll(wide, v => (float)v);
    }

    public static double[] Wide(float[] x) => Array.ConvertAll(x, v => (double)v);

    public static float[] Random(Random rng, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = (float)(rng.NextDouble() * 2 - 1);
        }
        return x;
    }

    /// <summary>
    /// fp32 sums of `terms` products of values in [-1, 1] against float64 sums: the rounding error grows
    /// at worst linearly in the number of terms; a wrong index errs by O(1).
    /// </summary>
    public static (double Atol, double Rtol) Tolerance(int terms) => (1e-6 * terms + 1e-6, 1e-5);

    public static float[] WithGuards(float[] x)
    {
        var g = new float[x.Length + 2 * Guard];
        Array.Fill(g, Sentinel);
        x.CopyTo(g, Guard);
        return g;
    }

    public static void AssertGuards(float[] guarded, string what)
    {
        for (int i = 0; i < Guard; i++)
        {
            Assert.True(guarded[i] == Sentinel, $"{what}: wrote before the output at {i - Guard}");
            Assert.True(guarded[^(i + 1)] == Sentinel, $"{what}: wrote past the output at +{i}");
        }
    }

    public static void AssertClose(ReadOnlySpan<float> want, ReadOnlySpan<float> got, (double Atol, double Rtol) tol, string what)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
        {
            double err = Math.Abs((double)got[i] - want[i]);
            if (!(err <= tol.Atol + tol.Rtol * Math.Abs(want[i])))
            {
                Assert.Fail($"{what}: element {i} is {got[i]}, want {want[i]} (error {err:G3})");
            }
        }
    }
}

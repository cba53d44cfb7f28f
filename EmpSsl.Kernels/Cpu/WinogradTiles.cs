using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// One Winograd minimal filtering F(4x4, R x R): its 1D transforms, applied to rows and then columns of a tile. The
/// transforms take six vectors and R = 3 kernel taps, the most any tile here has; a tile with fewer ignores the
/// rest. Winograd's methods are generic over the tile, so the JIT compiles each with its sizes as constants.
/// </summary>
internal unsafe interface IWinogradTile
{
    /// <summary>Kernel taps per side.</summary>
    static abstract int R { get; }

    /// <summary>Input tile side, 4 + R - 1, and the transformed tile's side.</summary>
    static abstract int Alpha { get; }

    /// <summary>G (Alpha x R) times (g0 .. g[R-1]), into o[i * step]; o may alias the inputs' source.</summary>
    static abstract void Kernel1D(Vector256<float> g0, Vector256<float> g1, Vector256<float> g2, Vector256<float>* o, int step);

    /// <summary>B^T (Alpha x Alpha) times (d0 .. d[Alpha-1]), into o[i * step]; o may alias the inputs' source.</summary>
    static abstract void Input1D(
        Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3, Vector256<float> d4,
        Vector256<float> d5, Vector256<float>* o, int step);

    /// <summary>A^T (4 x Alpha) times (m0 .. m[Alpha-1]), into o[i * step]; o may alias the inputs' source.</summary>
    static abstract void Output1D(
        Vector256<float> m0, Vector256<float> m1, Vector256<float> m2, Vector256<float> m3, Vector256<float> m4,
        Vector256<float> m5, Vector256<float>* o, int step);

    /// <summary>A (Alpha x 4) times (y0 .. y3), into o[i * step]; o may alias the inputs' source.</summary>
    static abstract void Gradient1D(Vector256<float> y0, Vector256<float> y1, Vector256<float> y2, Vector256<float> y3, Vector256<float>* o, int step);

    /// <summary>G^T (R x Alpha) times (u0 .. u[Alpha-1]), into o[i * step]; o may alias the inputs' source.</summary>
    static abstract void Filter1D(
        Vector256<float> u0, Vector256<float> u1, Vector256<float> u2, Vector256<float> u3, Vector256<float> u4,
        Vector256<float> u5, Vector256<float>* o, int step);
}

/// <summary>F(4x4, 3x3) with the points 0, 1, -1, 2, -2 and infinity (Lavin and Gray's): 36 products per tile.</summary>
internal readonly unsafe struct Tile4x4K3 : IWinogradTile
{
    public static int R => 3;

    public static int Alpha => 6;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Kernel1D(Vector256<float> g0, Vector256<float> g1, Vector256<float> g2, Vector256<float>* o, int step)
    {
        var p = g0 + g2;
        var q = Fma.MultiplyAdd(g0, Vector256.Create(1f / 24), g2 * (1f / 6));
        var r = g1 * (1f / 12);
        o[0] = g0 * 0.25f;
        o[step] = (p + g1) * (-1f / 6);
        o[2 * step] = (p - g1) * (-1f / 6);
        o[3 * step] = q + r;
        o[4 * step] = q - r;
        o[5 * step] = g2;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Input1D(
        Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3, Vector256<float> d4,
        Vector256<float> d5, Vector256<float>* o, int step)
    {
        var four = Vector256.Create(4f);
        var five = Vector256.Create(5f);
        var t1 = Fma.MultiplyAddNegated(four, d2, d4);
        var t2 = Fma.MultiplyAddNegated(four, d1, d3);
        var t3 = d4 - d2;
        var t4 = (d3 - d1) * 2f;
        o[0] = Fma.MultiplyAdd(four, d0, Fma.MultiplyAddNegated(five, d2, d4));
        o[step] = t1 + t2;
        o[2 * step] = t1 - t2;
        o[3 * step] = t3 + t4;
        o[4 * step] = t3 - t4;
        o[5 * step] = Fma.MultiplyAdd(four, d1, Fma.MultiplyAddNegated(five, d3, d5));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Output1D(
        Vector256<float> m0, Vector256<float> m1, Vector256<float> m2, Vector256<float> m3, Vector256<float> m4,
        Vector256<float> m5, Vector256<float>* o, int step)
    {
        var a = m1 + m2;
        var b = m1 - m2;
        var c = m3 + m4;
        var d = m3 - m4;
        o[0] = m0 + a + c;
        o[step] = Fma.MultiplyAdd(Vector256.Create(2f), d, b);
        o[2 * step] = Fma.MultiplyAdd(Vector256.Create(4f), c, a);
        o[3 * step] = Fma.MultiplyAdd(Vector256.Create(8f), d, b) + m5;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Gradient1D(Vector256<float> y0, Vector256<float> y1, Vector256<float> y2, Vector256<float> y3, Vector256<float>* o, int step)
    {
        var p = y0 + y2;
        var q = y1 + y3;
        var r = Fma.MultiplyAdd(Vector256.Create(4f), y2, y0);
        var s = Fma.MultiplyAdd(Vector256.Create(8f), y3, y1 * 2f);
        o[0] = y0;
        o[step] = p + q;
        o[2 * step] = p - q;
        o[3 * step] = r + s;
        o[4 * step] = r - s;
        o[5 * step] = y3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Filter1D(
        Vector256<float> u0, Vector256<float> u1, Vector256<float> u2, Vector256<float> u3, Vector256<float> u4,
        Vector256<float> u5, Vector256<float>* o, int step)
    {
        var p = u1 + u2;
        var q = u3 + u4;
        var sixth = Vector256.Create(1f / 6);
        o[0] = Fma.MultiplyAdd(Vector256.Create(0.25f), u0, Fma.MultiplyAdd(Vector256.Create(1f / 24), q, -(p * sixth)));
        o[step] = Fma.MultiplyAdd(Vector256.Create(1f / 12), u3 - u4, (u2 - u1) * sixth);
        o[2 * step] = Fma.MultiplyAdd(sixth, q - p, u5);
    }
}

/// <summary>
/// F(4x4, 2x2) with the points 0, 1, -1, 2 and infinity: 25 products per tile instead of 64. Its G has a zero in
/// each column, tap 0 at infinity (cell 4) and tap 1 at 0 (cell 0), so a kernel with only one tap per side gives
/// zero products in one row or column of cells; WinogradStride2 skips those.
/// </summary>
internal readonly unsafe struct Tile4x4K2 : IWinogradTile
{
    public static int R => 2;

    public static int Alpha => 5;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Kernel1D(Vector256<float> g0, Vector256<float> g1, Vector256<float> g2, Vector256<float>* o, int step)
    {
        o[0] = g0 * 0.5f;
        o[step] = (g0 + g1) * 0.5f;
        o[2 * step] = (g0 - g1) * (1f / 6);
        o[3 * step] = Fma.MultiplyAdd(g1, Vector256.Create(1f / 3), g0 * (1f / 6));
        o[4 * step] = g1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Input1D(
        Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3, Vector256<float> d4,
        Vector256<float> d5, Vector256<float>* o, int step)
    {
        var two = Vector256.Create(2f);
        var e = d3 - d1;
        o[0] = Fma.MultiplyAdd(two, d0 - d2, e);
        o[step] = Fma.MultiplyAdd(two, d1, d2 - d3);
        o[2 * step] = Fma.MultiplyAdd(Vector256.Create(3f), d2, Fma.MultiplyAddNegated(two, d1, -d3));
        o[3 * step] = e;
        o[4 * step] = Fma.MultiplyAdd(two, d1 - d3, d4 - d2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Output1D(
        Vector256<float> m0, Vector256<float> m1, Vector256<float> m2, Vector256<float> m3, Vector256<float> m4,
        Vector256<float> m5, Vector256<float>* o, int step)
    {
        var a = m1 + m2;
        var b = m1 - m2;
        o[0] = m0 + a + m3;
        o[step] = Fma.MultiplyAdd(Vector256.Create(2f), m3, b);
        o[2 * step] = Fma.MultiplyAdd(Vector256.Create(4f), m3, a);
        o[3 * step] = Fma.MultiplyAdd(Vector256.Create(8f), m3, b) + m4;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Gradient1D(Vector256<float> y0, Vector256<float> y1, Vector256<float> y2, Vector256<float> y3, Vector256<float>* o, int step)
    {
        var p = y0 + y2;
        var q = y1 + y3;
        o[0] = y0;
        o[step] = p + q;
        o[2 * step] = p - q;
        o[3 * step] = Fma.MultiplyAdd(Vector256.Create(8f), y3, Fma.MultiplyAdd(Vector256.Create(4f), y2, Fma.MultiplyAdd(Vector256.Create(2f), y1, y0)));
        o[4 * step] = y3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Filter1D(
        Vector256<float> u0, Vector256<float> u1, Vector256<float> u2, Vector256<float> u3, Vector256<float> u4,
        Vector256<float> u5, Vector256<float>* o, int step)
    {
        var sixth = Vector256.Create(1f / 6);
        o[0] = Fma.MultiplyAdd(u2 + u3, sixth, (u0 + u1) * 0.5f);
        o[step] = Fma.MultiplyAdd(u3, Vector256.Create(1f / 3), Fma.MultiplyAddNegated(u2, sixth, Fma.MultiplyAdd(u1, Vector256.Create(0.5f), u4)));
    }
}

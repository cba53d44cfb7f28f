using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// The column matrix col (C*R*R, N*OH*OW) of a batch x (N, C, H, W), never stored: row (c*R + r)*R + s,
/// column n*OH*OW + oh*OW + ow holds x[n, c, oh*stride - pad + r, ow*stride - pad + s], zero in the padding.
/// As a GEMM's B operand, packing builds each block straight from x into the panel (implicit im2col),
/// so the 9x larger column matrix never goes through memory.
/// </summary>
internal readonly unsafe struct Im2ColMatrix : IGemmOperandB
{
    [ThreadStatic]
    private static float[]? s_scratch;

    private readonly float* _x;
    private readonly Conv2dShape _s;

    public Im2ColMatrix(float* x, Conv2dShape s)
    {
        _x = x;
        _s = s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void PackB(float* dst, bool trans, int k0, int kc, int j0, int nc, int nr)
    {
        if (!trans)
        {
            // op(B) = col: each k is a row of col, built once and dealt out to the slivers.
            float* row = Scratch.Floats(ref s_scratch, nc);
            for (int k = 0; k < kc; k++)
            {
                Row(row, k0 + k, j0, nc);
                for (int s = 0; s * nr < nc; s++)
                {
                    int cols = Math.Min(nr, nc - s * nr);
                    float* d = dst + (long)s * nr * kc + (long)k * nr;
                    float* from = row + s * nr;
                    if (cols == nr)
                    {
                        for (int t = 0; t < nr; t += 8)
                        {
                            Vector256.Store(Vector256.Load(from + t), d + t);
                        }
                    }
                    else
                    {
                        ShortRows.Copy(d, from, cols);
                        SimdDriver.FillRange(d + cols, nr - cols, 0f);
                    }
                }
            }
            return;
        }
        // op(B) = col^T: the sliver's columns are rows of col; build them, then transpose them in.
        float* rows = Scratch.Floats(ref s_scratch, nr * kc);
        for (int s = 0; s * nr < nc; s++)
        {
            int cols = Math.Min(nr, nc - s * nr);
            for (int c = 0; c < cols; c++)
            {
                Row(rows + (long)c * kc, j0 + s * nr + c, k0, kc);
            }
            GemmPacking.PackBT(dst + (long)s * nr * kc, new GemmMatrix(rows, kc), 0, kc, 0, cols, nr);
        }
    }

    /// <summary>dst[t] = col(q, p0 + t) for t &lt; len.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Row(float* dst, int q, int p0, int len)
    {
        var s = _s;
        int oh = s.OutH;
        int ow = s.OutW;
        int c = q / (s.R * s.R);
        int r = q / s.R % s.R;
        int kw = q % s.R;
        int n = p0 / (oh * ow);
        int i = p0 % (oh * ow) / ow;
        int j = p0 % ow;
        var (lo, hi) = Im2Col.ValidColumns(s, kw);
        while (len > 0)
        {
            int seg = Math.Min(ow - j, len);
            int ih = i * s.Stride - s.Pad + r;
            if (ih < 0 || ih >= s.H)
            {
                Zero(dst, seg);
            }
            else
            {
                float* src = _x + ((long)(n * s.C + c) * s.H + ih) * s.W - s.Pad + kw;
                int a = Math.Clamp(lo, j, j + seg);
                int b = Math.Clamp(hi, a, j + seg);
                Zero(dst, a - j);
                if (s.Stride == 1)
                {
                    ShortRows.Copy(dst + a - j, src + a, b - a);
                }
                else
                {
                    for (int o = a; o < b; o++)
                    {
                        dst[o - j] = src[(long)o * s.Stride];
                    }
                }
                Zero(dst + b - j, j + seg - b);
            }
            dst += seg;
            len -= seg;
            j = 0;
            if (++i == oh)
            {
                i = 0;
                n++;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Zero(float* dst, int n)
    {
        for (int t = 0; t < n; t++)
        {
            dst[t] = 0f;
        }
    }
}

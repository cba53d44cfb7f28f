using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EmpSsl.Kernels.Cpu;

/// <summary>
/// Stride-2 convolutions by polyphase decomposition. Tap (r, s) of output pixel (oh, ow) reads the zero-padded
/// input at (2 oh + r, 2 ow + s), which is pixel (oh + r / 2, ow + s / 2) of phase (r % 2, s % 2), the padded
/// input's rows and columns of that parity. With the four phases stored apart (xq), the strided window becomes a
/// stride-1 window over xq, and the implicit GEMM packs its panels with vector copies (Im2ColPaddedMatrix)
/// instead of gathering every other float.
///   forward          y (K, N*P)    = w (K, C*R*R) . col(xq)
///   backward weight  dw (K, C*R*R) += dy (K, N*P) . col(xq)^T
///   backward data    each phase of dx (rows and columns of x of one parity) is a stride-1 convolution of dy with
///                    the taps of that parity, a 2x2, 2x1, 1x2 or 1x1 sub-kernel for 3x3: four GEMMs
///                    dxq_ab (C, N*P_ab) = w_ab (C, K*T_ab) . col_ab(dy), interleaved into dx. Every dx element
///                    gets its whole sum from one GEMM, so there is no column matrix and no col2im scatter.
/// </summary>
internal static unsafe class Conv2dPolyphase
{
    // The calling thread's work arrays (Scratch): the phases of x or the padded dy, the phases of dx, the sub-kernels.
    [ThreadStatic]
    private static float[]? s_phases;

    [ThreadStatic]
    private static float[]? s_dxPhases;

    [ThreadStatic]
    private static float[]? s_subKernels;

    public static bool Supports(in Conv2dShape s) => s.Stride == 2 && s.R * s.R <= Im2ColPaddedMatrix.MaxTaps && s.OutH > 0 && s.OutW > 0;

    /// <summary>y (N, K, OH, OW) = conv(x, w), written.</summary>
    public static void Forward(float* y, float* x, float* w, in Conv2dShape s, GemmTiling tiling)
    {
        float* xq = SplitInput(x, s, out var q);
        int p = s.OutH * s.OutW;
        int crr = s.C * s.R * s.R;
        GemmDriver.Run(
            s.K, s.N * p, crr,
            new GemmMatrix(w, crr), false,
            q.Columns(xq, s), false,
            GemmMatrix.Images(y, s.K, p), 1f, 0f, tiling);
    }

    /// <summary>dw (K, C, R, R) += the weight gradient.</summary>
    public static void BackwardWeight(float* dw, float* dy, float* x, in Conv2dShape s, GemmTiling tiling)
    {
        float* xq = SplitInput(x, s, out var q);
        int p = s.OutH * s.OutW;
        int crr = s.C * s.R * s.R;
        GemmDriver.Run(
            s.K, crr, s.N * p,
            GemmMatrix.Images(dy, s.K, p), false,
            q.Columns(xq, s), true,
            new GemmMatrix(dw, crr), 1f, 1f, tiling);
    }

    /// <summary>dx (N, C, H, W) = the gradient through x: written, or added to with <paramref name="accumulate"/>.</summary>
    public static void BackwardData(float* dx, float* dy, float* w, in Conv2dShape s, GemmTiling tiling, bool accumulate = false)
    {
        var d = new DataPhases(s);
        float* dyp = Scratch.Floats(ref s_phases, (long)s.N * s.K * d.Plane);
        float* dxq = Scratch.Floats(ref s_dxPhases, (long)s.N * s.C * s.H * s.W);
        float* wq = Scratch.Floats(ref s_subKernels, s.WeightLength);
        PadDy(dyp, dy, s, d);
        SubKernels(wq, w, s, d);
        Span<long> offsets = stackalloc long[s.R * s.R];
        float* to = dxq;
        float* from = wq;
        for (int a = 0; a < 2; a++)
        {
            for (int b = 0; b < 2; b++)
            {
                int pixels = d.Rows(a) * d.Cols(b);
                int taps = d.Taps(a, b);
                if (pixels == 0)
                {
                    continue;
                }
                if (taps == 0)
                {
                    // No tap of the kernel lands on this phase (a 1x1 kernel's odd rows): its gradient is zero.
                    new Span<float>(to, checked(s.N * s.C * pixels)).Clear();
                }
                else
                {
                    int t = 0;
                    foreach (int ri in d.RowTaps(a))
                    {
                        foreach (int ci in d.ColTaps(b))
                        {
                            offsets[t++] = (long)(d.RowShift(a, ri) + d.Top) * d.Width + d.ColShift(b, ci) + d.Left;
                        }
                    }
                    var col = new Im2ColPaddedMatrix(dyp, (long)s.K * d.Plane, d.Plane, d.Width, d.Rows(a), d.Cols(b), offsets[..taps]);
                    GemmDriver.Run(
                        s.C, s.N * pixels, s.K * taps,
                        new GemmMatrix(from, s.C), true,
                        col, false,
                        GemmMatrix.Images(to, s.C, pixels), 1f, 0f, tiling);
                }
                to += (long)s.N * s.C * pixels;
                from += (long)s.C * s.K * taps;
            }
        }
        Merge(dx, dxq, s, d, accumulate);
    }

    /// <summary>The phases of x in this thread's work array (Split), and their layout.</summary>
    private static float* SplitInput(float* x, in Conv2dShape s, out Phases q)
    {
        q = new Phases(s);
        float* xq = Scratch.Floats(ref s_phases, q.Length);
        Split(xq, x, s, q);
        return xq;
    }

    /// <summary>
    /// xq (N, C, 4, Hq, Wq): phase (a, b) of channel c holds the zero-padded x's (2 i + a, 2 j + b); split over
    /// the cores by plane.
    /// </summary>
    private static void Split(float* xq, float* x, Conv2dShape s, Phases q)
    {
        nint xqP = (nint)xq;
        nint xP = (nint)x;
        SimdDriver.ForPlanes(s.N * s.C, plane => SplitPlane((float*)xqP + plane * 4 * q.Plane, (float*)xP + (long)plane * s.H * s.W, s, q));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SplitPlane(float* dst, float* src, in Conv2dShape s, in Phases q)
    {
        // One padded row at a time, laid out in full (its border zero) so that the split is a plain deinterleave.
        int width = 2 * q.Width;
        float* row = stackalloc float[width + 16];
        SimdDriver.FillRange(row, width + 16, 0f);
        for (int u = 0; u < 2 * q.Height; u++)
        {
            int ih = u - s.Pad;
            float* even = dst + ((long)(u & 1) * 2 * q.Plane) + (long)(u >> 1) * q.Width;
            float* odd = even + q.Plane;
            if (ih < 0 || ih >= s.H)
            {
                SimdDriver.FillRange(even, q.Width, 0f);
                SimdDriver.FillRange(odd, q.Width, 0f);
                continue;
            }
            ShortRows.Copy(row + s.Pad, src + (long)ih * s.W, s.W);
            Deinterleave(row, even, odd, q.Width);
        }
    }

    /// <summary>even[j] = src[2 j], odd[j] = src[2 j + 1] for j &lt; n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Deinterleave(float* src, float* even, float* odd, int n)
    {
        int j = 0;
        if (Avx2.IsSupported)
        {
            for (; j + 8 <= n; j += 8)
            {
                var lo = Avx.LoadVector256(src + 2 * j);
                var hi = Avx.LoadVector256(src + 2 * j + 8);
                // Shuffle picks lanes within each 128-bit half; the 64-bit permute then puts the halves in order.
                var e = Avx.Shuffle(lo, hi, 0b10_00_10_00).AsDouble();
                var o = Avx.Shuffle(lo, hi, 0b11_01_11_01).AsDouble();
                Avx.Store(even + j, Avx2.Permute4x64(e, 0b11_01_10_00).AsSingle());
                Avx.Store(odd + j, Avx2.Permute4x64(o, 0b11_01_10_00).AsSingle());
            }
            if (j + 4 <= n)
            {
                var lo = Sse.LoadVector128(src + 2 * j);
                var hi = Sse.LoadVector128(src + 2 * j + 4);
                Sse.Store(even + j, Sse.Shuffle(lo, hi, 0b10_00_10_00));
                Sse.Store(odd + j, Sse.Shuffle(lo, hi, 0b11_01_11_01));
                j += 4;
            }
        }
        for (; j < n; j++)
        {
            even[j] = src[2 * j];
            odd[j] = src[2 * j + 1];
        }
    }

    /// <summary>dyp (N, K, Height, Width) = dy with Top rows and Left columns of zeros before, and zeros after.</summary>
    private static void PadDy(float* dyp, float* dy, Conv2dShape s, DataPhases d)
    {
        nint dypP = (nint)dyp;
        nint dyP = (nint)dy;
        SimdDriver.ForPlanes(s.N * s.K, plane =>
        {
            float* dst = (float*)dypP + plane * d.Plane;
            float* src = (float*)dyP + (long)plane * s.OutH * s.OutW;
            SimdDriver.FillRange(dst, d.Plane, 0f);
            for (int i = 0; i < s.OutH; i++)
            {
                ShortRows.Copy(dst + (long)(i + d.Top) * d.Width + d.Left, src + (long)i * s.OutW, s.OutW);
            }
        });
    }

    /// <summary>
    /// wq: for each phase (a, b) in turn, its sub-kernel stored transposed, w_ab^T (K * T_ab, C):
    /// w_ab^T[k T_ab + t, c] = w[k, c, r_t, s_t], the taps in the order <see cref="BackwardData"/> gives their offsets.
    /// Each k reads its C x R x R weights in order and writes T_ab rows of C in order; split over the cores by k.
    /// </summary>
    private static void SubKernels(float* wq, float* w, Conv2dShape s, DataPhases d)
    {
        int rr = s.R * s.R;
        // For each phase: where its sub-kernel starts in wq, how many taps it has, and which kernel taps they are.
        long* starts = stackalloc long[4];
        int* counts = stackalloc int[4];
        int* taps = stackalloc int[4 * rr];
        long at = 0;
        for (int a = 0; a < 2; a++)
        {
            for (int b = 0; b < 2; b++)
            {
                int ph = 2 * a + b;
                int t = 0;
                foreach (int ri in d.RowTaps(a))
                {
                    foreach (int ci in d.ColTaps(b))
                    {
                        taps[ph * rr + t++] = ri * s.R + ci;
                    }
                }
                starts[ph] = at;
                counts[ph] = d.Rows(a) * d.Cols(b) == 0 ? 0 : t;
                at += (long)s.K * counts[ph] * s.C;
            }
        }
        nint wqP = (nint)wq;
        nint wP = (nint)w;
        nint startsP = (nint)starts;
        nint countsP = (nint)counts;
        nint tapsP = (nint)taps;
        SimdDriver.ForPlanes(s.K, k =>
        {
            long* starts = (long*)startsP;
            int* counts = (int*)countsP;
            int* taps = (int*)tapsP;
            float* kernel = (float*)wP + k * s.C * rr;
            for (int ph = 0; ph < 4; ph++)
            {
                int count = counts[ph];
                for (int t = 0; t < count; t++)
                {
                    int tap = taps[ph * rr + t];
                    float* row = (float*)wqP + starts[ph] + (k * count + t) * s.C;
                    for (int c = 0; c < s.C; c++)
                    {
                        row[c] = kernel[c * rr + tap];
                    }
                }
            }
        });
    }

    /// <summary>
    /// dx[n, c, 2 m + a, 2 l + b] = dxq_ab[n, c, m, l] (or +=, accumulating): the four phases interleaved back; split
    /// over the cores by plane.
    /// </summary>
    private static void Merge(float* dx, float* dxq, Conv2dShape s, DataPhases d, bool accumulate)
    {
        nint dxP = (nint)dx;
        nint dxqP = (nint)dxq;
        SimdDriver.ForPlanes(s.N * s.C, plane => MergePlane((float*)dxP + (long)plane * s.H * s.W, (float*)dxqP, plane, s, d, accumulate));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MergePlane(float* dst, float* dxq, long plane, in Conv2dShape s, in DataPhases d, bool accumulate)
    {
        // Phase (a, b) starts after the phases before it, each (N, C, Rows(a), Cols(b)).
        long planes = (long)s.N * s.C;
        int r0 = d.Rows(0);
        int r1 = d.Rows(1);
        int c0 = d.Cols(0);
        int c1 = d.Cols(1);
        float* p00 = dxq + plane * r0 * c0;
        float* p01 = dxq + planes * r0 * c0 + plane * r0 * c1;
        float* p10 = dxq + planes * r0 * (c0 + c1) + plane * r1 * c0;
        float* p11 = dxq + planes * (r0 * (c0 + c1) + (long)r1 * c0) + plane * r1 * c1;
        for (int ih = 0; ih < s.H; ih++)
        {
            int m = ih >> 1;
            float* even = (ih & 1) == 0 ? p00 + (long)m * c0 : p10 + (long)m * c0;
            float* odd = (ih & 1) == 0 ? p01 + (long)m * c1 : p11 + (long)m * c1;
            Im2Col.Interleave(dst + (long)ih * s.W, even, odd, s.W, accumulate);
        }
    }

    /// <summary>The four phases of the zero-padded x, each Height x Width, stored (N, C, 4, Height, Width).</summary>
    private readonly struct Phases
    {
        public Phases(in Conv2dShape s)
        {
            Height = (s.H + 2 * s.Pad + 1) / 2;
            Width = (s.W + 2 * s.Pad + 1) / 2;
            Plane = (long)Height * Width;
            Length = (long)s.N * s.C * 4 * Plane;
        }

        public int Height { get; }

        public int Width { get; }

        public long Plane { get; }

        public long Length { get; }

        /// <summary>The column matrix over xq: tap (r, s) is phase (r % 2, s % 2) at (r / 2, s / 2).</summary>
        public Im2ColPaddedMatrix Columns(float* xq, in Conv2dShape s)
        {
            Span<long> taps = stackalloc long[s.R * s.R];
            for (int r = 0; r < s.R; r++)
            {
                for (int c = 0; c < s.R; c++)
                {
                    taps[r * s.R + c] = ((r & 1) * 2 + (c & 1)) * Plane + (long)(r >> 1) * Width + (c >> 1);
                }
            }
            return new Im2ColPaddedMatrix(xq, s.C * 4 * Plane, 4 * Plane, Width, s.OutH, s.OutW, taps);
        }
    }

    /// <summary>
    /// The phases of dx for backward data. Row ih = 2 m + a of x gets kernel row r from dy row
    /// m + (a + pad - r) / 2 wherever a + pad - r is even (its row shift); dy is padded with Top rows before (for
    /// negative shifts) and enough after that every shifted read lands inside, so the reads need no tests.
    /// Columns likewise.
    /// </summary>
    private readonly struct DataPhases
    {
        private readonly int _r;
        private readonly int _pad;
        private readonly int _h;
        private readonly int _w;

        public DataPhases(in Conv2dShape s)
        {
            _r = s.R;
            _pad = s.Pad;
            _h = s.H;
            _w = s.W;
            // The shifts run from (pad - R + 1) / 2 (rounded down) to (1 + pad) / 2.
            int least = FloorHalf(s.Pad - s.R + 1);
            int most = (1 + s.Pad) / 2;
            Top = Math.Max(0, -least);
            Left = Top;
            Height = Math.Max(s.OutH, (s.H + 1) / 2 + most) + Top;
            Width = Math.Max(s.OutW, (s.W + 1) / 2 + most) + Left;
            Plane = (long)Height * Width;
        }

        public int Top { get; }

        public int Left { get; }

        public int Height { get; }

        public int Width { get; }

        public long Plane { get; }

        /// <summary>How many rows of x have parity a.</summary>
        public int Rows(int a) => (_h - a + 1) / 2;

        public int Cols(int b) => (_w - b + 1) / 2;

        public int Taps(int a, int b) => Count(a) * Count(b);

        public RowTapList RowTaps(int a) => new(_r, _pad, a);

        public RowTapList ColTaps(int b) => new(_r, _pad, b);

        public int RowShift(int a, int r) => FloorHalf(a + _pad - r);

        public int ColShift(int b, int c) => FloorHalf(b + _pad - c);

        private int Count(int a)
        {
            int n = 0;
            foreach (int _ in RowTaps(a))
            {
                n++;
            }
            return n;
        }

        private static int FloorHalf(int v) => v >> 1;
    }

    /// <summary>The kernel rows r &lt; R with a + pad - r even: those that land on rows of parity a.</summary>
    private readonly struct RowTapList(int r, int pad, int a)
    {
        public Enumerator GetEnumerator() => new(r, (a + pad) & 1);

        public struct Enumerator(int r, int first)
        {
            private int _current = first - 2;

            public readonly int Current => _current;

            public bool MoveNext()
            {
                _current += 2;
                return _current < r;
            }
        }
    }
}

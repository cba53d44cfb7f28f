using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Util;

namespace EmpSsl.Kernels.Ilgpu;

/// <summary>
/// Division by a divisor fixed at launch, as a multiply and a shift (Granlund and Montgomery): the gathers split
/// flat indices into (channel, tap, image, pixel) several times per loaded element, and a GPU has no integer divide
/// instruction (a 32-bit division is a ~20-instruction sequence). With l = ceil(log2 d), k = 31 + l and
/// m = ceil(2^k / d), (n m) >> k equals n / d for every 0 &lt;= n &lt; 2^31, because m d - 2^k &lt; d &lt;= 2^(k - 31).
/// m &lt; 2^32 (d &gt; 2^(l - 1)), so it is held as 32 bits: the product is then one 32 x 32 -> 64 multiply
/// (a 64-bit magic made ptxas emit a full 64 x 64 one), and the shift is a fixed 31 across the 64 bits, then l on 32.
/// </summary>
internal readonly struct ConvDivisor
{
    private readonly uint _magic;
    private readonly int _log;

    public ConvDivisor(int divisor)
    {
        if (divisor < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(divisor), divisor, "a divisor must be positive");
        }
        while ((1L << _log) < divisor)
        {
            _log++;
        }
        _magic = (uint)(((1UL << (31 + _log)) + (ulong)divisor - 1) / (ulong)divisor);
    }

    /// <summary>n / divisor for n &gt;= 0.</summary>
    public int Divide(int n) => (int)((uint)(((ulong)(uint)n * _magic) >> 31) >> _log);
}

/// <summary>
/// A staged slice's kernel tap, packed into the int that <see cref="IGemmOperand.Stage"/> hands to each load: its
/// index in the reduction order (bits 0-7) and two coordinates (bits 8-15 and 16-23), which say where the window
/// sits. Kernels up to 15 x 15 fit.
/// </summary>
internal static class ConvTap
{
    public const int MaxTaps = 255;

    public static int Pack(int index, int first, int second) => index | first << 8 | second << 16;

    public static int Index(int key) => key & 0xFF;

    public static int First(int key) => (key >> 8) & 0xFF;

    public static int Second(int key) => key >> 16;
}

/// <summary>
/// The sizes a convolution's gathers need, copied from <see cref="Conv2dShape"/> into a plain struct that kernels
/// can take. Flattened indices: crs = (c R + r) R + s over the weight's (C, R, R); npq = (n OH + oh) OW + ow over
/// the output's (N, OH, OW); nhw = (n H + h) W + w over the input's (N, H, W).
///
/// Forward and backward-data reduce tap-major: index t Cp + c for tap t = r R + s and channel c, with the channel
/// count padded to Cp, a multiple of GemmTileK (likewise Kp for backward-data's output channels). A staged slice of
/// GemmTileK indices then lies within one tap, so each thread works out the tap once per stage
/// (<see cref="IGemmOperand.Stage"/>), and a gathered element costs an index add and a bounds test instead of
/// splitting crs by R R and R (two 64-bit multiplies and shifts per element in the crs order). The padding channels
/// read as zeros; they cost work only where C is not a multiple of 16 (the 3-channel stem: 16 / 3 of its small
/// product).
/// </summary>
internal readonly struct ConvDims(in Conv2dShape s)
{
    public readonly int C = s.C;
    public readonly int H = s.H;
    public readonly int W = s.W;
    public readonly int K = s.K;
    public readonly int R = s.R * s.R <= ConvTap.MaxTaps
        ? s.R
        : throw new NotSupportedException($"the ILGPU convolutions take kernels up to 15 x 15, not {s.R} x {s.R}");
    public readonly int Stride = s.Stride;
    public readonly int Pad = s.Pad;
    public readonly int OH = s.OutH;
    public readonly int OW = s.OutW;
    public readonly ConvDivisor ByR = new(s.R);
    public readonly ConvDivisor ByRR = new(s.R * s.R);
    public readonly ConvDivisor ByOW = new(s.OutW);
    public readonly ConvDivisor ByOHW = new(s.OutH * s.OutW);
    public readonly int Cp = Padded(s.C);
    public readonly int Kp = Padded(s.K);
    public readonly ConvDivisor ByCp = new(Padded(s.C));
    public readonly ConvDivisor ByKp = new(Padded(s.K));

    /// <summary>A channel count rounded up to a whole number of stages.</summary>
    public static int Padded(int channels) => (channels + IlgpuKernels.GemmTileK - 1) / IlgpuKernels.GemmTileK * IlgpuKernels.GemmTileK;

    /// <summary>The forward's tap-major reduction depth, R R Cp.</summary>
    public int TapDepth => R * R * Cp;
}

/// <summary>Forward's left operand (K, R R Cp): w (K, C, R, R) read tap-major, (k, t Cp + c) at w[k, c, t].</summary>
internal readonly struct ConvWeightTaps(ArrayView<float> w, ConvDims d) : IGemmOperand
{
    private readonly ArrayView<float> _w = w;
    private readonly ConvDims _d = d;

    // Neighbouring channels sit R R floats apart, neighbouring rows C R R: j is the nearer.
    public bool ContiguousInJ => true;

    public int Stage(int k0) => ConvTap.Pack(_d.ByCp.Divide(k0), 0, 0);

    public float Load(int i, int j, int stage)
    {
        int t = ConvTap.Index(stage);
        int c = j - t * _d.Cp;
        return c < _d.C ? _w[(i * _d.C + c) * _d.R * _d.R + t] : 0f;
    }
}

/// <summary>Forward's right operand (R R Cp, N OH OW): the im2col matrix of x, tap-major, gathered on the fly.</summary>
internal readonly struct ConvInputColumns(ArrayView<float> x, ConvDims d) : IGemmOperand
{
    private readonly ArrayView<float> _x = x;
    private readonly ConvDims _d = d;

    public bool ContiguousInJ => true;

    public int Stage(int k0)
    {
        int t = _d.ByCp.Divide(k0);
        int r = _d.ByR.Divide(t);
        return ConvTap.Pack(t, r, t - r * _d.R);
    }

    public float Load(int i, int j, int stage)
    {
        int c = i - ConvTap.Index(stage) * _d.Cp;
        int ohw = _d.OH * _d.OW;
        int n = _d.ByOHW.Divide(j);
        int pq = j - n * ohw;
        int oh = _d.ByOW.Divide(pq);
        int ow = pq - oh * _d.OW;
        int ih = oh * _d.Stride - _d.Pad + ConvTap.First(stage);
        int iw = ow * _d.Stride - _d.Pad + ConvTap.Second(stage);
        return c < _d.C && (uint)ih < (uint)_d.H && (uint)iw < (uint)_d.W ? _x[((n * _d.C + c) * _d.H + ih) * _d.W + iw] : 0f;
    }
}

/// <summary>
/// Backward-weight's right operand (N OH OW, C R R), the transposed im2col matrix of x, as the kernel receives it:
/// <see cref="InBlock"/> turns it into the operand its block loads from. Its reduction runs over pixels, and a
/// thread's columns stay the same from stage to stage, so it keeps the crs order. (Tap-major columns, one tap per
/// block, cut the index arithmetic but ran the H100 step's weight gradients at 10-16 TFLOP/s against 26-29 in this
/// order.)
/// </summary>
internal readonly struct ConvInputRows(ArrayView<float> x, ConvDims d)
{
    private readonly ArrayView<float> _x = x;
    private readonly ConvDims _d = d;

    /// <summary>The block's columns are at most this many (the 128 x 128 tile's).</summary>
    public const int MaxColumns = IlgpuKernels.WideTile;

    /// <summary>
    /// The operand for the block at grid x of <paramref name="edge"/> columns: its threads first split each column
    /// crs into (c, r, s) once, into shared memory. A gathered element then costs a shared load and two adds where
    /// it cost two multiply-shift divisions on 64 bits; the gathers, not the tensor cores, fill the issue slots of
    /// these kernels. Every thread of the group must call it (it has a barrier).
    /// </summary>
    public ConvInputColumnTable InBlock(int edge, int cols)
    {
        var table = SharedMemory.Allocate<Int4>(MaxColumns);
        int col0 = Grid.IdxX * edge;
        int threads = Group.DimX * Group.DimY;
        int rr = _d.R * _d.R;
        for (int t = Group.IdxY * Group.DimX + Group.IdxX; t < edge; t += threads)
        {
            int crs = col0 + t < cols ? col0 + t : cols - 1;
            int c = _d.ByRR.Divide(crs);
            int rs = crs - c * rr;
            int r = _d.ByR.Divide(rs);
            int s = rs - r * _d.R;
            table[t] = new Int4((c * _d.H + r) * _d.W + s, r, s, 0);
        }
        Group.Barrier();
        return new ConvInputColumnTable(_x, _d, table, col0);
    }
}

/// <summary>
/// <see cref="ConvInputRows"/> inside one block: column col0 + t of (N OH OW, C R R) reads its offset into x's
/// image, c H W + r W + s, and its tap (r, s) from the block's table entry t.
/// </summary>
internal readonly struct ConvInputColumnTable(ArrayView<float> x, ConvDims d, ArrayView<Int4> table, int col0) : IGemmOperand
{
    private readonly ArrayView<float> _x = x;
    private readonly ConvDims _d = d;
    private readonly ArrayView<Int4> _table = table;
    private readonly int _col0 = col0;

    // Neighbouring output pixels read neighbouring input pixels (for stride 1).
    public bool ContiguousInJ => false;

    public int Stage(int k0) => 0;

    public float Load(int i, int j, int stage)
    {
        var column = _table[j - _col0];
        int ohw = _d.OH * _d.OW;
        int n = _d.ByOHW.Divide(i);
        int pq = i - n * ohw;
        int oh = _d.ByOW.Divide(pq);
        int ow = pq - oh * _d.OW;
        int ih0 = oh * _d.Stride - _d.Pad;
        int iw0 = ow * _d.Stride - _d.Pad;
        return (uint)(ih0 + column.Y) < (uint)_d.H && (uint)(iw0 + column.Z) < (uint)_d.W
            ? _x[(n * _d.C * _d.H + ih0) * _d.W + iw0 + column.X]
            : 0f;
    }
}

/// <summary>Forward's output (K, N OH OW) scattered into y (N, K, OH, OW).</summary>
internal readonly struct ConvOutputStore(ArrayView<float> y, ConvDims d) : IGemmOutput
{
    private readonly ArrayView<float> _y = y;
    private readonly ConvDims _d = d;

    public void Store(int row, int col, float sum) => _y[At(_d, row, col)] = sum;

    /// <summary>Where output channel row of column col (image n, pixel col - n OH OW) lies in y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int At(ConvDims d, int row, int col)
    {
        int ohw = d.OH * d.OW;
        int n = d.ByOHW.Divide(col);
        return (n * d.K + row) * ohw + col - n * ohw;
    }
}

/// <summary>y as <see cref="ConvOutputStore"/> sees it, added into atomically: a split forward's slices each add their part.</summary>
internal readonly struct ConvOutputAccumulate(ArrayView<float> y, ConvDims d) : IGemmOutput
{
    private readonly ArrayView<float> _y = y;
    private readonly ConvDims _d = d;

    public void Store(int row, int col, float sum) => Atomic.Add(ref _y[ConvOutputStore.At(_d, row, col)], sum);
}

/// <summary>
/// One stride phase of backward-data. Input pixels whose (h + Pad) mod Stride is (PH, PW) receive gradient only
/// from the taps r = PH + tr Stride, s = PW + ts Stride, each through exactly one output pixel,
/// oh = BaseH + th - tr (th counts the phase's rows), and likewise for ow. Splitting dx into Stride^2 phases thus
/// drops the taps that fall between the strided window positions (3/4 of a stride-2 gather) instead of
/// multiplying them by zero. Stride 1 is the single phase (0, 0) with every tap.
/// </summary>
internal readonly struct ConvPhase
{
    public readonly int PH;
    public readonly int PW;
    public readonly int FirstH;
    public readonly int FirstW;
    public readonly int BaseH;
    public readonly int BaseW;
    public readonly int RowsH;
    public readonly int ColsW;
    public readonly int TapsH;
    public readonly int TapsW;
    public readonly ConvDivisor ByTapsW;
    public readonly ConvDivisor ByPixels;
    public readonly ConvDivisor ByColsW;

    public ConvPhase(in Conv2dShape s, int ph, int pw)
    {
        PH = ph;
        PW = pw;
        FirstH = ((ph - s.Pad) % s.Stride + s.Stride) % s.Stride;
        FirstW = ((pw - s.Pad) % s.Stride + s.Stride) % s.Stride;
        BaseH = (FirstH + s.Pad - ph) / s.Stride;
        BaseW = (FirstW + s.Pad - pw) / s.Stride;
        RowsH = FirstH < s.H ? (s.H - FirstH + s.Stride - 1) / s.Stride : 0;
        ColsW = FirstW < s.W ? (s.W - FirstW + s.Stride - 1) / s.Stride : 0;
        TapsH = ph < s.R ? (s.R - ph + s.Stride - 1) / s.Stride : 0;
        TapsW = pw < s.R ? (s.R - pw + s.Stride - 1) / s.Stride : 0;
        ByTapsW = new ConvDivisor(Math.Max(1, TapsW));
        ByPixels = new ConvDivisor(Math.Max(1, RowsH * ColsW));
        ByColsW = new ConvDivisor(Math.Max(1, ColsW));
    }

    /// <summary>Input pixels in this phase per image and channel.</summary>
    public int Pixels => RowsH * ColsW;

    /// <summary>Taps of the window that reach this phase.</summary>
    public int Taps => TapsH * TapsW;

    /// <summary>The phase's tap (tr, ts) of the tap-major slice at reduction index k0 (t Kp + k), packed.</summary>
    public int Tap(int k0, in ConvDims d)
    {
        int t = d.ByKp.Divide(k0);
        int tr = ByTapsW.Divide(t);
        return ConvTap.Pack(t, tr, t - tr * TapsW);
    }
}

/// <summary>
/// Backward-data's left operand (C, Taps Kp) for one phase, tap-major: (c, t Kp + k) is w (K, C, R, R) at
/// [k, c] and the phase's tap t = (tr, ts), first axes swapped; 0 for the padding channels k &gt;= K.
/// </summary>
internal readonly struct ConvWeightPhase(ArrayView<float> w, ConvDims d, ConvPhase p) : IGemmOperand
{
    private readonly ArrayView<float> _w = w;
    private readonly ConvDims _d = d;
    private readonly ConvPhase _p = p;

    // Neighbouring input channels c sit R R floats apart, neighbouring k C R R: i is the nearer.
    public bool ContiguousInJ => false;

    public int Stage(int k0) => _p.Tap(k0, _d);

    public float Load(int i, int j, int stage)
    {
        int k = j - ConvTap.Index(stage) * _d.Kp;
        int r = _p.PH + ConvTap.First(stage) * _d.Stride;
        int s = _p.PW + ConvTap.Second(stage) * _d.Stride;
        return k < _d.K ? _w[((k * _d.C + i) * _d.R + r) * _d.R + s] : 0f;
    }
}

/// <summary>
/// Backward-data's right operand (Taps Kp, N Pixels) for one phase, tap-major: dy at the output pixel that puts
/// tap (tr, ts) on the phase's input pixel (th, tw), or 0 where that output pixel lies outside dy (the padding's
/// shadow) or k is a padding channel.
/// </summary>
internal readonly struct ConvGradOutputPhase(ArrayView<float> dy, ConvDims d, ConvPhase p) : IGemmOperand
{
    private readonly ArrayView<float> _dy = dy;
    private readonly ConvDims _d = d;
    private readonly ConvPhase _p = p;

    public bool ContiguousInJ => true;

    public int Stage(int k0) => _p.Tap(k0, _d);

    public float Load(int i, int j, int stage)
    {
        int k = i - ConvTap.Index(stage) * _d.Kp;
        int n = _p.ByPixels.Divide(j);
        int q = j - n * _p.Pixels;
        int th = _p.ByColsW.Divide(q);
        int tw = q - th * _p.ColsW;
        int oh = _p.BaseH + th - ConvTap.First(stage);
        int ow = _p.BaseW + tw - ConvTap.Second(stage);
        return k < _d.K && (uint)oh < (uint)_d.OH && (uint)ow < (uint)_d.OW ? _dy[((n * _d.K + k) * _d.OH + oh) * _d.OW + ow] : 0f;
    }
}

/// <summary>
/// Backward-data's output (C, N Pixels) for one phase, scattered into dx (N, C, H, W): written, or added to what dx
/// holds (accumulate; each element is stored by one thread of one launch, so without atomics).
/// </summary>
internal readonly struct ConvInputPhaseStore(ArrayView<float> dx, ConvDims d, ConvPhase p, bool accumulate) : IGemmOutput
{
    private readonly ArrayView<float> _dx = dx;
    private readonly ConvDims _d = d;
    private readonly ConvPhase _p = p;
    private readonly int _accumulate = accumulate ? 1 : 0;

    public void Store(int row, int col, float sum)
    {
        int at = At(_d, _p, row, col);
        _dx[at] = _accumulate != 0 ? _dx[at] + sum : sum;
    }

    /// <summary>Where input channel row of the phase's column col (image n, the phase's pixel col - n Pixels) lies in dx.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int At(ConvDims d, ConvPhase p, int row, int col)
    {
        int n = p.ByPixels.Divide(col);
        int q = col - n * p.Pixels;
        int th = p.ByColsW.Divide(q);
        int tw = q - th * p.ColsW;
        int ih = p.FirstH + th * d.Stride;
        int iw = p.FirstW + tw * d.Stride;
        return ((n * d.C + row) * d.H + ih) * d.W + iw;
    }
}

/// <summary>dx's phase as <see cref="ConvInputPhaseStore"/> sees it, added into atomically: a split launch's slices each add their part.</summary>
internal readonly struct ConvInputPhaseAccumulate(ArrayView<float> dx, ConvDims d, ConvPhase p) : IGemmOutput
{
    private readonly ArrayView<float> _dx = dx;
    private readonly ConvDims _d = d;
    private readonly ConvPhase _p = p;

    public void Store(int row, int col, float sum) => Atomic.Add(ref _dx[ConvInputPhaseStore.At(_d, _p, row, col)], sum);
}

/// <summary>Backward-weight's left operand (K, N OH OW): dy (N, K, OH, OW) with its first two axes swapped.</summary>
internal readonly struct ConvGradOutputRows(ArrayView<float> dy, ConvDims d) : IGemmOperand
{
    private readonly ArrayView<float> _dy = dy;
    private readonly ConvDims _d = d;

    public bool ContiguousInJ => true;

    public int Stage(int k0) => 0;

    public float Load(int i, int j, int stage)
    {
        int ohw = _d.OH * _d.OW;
        int n = _d.ByOHW.Divide(j);
        return _dy[(n * _d.K + i) * ohw + j - n * ohw];
    }
}

/// <summary>
/// Backward-weight's output (K, C R R) added into dw atomically: the reduction over N OH OW is split across
/// blocks, and dw is a parameter gradient, which accumulates anyway.
/// </summary>
internal readonly struct ConvWeightAccumulate(ArrayView<float> dw, int cols) : IGemmOutput
{
    private readonly ArrayView<float> _dw = dw;
    private readonly int _cols = cols;

    public void Store(int row, int col, float sum) => Atomic.Add(ref _dw[row * _cols + col], sum);
}

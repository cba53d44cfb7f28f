using ILGPU;

namespace EmpSsl.Kernels.Ilgpu;

/// <summary>
/// Division by a divisor fixed at launch, as a multiply and a shift (Granlund and Montgomery): the gathers split
/// flat indices into (channel, tap, image, pixel) several times per loaded element, and a GPU has no integer divide
/// instruction (a 32-bit division is a ~20-instruction sequence). With k = 31 + ceil(log2 d) and m = ceil(2^k / d),
/// (n m) >> k equals n / d for every 0 &lt;= n &lt; 2^31, because m d - 2^k &lt; d &lt;= 2^(k - 31).
/// </summary>
internal readonly struct ConvDivisor
{
    private readonly ulong _magic;
    private readonly int _shift;

    public ConvDivisor(int divisor)
    {
        int log = 0;
        while ((1L << log) < divisor)
        {
            log++;
        }
        _shift = 31 + log;
        _magic = ((1UL << _shift) + (ulong)divisor - 1) / (ulong)divisor;
    }

    /// <summary>n / divisor for n &gt;= 0.</summary>
    public int Divide(int n) => (int)(((ulong)(uint)n * _magic) >> _shift);
}

/// <summary>
/// The sizes a convolution's gathers need, copied from <see cref="Conv2dShape"/> into a plain struct that kernels
/// can take. Flattened indices: crs = (c R + r) R + s over the weight's (C, R, R); npq = (n OH + oh) OW + ow over
/// the output's (N, OH, OW); nhw = (n H + h) W + w over the input's (N, H, W).
/// </summary>
internal readonly struct ConvDims(in Conv2dShape s)
{
    public readonly int C = s.C;
    public readonly int H = s.H;
    public readonly int W = s.W;
    public readonly int K = s.K;
    public readonly int R = s.R;
    public readonly int Stride = s.Stride;
    public readonly int Pad = s.Pad;
    public readonly int OH = s.OutH;
    public readonly int OW = s.OutW;
    public readonly ConvDivisor ByR = new(s.R);
    public readonly ConvDivisor ByRR = new(s.R * s.R);
    public readonly ConvDivisor ByOW = new(s.OutW);
    public readonly ConvDivisor ByOHW = new(s.OutH * s.OutW);

    /// <summary>x (N, C, H, W) at input channel c of crs and output pixel npq, or 0 in the padding.</summary>
    public float GatherInput(ArrayView<float> x, int crs, int npq)
    {
        int rr = R * R;
        int c = ByRR.Divide(crs);
        int rs = crs - c * rr;
        int r = ByR.Divide(rs);
        int s = rs - r * R;
        int ohw = OH * OW;
        int n = ByOHW.Divide(npq);
        int pq = npq - n * ohw;
        int oh = ByOW.Divide(pq);
        int ow = pq - oh * OW;
        int ih = oh * Stride - Pad + r;
        int iw = ow * Stride - Pad + s;
        return (uint)ih < (uint)H && (uint)iw < (uint)W ? x[((n * C + c) * H + ih) * W + iw] : 0f;
    }
}

/// <summary>Forward's right operand (C R R, N OH OW): the im2col matrix of x, gathered on the fly.</summary>
internal readonly struct ConvInputColumns(ArrayView<float> x, ConvDims d) : IGemmOperand
{
    private readonly ArrayView<float> _x = x;
    private readonly ConvDims _d = d;

    public bool ContiguousInJ => true;

    public float Load(int i, int j) => _d.GatherInput(_x, i, j);
}

/// <summary>Backward-weight's right operand (N OH OW, C R R): the transposed im2col matrix of x.</summary>
internal readonly struct ConvInputRows(ArrayView<float> x, ConvDims d) : IGemmOperand
{
    private readonly ArrayView<float> _x = x;
    private readonly ConvDims _d = d;

    // Neighbouring output pixels read neighbouring input pixels (for stride 1).
    public bool ContiguousInJ => false;

    public float Load(int i, int j) => _d.GatherInput(_x, j, i);
}

/// <summary>Forward's output (K, N OH OW) scattered into y (N, K, OH, OW).</summary>
internal readonly struct ConvOutputStore(ArrayView<float> y, ConvDims d) : IGemmOutput
{
    private readonly ArrayView<float> _y = y;
    private readonly ConvDims _d = d;

    public void Store(int row, int col, float sum)
    {
        int ohw = _d.OH * _d.OW;
        int n = _d.ByOHW.Divide(col);
        _y[(n * _d.K + row) * ohw + col - n * ohw] = sum;
    }
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
    public readonly ConvDivisor ByTaps;
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
        ByTaps = new ConvDivisor(Math.Max(1, TapsH * TapsW));
        ByTapsW = new ConvDivisor(Math.Max(1, TapsW));
        ByPixels = new ConvDivisor(Math.Max(1, RowsH * ColsW));
        ByColsW = new ConvDivisor(Math.Max(1, ColsW));
    }

    /// <summary>Input pixels in this phase per image and channel.</summary>
    public int Pixels => RowsH * ColsW;

    /// <summary>Taps of the window that reach this phase.</summary>
    public int Taps => TapsH * TapsW;
}

/// <summary>Backward-data's left operand (C, K Taps) for one phase: w (K, C, R, R) at the phase's taps, first axes swapped.</summary>
internal readonly struct ConvWeightPhase(ArrayView<float> w, ConvDims d, ConvPhase p) : IGemmOperand
{
    private readonly ArrayView<float> _w = w;
    private readonly ConvDims _d = d;
    private readonly ConvPhase _p = p;

    public bool ContiguousInJ => true;

    public float Load(int i, int j)
    {
        int k = _p.ByTaps.Divide(j);
        int t = j - k * _p.Taps;
        int tr = _p.ByTapsW.Divide(t);
        int ts = t - tr * _p.TapsW;
        int r = _p.PH + tr * _d.Stride;
        int s = _p.PW + ts * _d.Stride;
        return _w[((k * _d.C + i) * _d.R + r) * _d.R + s];
    }
}

/// <summary>
/// Backward-data's right operand (K Taps, N Pixels) for one phase: dy at the output pixel that puts tap (tr, ts)
/// on the phase's input pixel (th, tw), or 0 where that output pixel lies outside dy (the padding's shadow).
/// </summary>
internal readonly struct ConvGradOutputPhase(ArrayView<float> dy, ConvDims d, ConvPhase p) : IGemmOperand
{
    private readonly ArrayView<float> _dy = dy;
    private readonly ConvDims _d = d;
    private readonly ConvPhase _p = p;

    public bool ContiguousInJ => true;

    public float Load(int i, int j)
    {
        int k = _p.ByTaps.Divide(i);
        int t = i - k * _p.Taps;
        int tr = _p.ByTapsW.Divide(t);
        int ts = t - tr * _p.TapsW;
        int n = _p.ByPixels.Divide(j);
        int q = j - n * _p.Pixels;
        int th = _p.ByColsW.Divide(q);
        int tw = q - th * _p.ColsW;
        int oh = _p.BaseH + th - tr;
        int ow = _p.BaseW + tw - ts;
        return (uint)oh < (uint)_d.OH && (uint)ow < (uint)_d.OW ? _dy[((n * _d.K + k) * _d.OH + oh) * _d.OW + ow] : 0f;
    }
}

/// <summary>Backward-data's output (C, N Pixels) for one phase, scattered into dx (N, C, H, W); written, not accumulated.</summary>
internal readonly struct ConvInputPhaseStore(ArrayView<float> dx, ConvDims d, ConvPhase p) : IGemmOutput
{
    private readonly ArrayView<float> _dx = dx;
    private readonly ConvDims _d = d;
    private readonly ConvPhase _p = p;

    public void Store(int row, int col, float sum)
    {
        int n = _p.ByPixels.Divide(col);
        int q = col - n * _p.Pixels;
        int th = _p.ByColsW.Divide(q);
        int tw = q - th * _p.ColsW;
        int ih = _p.FirstH + th * _d.Stride;
        int iw = _p.FirstW + tw * _d.Stride;
        _dx[((n * _d.C + row) * _d.H + ih) * _d.W + iw] = sum;
    }
}

/// <summary>Backward-weight's left operand (K, N OH OW): dy (N, K, OH, OW) with its first two axes swapped.</summary>
internal readonly struct ConvGradOutputRows(ArrayView<float> dy, ConvDims d) : IGemmOperand
{
    private readonly ArrayView<float> _dy = dy;
    private readonly ConvDims _d = d;

    public bool ContiguousInJ => true;

    public float Load(int i, int j)
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

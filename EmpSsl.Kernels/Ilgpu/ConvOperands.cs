using ILGPU;

namespace EmpSsl.Kernels.Ilgpu;

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

    /// <summary>x (N, C, H, W) at input channel c of crs and output pixel npq, or 0 in the padding.</summary>
    public float GatherInput(ArrayView<float> x, int crs, int npq)
    {
        int rr = R * R;
        int c = crs / rr;
        int rs = crs - c * rr;
        int r = rs / R;
        int s = rs - r * R;
        int ohw = OH * OW;
        int n = npq / ohw;
        int pq = npq - n * ohw;
        int oh = pq / OW;
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
        int n = col / ohw;
        _y[(n * _d.K + row) * ohw + col - n * ohw] = sum;
    }
}

/// <summary>Backward-data's left operand (C, K R R): w (K, C, R, R) with its first two axes swapped.</summary>
internal readonly struct ConvWeightTransposed(ArrayView<float> w, ConvDims d) : IGemmOperand
{
    private readonly ArrayView<float> _w = w;
    private readonly ConvDims _d = d;

    public bool ContiguousInJ => true;

    public float Load(int i, int j)
    {
        int rr = _d.R * _d.R;
        int k = j / rr;
        return _w[(k * _d.C + i) * rr + j - k * rr];
    }
}

/// <summary>
/// Backward-data's right operand (K R R, N H W): dy at the output pixel whose window puts tap (r, s) on input
/// pixel (h, w), or 0 where no output pixel does (padding, or between the taps of a strided window).
/// </summary>
internal readonly struct ConvGradOutputColumns(ArrayView<float> dy, ConvDims d) : IGemmOperand
{
    private readonly ArrayView<float> _dy = dy;
    private readonly ConvDims _d = d;

    public bool ContiguousInJ => true;

    public float Load(int i, int j)
    {
        int rr = _d.R * _d.R;
        int k = i / rr;
        int rs = i - k * rr;
        int r = rs / _d.R;
        int s = rs - r * _d.R;
        int hw = _d.H * _d.W;
        int n = j / hw;
        int p = j - n * hw;
        int ih = p / _d.W;
        int iw = p - ih * _d.W;
        int th = ih + _d.Pad - r;
        int tw = iw + _d.Pad - s;
        if (th < 0 || tw < 0)
        {
            return 0f;
        }
        int oh = th / _d.Stride;
        int ow = tw / _d.Stride;
        if (oh * _d.Stride != th || ow * _d.Stride != tw || oh >= _d.OH || ow >= _d.OW)
        {
            return 0f;
        }
        return _dy[((n * _d.K + k) * _d.OH + oh) * _d.OW + ow];
    }
}

/// <summary>Backward-data's output (C, N H W) scattered into dx (N, C, H, W); written, not accumulated.</summary>
internal readonly struct ConvInputStore(ArrayView<float> dx, ConvDims d) : IGemmOutput
{
    private readonly ArrayView<float> _dx = dx;
    private readonly ConvDims _d = d;

    public void Store(int row, int col, float sum)
    {
        int hw = _d.H * _d.W;
        int n = col / hw;
        _dx[(n * _d.C + row) * hw + col - n * hw] = sum;
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
        int n = j / ohw;
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

using ILGPU;

namespace EmpSsl.Kernels.Ilgpu;

/// <summary>A dense matrix stored row by row: (i, j) at i * Stride + j.</summary>
internal readonly struct GemmRowMajor(ArrayView<float> view, int stride) : IGemmOperand
{
    private readonly ArrayView<float> _view = view;
    private readonly int _stride = stride;

    public bool ContiguousInJ => true;

    public int Stage(int k0) => 0;

    public float Load(int i, int j, int stage) => _view[i * _stride + j];
}

/// <summary>A dense matrix stored column by column, i.e. a transposed row-major one: (i, j) at j * Stride + i.</summary>
internal readonly struct GemmColMajor(ArrayView<float> view, int stride) : IGemmOperand
{
    private readonly ArrayView<float> _view = view;
    private readonly int _stride = stride;

    public bool ContiguousInJ => false;

    public int Stage(int k0) => 0;

    public float Load(int i, int j, int stage) => _view[j * _stride + i];
}

/// <summary>c (rows, Stride) = alpha sum + beta c, where beta == 0 never reads c (it may hold NaN).</summary>
internal readonly struct GemmScaledOutput(ArrayView<float> view, int stride, float alpha, float beta) : IGemmOutput
{
    private readonly ArrayView<float> _view = view;
    private readonly int _stride = stride;
    private readonly float _alpha = alpha;
    private readonly float _beta = beta;

    public void Store(int row, int col, float sum)
    {
        int at = row * _stride + col;
        float value = _alpha * sum;
        if (_beta != 0f)
        {
            value += _beta * _view[at];
        }
        _view[at] = value;
    }
}

using ILGPU;

namespace EmpSsl.Kernels.Ilgpu;

/// <summary>The finished panel columns [j0, j0 + 16) of one factor l (n, n), row by row: (row, k) at l[row, j0 + k].</summary>
internal readonly struct CholeskyPanelRows(ArrayView<float> l, int n, int j0) : IGemmOperand
{
    private readonly ArrayView<float> _l = l;
    private readonly int _n = n;
    private readonly int _j0 = j0;

    public bool ContiguousInJ => true;

    public float Load(int i, int j) => _l[i * _n + _j0 + j];
}

/// <summary>The same panel transposed: (k, col) at l[col, j0 + k].</summary>
internal readonly struct CholeskyPanelColumns(ArrayView<float> l, int n, int j0) : IGemmOperand
{
    private readonly ArrayView<float> _l = l;
    private readonly int _n = n;
    private readonly int _j0 = j0;

    public bool ContiguousInJ => false;

    public float Load(int i, int j) => _l[j * _n + _j0 + i];
}

/// <summary>The trailing update l[row, col] -= sum on the lower triangle only, so the upper triangle stays zero.</summary>
internal readonly struct CholeskyLowerSubtract(ArrayView<float> l, int n) : IGemmOutput
{
    private readonly ArrayView<float> _l = l;
    private readonly int _n = n;

    public void Store(int row, int col, float sum)
    {
        if (col <= row)
        {
            _l[row * _n + col] -= sum;
        }
    }
}

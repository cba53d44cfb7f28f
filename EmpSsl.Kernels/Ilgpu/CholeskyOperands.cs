using ILGPU;

namespace EmpSsl.Kernels.Ilgpu;

/// <summary>The finished panel columns [j0, j0 + 16) of one factor l (n, n), row by row: (row, k) at l[row, j0 + k].</summary>
internal readonly struct CholeskyPanelRows(ArrayView<float> l, int n, int j0) : IGemmOperand
{
    private readonly ArrayView<float> _l = l;
    private readonly int _n = n;
    private readonly int _j0 = j0;

    public bool ContiguousInJ => true;

    public int Stage(int k0) => 0;

    public float Load(int i, int j, int stage) => _l[i * _n + _j0 + j];
}

/// <summary>The same panel transposed: (k, col) at l[col, j0 + k].</summary>
internal readonly struct CholeskyPanelColumns(ArrayView<float> l, int n, int j0) : IGemmOperand
{
    private readonly ArrayView<float> _l = l;
    private readonly int _n = n;
    private readonly int _j0 = j0;

    public bool ContiguousInJ => false;

    public int Stage(int k0) => 0;

    public float Load(int i, int j, int stage) => _l[j * _n + _j0 + i];
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

/// <summary>
/// Back substitution's left operand: rows [i0, i0 + 16) of l read transposed, (row, k) at l[i0 + k, row],
/// i.e. the block column of l^T above its diagonal block.
/// </summary>
internal readonly struct CholeskyBlockTransposed(ArrayView<float> l, int n, int i0) : IGemmOperand
{
    private readonly ArrayView<float> _l = l;
    private readonly int _n = n;
    private readonly int _i0 = i0;

    public bool ContiguousInJ => false;

    public int Stage(int k0) => 0;

    public float Load(int i, int j, int stage) => _l[(_i0 + j) * _n + i];
}

/// <summary>The solved rows [i0, i0 + 16) of the right-hand sides x (n, nrhs): (k, col) at x[i0 + k, col].</summary>
internal readonly struct CholeskySolvedRows(ArrayView<float> x, int nrhs, int i0) : IGemmOperand
{
    private readonly ArrayView<float> _x = x;
    private readonly int _nrhs = nrhs;
    private readonly int _i0 = i0;

    public bool ContiguousInJ => true;

    public int Stage(int k0) => 0;

    public float Load(int i, int j, int stage) => _x[(_i0 + i) * _nrhs + j];
}

/// <summary>Removes the solved rows' contribution from the unsolved ones: x[row, col] -= sum.</summary>
internal readonly struct CholeskySolveSubtract(ArrayView<float> x, int nrhs) : IGemmOutput
{
    private readonly ArrayView<float> _x = x;
    private readonly int _nrhs = nrhs;

    public void Store(int row, int col, float sum) => _x[row * _nrhs + col] -= sum;
}

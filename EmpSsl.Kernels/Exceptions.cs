namespace EmpSsl.Kernels;

/// <summary>A tensor's size does not match what the op's shape asks for. The message names the op and the shapes.</summary>
public sealed class ShapeMismatchException(string message) : ArgumentException(message);

/// <summary>Cholesky met a pivot that is not positive: the matrix is not symmetric positive definite.</summary>
public sealed class MatrixNotPositiveDefiniteException(int matrixIndex, int pivot, double value)
    : ArithmeticException(
        $"Cholesky: matrix {matrixIndex} of the batch is not symmetric positive definite " +
        $"(pivot {pivot} is {value:G6}); the coding-rate matrix I + a Z Z^T should always be SPD, so look for NaN or Inf in Z")
{
    public int MatrixIndex { get; } = matrixIndex;

    public int Pivot { get; } = pivot;
}

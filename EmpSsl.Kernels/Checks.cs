namespace EmpSsl.Kernels;

/// <summary>
/// The size rules of every op in <see cref="IKernels"/>, shared by all backends so that each one rejects
/// the same calls with the same message. Each method throws <see cref="ShapeMismatchException"/>.
/// </summary>
public static class Checks
{
    public static void Same(string op, DeviceSpan a, DeviceSpan b)
    {
        if (a.Length != b.Length)
        {
            throw new ShapeMismatchException($"{op}: operands differ in length ({a.Length} vs {b.Length})");
        }
    }

    public static void Same(string op, DeviceSpan a, DeviceSpan b, DeviceSpan c)
    {
        Same(op, a, b);
        Same(op, a, c);
    }

    public static void Gemm(DeviceSpan c, DeviceSpan a, DeviceSpan b, in GemmShape s)
    {
        Positive("Gemm", s.ToString(), s.M, s.N, s.K);
        string shape = $"M={s.M}, N={s.N}, K={s.K}, transA={s.TransA}, transB={s.TransB}";
        Need("Gemm", "A", a, (long)s.M * s.K, s.TransA ? $"K x M = {s.K}x{s.M}" : $"M x K = {s.M}x{s.K}", shape);
        Need("Gemm", "B", b, (long)s.K * s.N, s.TransB ? $"N x K = {s.N}x{s.K}" : $"K x N = {s.K}x{s.N}", shape);
        Need("Gemm", "C", c, (long)s.M * s.N, $"M x N = {s.M}x{s.N}", shape);
    }

    public static void Rows(string op, DeviceSpan x, int rows, int cols, string name = "x")
    {
        Positive(op, $"rows={rows}, cols={cols}", rows, cols);
        Need(op, name, x, (long)rows * cols, $"rows x cols = {rows}x{cols}", $"rows={rows}, cols={cols}");
    }

    public static void Vector(string op, DeviceSpan x, int length, string name)
    {
        Need(op, name, x, length, $"{length}", $"length {length}");
    }

    public static void Conv2d(string op, DeviceSpan y, DeviceSpan x, DeviceSpan w, in Conv2dShape s, string yName = "y", string xName = "x", string wName = "w")
    {
        Positive(op, s.ToString(), s.N, s.C, s.H, s.W, s.K, s.R, s.Stride);
        if (s.Pad < 0 || s.OutH <= 0 || s.OutW <= 0)
        {
            throw new ShapeMismatchException($"{op}: {s} with pad {s.Pad} gives an empty {s.OutH}x{s.OutW} output");
        }
        string shape = $"{s} (pad {s.Pad}, out {s.OutH}x{s.OutW})";
        Need(op, xName, x, s.InputLength, $"N x C x H x W = {s.N}x{s.C}x{s.H}x{s.W}", shape);
        Need(op, wName, w, s.WeightLength, $"K x C x R x R = {s.K}x{s.C}x{s.R}x{s.R}", shape);
        Need(op, yName, y, s.OutputLength, $"N x K x OH x OW = {s.N}x{s.K}x{s.OutH}x{s.OutW}", shape);
    }

    public static void BatchNorm(string op, in BatchNormShape s, DeviceSpan x, params (string Name, DeviceSpan Span, bool PerChannel)[] rest)
    {
        Positive(op, s.ToString(), s.N, s.C, s.HW);
        Need(op, "x", x, s.Length, $"N x C x HW = {s.N}x{s.C}x{s.HW}", s.ToString());
        foreach (var (name, span, perChannel) in rest)
        {
            Need(op, name, span, perChannel ? s.C : s.Length, perChannel ? $"C = {s.C}" : $"N x C x HW = {s.N}x{s.C}x{s.HW}", s.ToString());
        }
    }

    public static void Pool(string op, DeviceSpan y, DeviceSpan x, in PoolShape s)
    {
        Positive(op, s.ToString(), s.Planes, s.H, s.W, s.Kernel, s.Stride);
        if (s.Pad < 0 || 2 * s.Pad > s.Kernel || s.OutH <= 0 || s.OutW <= 0)
        {
            throw new ShapeMismatchException($"{op}: {s} with pad {s.Pad} is not a valid pooling window");
        }
        Need(op, "x", x, (long)s.Planes * s.H * s.W, $"planes x H x W = {s.Planes}x{s.H}x{s.W}", s.ToString());
        Need(op, "y", y, (long)s.Planes * s.OutH * s.OutW, $"planes x OH x OW = {s.Planes}x{s.OutH}x{s.OutW}", s.ToString());
    }

    public static void SquareBatch(string op, DeviceSpan a, int n, int batch, string name = "a")
    {
        Positive(op, $"n={n}, batch={batch}", n, batch);
        Need(op, name, a, (long)batch * n * n, $"batch x n x n = {batch}x{n}x{n}", $"n={n}, batch={batch}");
    }

    public static void Need(string op, string name, DeviceSpan span, long expected, string expectedShape, string shape)
    {
        if (span.Length != expected)
        {
            throw new ShapeMismatchException(
                $"{op}: {name} has {span.Length} elements but {shape} needs {expectedShape} = {expected}");
        }
    }

    public static void Positive(string op, string shape, params int[] dims)
    {
        foreach (int d in dims)
        {
            if (d <= 0)
            {
                throw new ShapeMismatchException($"{op}: every dimension must be positive, got {shape}");
            }
        }
    }
}

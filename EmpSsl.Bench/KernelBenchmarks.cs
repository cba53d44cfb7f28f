using BenchmarkDotNet.Attributes;
using EmpSsl.Kernels;
using EmpSsl.Kernels.Ilgpu;

namespace EmpSsl.Bench;

/// <summary>
/// BenchmarkDotNet classes over the production kernels, one per family, on every backend worth timing:
/// cpu always, cuda when a GPU is present. ILGPU's CPU accelerator is a thread-per-GPU-thread simulator;
/// quick mode times it on tiny shapes (`quick --device ilgpu-cpu`).
/// </summary>
public abstract class KernelBenchmark
{
    protected IKernels K { get; private set; } = null!;

    [ParamsSource(nameof(Backends))]
    public string Backend { get; set; } = "cpu";

    public static IEnumerable<string> Backends() =>
        IlgpuKernels.CudaAvailable() ? ["cpu", "cuda"] : ["cpu"];

    protected DeviceBuffer Random(int length, int seed)
    {
        var host = RandomData.Uniform(new Random(seed), length);
        var b = K.Allocate(length);
        K.Upload(b.Span, host);
        return b;
    }

    [GlobalSetup]
    public void OpenBackend()
    {
        K = Devices.Open(Backend);
        Setup();
    }

    protected abstract void Setup();

    [GlobalCleanup]
    public void CloseBackend() => K.Dispose();
}

public class GemmBenchmarks : KernelBenchmark
{
    private DeviceBuffer _a = null!, _b = null!, _c = null!;

    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; }

    public static IEnumerable<GemmShape> Shapes() => Cases.Gemm;

    protected override void Setup()
    {
        _a = Random(Shape.M * Shape.K, 1);
        _b = Random(Shape.K * Shape.N, 2);
        _c = K.Allocate(Shape.M * Shape.N);
    }

    [Benchmark]
    public void Gemm()
    {
        K.Gemm(_c.Span, _a.Span, _b.Span, Shape);
        K.Synchronize();
    }
}

public class Conv2dBenchmarks : KernelBenchmark
{
    private DeviceBuffer _x = null!, _w = null!, _y = null!, _dx = null!, _dw = null!;

    [ParamsSource(nameof(Shapes))]
    public Conv2dShape Shape { get; set; }

    public static IEnumerable<Conv2dShape> Shapes() => Cases.Conv;

    protected override void Setup()
    {
        _x = Random(Shape.InputLength, 1);
        _w = Random(Shape.WeightLength, 2);
        _y = Random(Shape.OutputLength, 3);
        _dx = K.Allocate(Shape.InputLength);
        _dw = Random(Shape.WeightLength, 4);
    }

    [Benchmark]
    public void Forward()
    {
        K.Conv2dForward(_y.Span, _x.Span, _w.Span, Shape);
        K.Synchronize();
    }

    [Benchmark]
    public void BackwardData()
    {
        K.Conv2dBackwardData(_dx.Span, _y.Span, _w.Span, Shape);
        K.Synchronize();
    }

    [Benchmark]
    public void BackwardWeight()
    {
        K.Conv2dBackwardWeight(_dw.Span, _y.Span, _x.Span, Shape);
        K.Synchronize();
    }
}

public class BatchNormBenchmarks : KernelBenchmark
{
    private DeviceBuffer _x = null!, _y = null!, _gamma = null!, _beta = null!, _mean = null!, _inv = null!, _rm = null!, _rv = null!, _dx = null!, _dg = null!, _db = null!;

    [ParamsSource(nameof(Shapes))]
    public BatchNormShape Shape { get; set; }

    public static IEnumerable<BatchNormShape> Shapes() => Cases.BatchNorm;

    protected override void Setup()
    {
        _x = Random(Shape.Length, 1);
        _y = Random(Shape.Length, 2);
        _dx = K.Allocate(Shape.Length);
        _gamma = Random(Shape.C, 3);
        _beta = Random(Shape.C, 4);
        _mean = K.Allocate(Shape.C);
        _inv = K.Allocate(Shape.C);
        _rm = Random(Shape.C, 5);
        _rv = K.Allocate(Shape.C);
        K.Fill(_rv.Span, 1f);
        _dg = Random(Shape.C, 6);
        _db = Random(Shape.C, 7);
        K.BatchNormForwardTrain(_y.Span, _mean.Span, _inv.Span, _rm.Span, _rv.Span, _x.Span, _gamma.Span, _beta.Span, Shape);
    }

    [Benchmark]
    public void ForwardTrain()
    {
        K.BatchNormForwardTrain(_y.Span, _mean.Span, _inv.Span, _rm.Span, _rv.Span, _x.Span, _gamma.Span, _beta.Span, Shape);
        K.Synchronize();
    }

    [Benchmark]
    public void Backward()
    {
        K.BatchNormBackward(_dx.Span, _dg.Span, _db.Span, _y.Span, _x.Span, _gamma.Span, _beta.Span, _mean.Span, _inv.Span, Shape);
        K.Synchronize();
    }
}

public class CholeskyBenchmarks : KernelBenchmark
{
    private DeviceBuffer _a = null!, _l = null!, _logdet = null!;

    [ParamsSource(nameof(Sizes))]
    public (int N, int Batch) Size { get; set; }

    public static IEnumerable<(int N, int Batch)> Sizes() => Cases.Cholesky;

    protected override void Setup()
    {
        int n = Size.N;
        var host = new float[Size.Batch * n * n];
        var rng = new Random(1);
        for (int m = 0; m < Size.Batch; m++)
        {
            // Diagonally dominant, so SPD.
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    float v = i == j ? n : (float)(rng.NextDouble() - 0.5);
                    host[(m * n + i) * n + j] = v;
                    host[(m * n + j) * n + i] = v;
                }
            }
        }
        _a = K.Allocate(host.Length);
        K.Upload(_a.Span, host);
        _l = K.Allocate(host.Length);
        _logdet = K.Allocate(Size.Batch);
    }

    [Benchmark]
    public void CholeskyLogdet()
    {
        K.Cholesky(_l.Span, _logdet.Span, _a.Span, Size.N, Size.Batch);
        K.Synchronize();
    }
}

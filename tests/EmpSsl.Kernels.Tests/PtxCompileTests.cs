using System.Reflection;
using System.Runtime.CompilerServices;
using EmpSsl.Kernels.Ilgpu;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace EmpSsl.Kernels.Tests;

/// <summary>
/// Compiles every ILGPU kernel of EmpSsl.Kernels to PTX for sm_80, with no GPU: a kernel that uses
/// something the CUDA backend cannot translate fails here, on every machine, instead of at its first
/// launch on a GPU. Kernels are found by reflection (internal static methods named *Kernel in
/// EmpSsl.Kernels.Ilgpu), so a new kernel is covered without being listed.
/// </summary>
public sealed class PtxCompileTests : IClassFixture<PtxCompileTests.PtxBackendFixture>
{
    /// <summary>The kernels of the elementwise, rows, BatchNorm, pooling, resize and LARS families; other families add more.</summary>
    private const int MinimumKernelCount = 31;

    private readonly PtxBackendFixture _fixture;

    public PtxCompileTests(PtxBackendFixture fixture)
    {
        _fixture = fixture;
    }

    public static TheoryData<string> KernelNames()
    {
        var data = new TheoryData<string>();
        foreach (var kernel in FindKernels())
        {
            data.Add(NameOf(kernel));
        }
        return data;
    }

    [Fact]
    public void ReflectionFindsEveryKernelOnceByName()
    {
        var names = FindKernels().Select(NameOf).ToList();

        Assert.True(names.Count >= MinimumKernelCount, $"found {names.Count} kernels, expected at least {MinimumKernelCount}: {string.Join(", ", names)}");
        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void CompilesToPtx(string name)
    {
        var kernel = FindKernels().Single(m => NameOf(m) == name);
        var first = kernel.GetParameters().FirstOrDefault()?.ParameterType;
        var entry = first == typeof(Index1D) || first == typeof(Index2D) || first == typeof(Index3D)
            ? EntryPointDescription.FromImplicitlyGroupedKernel(kernel)
            : EntryPointDescription.FromExplicitlyGroupedKernel(kernel);

        var compiled = (PTXCompiledKernel)_fixture.Backend.Compile(entry, new KernelSpecialization());

        string ptx = compiled.PTXAssembly;
        Assert.Contains(".entry", ptx, StringComparison.Ordinal);
        bool marked = kernel.IsDefined(typeof(UsesBarrierAttribute));
        bool barrier = ptx.Contains("bar.sync", StringComparison.Ordinal);
        Assert.True(
            marked == barrier,
            marked
                ? $"{name} is marked [UsesBarrier] but its PTX has no bar.sync"
                : $"{name} synchronizes its group (bar.sync) but is not marked [UsesBarrier]");
    }

    private static IEnumerable<MethodInfo> FindKernels() =>
        typeof(IlgpuKernels).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(IlgpuKernels).Namespace && !t.IsDefined(typeof(CompilerGeneratedAttribute)))
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Where(m => m.IsAssembly && m.Name.EndsWith("Kernel", StringComparison.Ordinal))
            .OrderBy(NameOf, StringComparer.Ordinal);

    private static string NameOf(MethodInfo m) => $"{m.DeclaringType!.Name}.{m.Name}";

    /// <summary>One context and PTX backend for all cases: creating them costs more than compiling a kernel.</summary>
    public sealed class PtxBackendFixture : IDisposable
    {
        private readonly Context _context;

        public PtxBackendFixture()
        {
            _context = Context.Create(builder => builder.Default().EnableAlgorithms());
            Backend = new PTXBackend(_context, CudaArchitecture.SM_80, CudaInstructionSet.ISA_70, nvvmAPI: null!);
        }

        internal PTXBackend Backend { get; }

        public void Dispose()
        {
            Backend.Dispose();
            _context.Dispose();
        }
    }
}

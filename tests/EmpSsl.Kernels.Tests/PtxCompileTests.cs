using System.Reflection;
using System.Reflection.Emit;
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
/// EmpSsl.Kernels.Ilgpu), so a new kernel is covered without being listed. A kernel whose IL reaches
/// Group.Barrier, directly or through helpers of this assembly, must keep a bar.sync in its PTX.
/// </summary>
public sealed class PtxCompileTests : IClassFixture<PtxCompileTests.PtxBackendFixture>
{
    /// <summary>The kernels of the elementwise, rows, BatchNorm, pooling, resize and LARS families; other families add more.</summary>
    private const int MinimumKernelCount = 32;

    /// <summary>Of those, the group reductions (rows, Sum, BatchNorm, global average pooling, LARS norms).</summary>
    private const int MinimumBarrierKernelCount = 10;

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
        int barriers = FindKernels().Count(BarrierScan.Reaches);
        Assert.True(barriers >= MinimumBarrierKernelCount, $"the IL scan found Group.Barrier in {barriers} kernels, expected at least {MinimumBarrierKernelCount}");
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
        // The TF32 kernels load through the register promotion of their inline-PTX operand slots; check what runs.
        bool tf32 = name.Contains("Tf32", StringComparison.Ordinal);
        if (tf32)
        {
            Assert.Contains(".local", compiled.PTXAssembly, StringComparison.Ordinal);
            IlgpuKernels.Promote(compiled, kernel, out int promoted);
            Assert.True(promoted >= 10, $"{name}: only {promoted} operand slots promoted");
            Assert.DoesNotContain(".local", compiled.PTXAssembly, StringComparison.Ordinal);
            // The big tiles must stay at two blocks per multiprocessor.
            bool big = name.Contains("Wide", StringComparison.Ordinal) || name.Contains("Flat", StringComparison.Ordinal);
            Assert.Equal(big, compiled.PTXAssembly.Contains($")\n.maxnreg {IlgpuKernels.BigTileRegisters}\n{{", StringComparison.Ordinal));
        }

        string ptx = compiled.PTXAssembly;
        Assert.Contains(".entry", ptx, StringComparison.Ordinal);
        // EMPSSL_PTX_DUMP=DIR keeps each kernel's PTX, for `ptxas -arch=sm_90 -v` (registers, spills) on a GPU machine.
        if (Environment.GetEnvironmentVariable("EMPSSL_PTX_DUMP") is { Length: > 0 } dump)
        {
            Directory.CreateDirectory(dump);
            File.WriteAllText(Path.Combine(dump, name + ".ptx"), ptx);
        }
        if (BarrierScan.Reaches(kernel))
        {
            Assert.True(ptx.Contains("bar.sync", StringComparison.Ordinal), $"{name} calls Group.Barrier but its PTX has no bar.sync");
        }
        // The TF32 kernels must reach the tensor cores (with rounded inputs), and no other kernel may.
        Assert.Equal(tf32, ptx.Contains("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32", StringComparison.Ordinal));
        Assert.Equal(tf32, ptx.Contains("cvt.rna.tf32.f32", StringComparison.Ordinal));
    }

    private static IEnumerable<MethodInfo> FindKernels() =>
        typeof(IlgpuKernels).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(IlgpuKernels).Namespace && !t.IsDefined(typeof(CompilerGeneratedAttribute)))
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Where(m => m.IsAssembly && m.Name.EndsWith("Kernel", StringComparison.Ordinal))
            .OrderBy(NameOf, StringComparer.Ordinal);

    private static string NameOf(MethodInfo m) => $"{m.DeclaringType!.Name}.{m.Name}";

    /// <summary>Whether a method's IL calls Group.Barrier, directly or through methods of the kernels' assembly.</summary>
    private static class BarrierScan
    {
        private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (OpCode)f.GetValue(null)!)
            .ToDictionary(op => op.Value);

        public static bool Reaches(MethodInfo kernel) => Reaches(kernel, new HashSet<MethodBase>());

        private static bool Reaches(MethodBase method, HashSet<MethodBase> seen)
        {
            if (!seen.Add(method) || method.GetMethodBody()?.GetILAsByteArray() is not { } il)
            {
                return false;
            }
            var assembly = typeof(IlgpuKernels).Assembly;
            foreach (var callee in Callees(method, il))
            {
                if (callee.DeclaringType == typeof(Group) && callee.Name.StartsWith("Barrier", StringComparison.Ordinal))
                {
                    return true;
                }
                if (callee.DeclaringType?.Assembly == assembly && Reaches(callee, seen))
                {
                    return true;
                }
            }
            return false;
        }

        /// <summary>The targets of the call, callvirt, newobj and ldftn instructions, decoded by operand size.</summary>
        private static IEnumerable<MethodBase> Callees(MethodBase method, byte[] il)
        {
            Type[]? typeArgs = method.DeclaringType is { IsGenericType: true } t ? t.GetGenericArguments() : null;
            Type[]? methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
            int at = 0;
            while (at < il.Length)
            {
                short value = il[at] == 0xFE ? (short)(0xFE00 | il[at + 1]) : il[at];
                at += il[at] == 0xFE ? 2 : 1;
                var op = OpCodesByValue[value];
                if (op.OperandType == OperandType.InlineMethod)
                {
                    var callee = method.Module.ResolveMethod(BitConverter.ToInt32(il, at), typeArgs, methodArgs);
                    if (callee is not null)
                    {
                        yield return callee;
                    }
                }
                at += op.OperandType switch
                {
                    OperandType.InlineNone => 0,
                    OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                    OperandType.InlineVar => 2,
                    OperandType.InlineI8 or OperandType.InlineR => 8,
                    OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, at),
                    _ => 4,
                };
            }
        }
    }

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

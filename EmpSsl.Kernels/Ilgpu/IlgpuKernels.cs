using ILGPU;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace EmpSsl.Kernels.Ilgpu;

/// <summary>
/// The ILGPU backend: one accelerator (CUDA, OpenCL, or ILGPU's CPU accelerator, which simulates a GPU
/// thread by thread and serves only to check kernel logic on tiny shapes). Kernels are loaded once, on
/// first use, and the delegates kept. The op families live in the files beside this one.
/// </summary>
public sealed partial class IlgpuKernels : IKernels
{
    private readonly Context _context;
    private readonly Dictionary<string, object> _loaded = new();

    private IlgpuKernels(string name, Context context, Accelerator accelerator)
    {
        Name = name;
        _context = context;
        Accelerator = accelerator;
    }

    public string Name { get; }

    /// <summary>The accelerator, for assemblies that bring kernels of their own (crop rendering).</summary>
    public Accelerator Accelerator { get; }

    /// <summary>Opens "cuda", "opencl" or "ilgpu-cpu"; throws a clear error when no such device exists.</summary>
    public static IlgpuKernels Create(string name)
    {
        var context = Context.Create(builder => builder.Default().EnableAlgorithms());
        try
        {
            Accelerator accelerator = name switch
            {
                "cuda" => context.GetCudaDevices().Count > 0
                    ? context.CreateCudaAccelerator(0)
                    : throw new InvalidOperationException("--device cuda: no CUDA device was found (is the NVIDIA driver loaded?)"),
                "opencl" => context.GetCLDevices().Count > 0
                    ? context.CreateCLAccelerator(0)
                    : throw new InvalidOperationException("--device opencl: no OpenCL device that ILGPU supports was found (ILGPU needs OpenCL 2.0 generic address space)"),
                "ilgpu-cpu" => context.CreateCPUAccelerator(0),
                _ => throw new ArgumentException($"unknown ILGPU device '{name}'; expected cuda, opencl or ilgpu-cpu"),
            };
            return new IlgpuKernels(name, context, accelerator);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>True when ILGPU finds an NVIDIA GPU; never throws.</summary>
    public static bool CudaAvailable()
    {
        try
        {
            using var context = Context.Create(builder => builder.Cuda());
            return context.GetCudaDevices().Count > 0;
        }
        catch (Exception)
        {
            return false;
        }
    }

    public DeviceBuffer Allocate(int length) => new IlgpuBuffer(Name, Accelerator, length);

    public void Upload(DeviceSpan dst, ReadOnlySpan<float> src)
    {
        Checks.Need("Upload", "dst", dst, src.Length, $"{src.Length}", "the host span");
        if (src.Length > 0)
        {
            V(dst).CopyFromCPU(src);
        }
    }

    public void Download(DeviceSpan src, Span<float> dst)
    {
        Checks.Need("Download", "src", src, dst.Length, $"{dst.Length}", "the host span");
        if (dst.Length > 0)
        {
            V(src).CopyToCPU(dst);
        }
    }

    public void Synchronize() => Accelerator.Synchronize();

    public void Dispose()
    {
        Accelerator.Dispose();
        _context.Dispose();
    }

    /// <summary>The accelerator view behind a span, after checking that this backend owns it.</summary>
    public ArrayView<float> V(DeviceSpan span)
    {
        if (span.Buffer is not IlgpuBuffer b || b.Backend != Name)
        {
            throw new ArgumentException($"the {Name} backend was given a buffer of the '{span.Buffer.Backend}' backend ({span})");
        }
        return b.Memory.View.AsContiguous().SubView(span.Offset, span.Length);
    }

    /// <summary>
    /// Compiles an explicitly grouped kernel for CUDA and loads it with its inline-PTX operand slots promoted to
    /// registers (<see cref="PtxRegisterPromotion"/>), launched on the default stream like LoadStreamKernel's.
    /// </summary>
    private Action<KernelConfig, T1, T2, T3, T4, T5, T6> LoadPromoted<T1, T2, T3, T4, T5, T6>(Action<T1, T2, T3, T4, T5, T6> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct
    {
        var launch = LoadPromotedKernel(kernel.Method).CreateLauncherDelegate<Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6>>();
        return (config, a, b, c, d, e, f) => launch(Accelerator.DefaultStream, config, a, b, c, d, e, f);
    }

    private Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7> LoadPromoted<T1, T2, T3, T4, T5, T6, T7>(Action<T1, T2, T3, T4, T5, T6, T7> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct
    {
        var launch = LoadPromotedKernel(kernel.Method).CreateLauncherDelegate<Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6, T7>>();
        return (config, a, b, c, d, e, f, g) => launch(Accelerator.DefaultStream, config, a, b, c, d, e, f, g);
    }

    // PTXCompiledKernel keeps its text in a get-only property; ILGPU (1.5.3, pinned in Directory.Packages.props) has no
    // public way to load edited PTX. The PTX compile test promotes every TF32 kernel through this field, so an ILGPU
    // that renames it fails there, on every machine, before any GPU run.
    private static readonly System.Reflection.FieldInfo PtxAssemblyField =
        typeof(PTXCompiledKernel).GetField("<PTXAssembly>k__BackingField", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)
        ?? throw new MissingFieldException("ILGPU's PTXCompiledKernel no longer keeps its PTX in <PTXAssembly>k__BackingField; the TF32 kernels need to edit it");

    private Kernel LoadPromotedKernel(System.Reflection.MethodInfo method)
    {
        var cuda = (CudaAccelerator)Accelerator;
        using var backend = new PTXBackend(_context, cuda.Architecture, cuda.InstructionSet, nvvmAPI: null!);
        var compiled = (PTXCompiledKernel)backend.Compile(
            ILGPU.Backends.EntryPoints.EntryPointDescription.FromExplicitlyGroupedKernel(method), new KernelSpecialization());
        Promote(compiled, method, out _);
        return Accelerator.LoadKernel(compiled);
    }

    /// <summary>
    /// Replaces a compiled kernel's PTX with its operand slots promoted to registers (counted), and its registers
    /// capped where the kernel method asks (<see cref="MaxRegistersAttribute"/>).
    /// </summary>
    internal static void Promote(PTXCompiledKernel compiled, System.Reflection.MethodInfo method, out int promoted)
    {
        string ptx = PtxRegisterPromotion.Promote(compiled.PTXAssembly, out promoted);
        if (method.GetCustomAttributes(typeof(MaxRegistersAttribute), false) is [MaxRegistersAttribute cap])
        {
            ptx = PtxRegisterLimit.Apply(ptx, cap.Count);
        }
        PtxAssemblyField.SetValue(compiled, ptx);
    }

    /// <summary>Loads a kernel once per accelerator and keeps the delegate (ILGPU compiles on load).</summary>
    internal TDelegate Load<TDelegate>(string key, Func<Accelerator, TDelegate> load)
        where TDelegate : class
    {
        if (!_loaded.TryGetValue(key, out var kernel))
        {
            kernel = load(Accelerator);
            _loaded[key] = kernel;
        }
        return (TDelegate)kernel;
    }
}

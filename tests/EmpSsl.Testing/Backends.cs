using EmpSsl.Kernels;
using EmpSsl.Kernels.Cpu;
using EmpSsl.Kernels.Ilgpu;
using Xunit;

namespace EmpSsl.Testing;

/// <summary>
/// The backends under test, opened once per test run and shared: creating an ILGPU context costs about a second.
/// Tests of one backend must not run in parallel with each other (ILGPU's kernel cache is not thread-safe), so
/// each test class puts itself in the xunit collection named after its backend, e.g. [Collection(Backends.Cpu)].
/// </summary>
public static class Backends
{
    public const string Cpu = "cpu";
    public const string IlgpuCpu = "ilgpu-cpu";
    public const string Cuda = "cuda";

    private static readonly Dictionary<string, IKernels> Opened = new();
    private static readonly object Gate = new();
    private static bool? _cudaPresent;

    static Backends()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            lock (Gate)
            {
                foreach (var k in Opened.Values)
                {
                    k.Dispose();
                }
                Opened.Clear();
            }
        };
    }

    /// <summary>
    /// The shared backend of that name. For "cuda" without an NVIDIA GPU this throws Xunit's SkipException, so a
    /// [SkippableFact] shows as skipped, never as passed; unless EMPSSL_DEVICE=cuda, which makes it fail.
    /// </summary>
    public static IKernels Open(string name)
    {
        lock (Gate)
        {
            if (Opened.TryGetValue(name, out var open))
            {
                return open;
            }
            if (name == Cuda)
            {
                // Asked once: a failed probe still loads the CUDA driver bindings. A run told to use CUDA
                // (EMPSSL_DEVICE=cuda, as on a GPU machine) never skips: a CUDA that ILGPU cannot open fails
                // every CUDA test with ILGPU's own error instead of looking like a machine without a GPU.
                bool demanded = Environment.GetEnvironmentVariable(Devices.EnvironmentVariable)?.Trim().ToLowerInvariant() == Cuda;
                _cudaPresent ??= demanded || IlgpuKernels.CudaAvailable();
                if (!_cudaPresent.Value)
                {
                    throw new SkipException("no CUDA device: ILGPU found no NVIDIA GPU on this machine");
                }
            }
            IKernels kernels = name == Cpu ? new CpuKernels() : IlgpuKernels.Create(name);
            Opened[name] = kernels;
            return kernels;
        }
    }

    /// <summary>ILGPU's CPU accelerator runs a thread per GPU thread; tests give it tiny shapes.</summary>
    public static bool IsSimulated(string name) => name == IlgpuCpu;
}

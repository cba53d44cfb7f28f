using EmpSsl.Kernels.Cpu;
using EmpSsl.Kernels.Ilgpu;

namespace EmpSsl.Kernels;

/// <summary>
/// Picks the backend: an explicit name (the --device option), else the EMPSSL_DEVICE environment
/// variable, else CUDA when an NVIDIA GPU is present, else the SIMD CPU backend.
/// </summary>
public static class Devices
{
    public const string EnvironmentVariable = "EMPSSL_DEVICE";

    public static readonly IReadOnlyList<string> Names = ["cuda", "opencl", "ilgpu-cpu", "cpu"];

    public static string Resolve(string? requested = null)
    {
        string? name = string.IsNullOrWhiteSpace(requested) ? Environment.GetEnvironmentVariable(EnvironmentVariable) : requested;
        if (string.IsNullOrWhiteSpace(name))
        {
            return IlgpuKernels.CudaAvailable() ? "cuda" : CpuKernels.BackendName;
        }
        name = name.Trim().ToLowerInvariant();
        if (!Names.Contains(name))
        {
            throw new ArgumentException($"unknown device '{name}' (from {(string.IsNullOrWhiteSpace(requested) ? EnvironmentVariable : "--device")}); expected one of: {string.Join(", ", Names)}");
        }
        return name;
    }

    public static IKernels Open(string? requested = null)
    {
        string name = Resolve(requested);
        return name == CpuKernels.BackendName ? new CpuKernels() : IlgpuKernels.Create(name);
    }
}

using EmpSsl.Kernels;
using EmpSsl.Testing;

namespace EmpSsl.Kernels.Tests;

/// <summary>
/// The base of every conformance class: one backend by name, guarded buffers that are freed after each test,
/// and the check that compares a kernel's output with the float64 spec and then its guard bands. The backend is
/// opened inside each test, not in the constructor, so that a missing CUDA device reports the test as skipped.
/// </summary>
public abstract class BackendTest(string backend) : IDisposable
{
    private readonly List<GuardedBuffer> _buffers = new();

    protected string Backend { get; } = backend;

    protected IKernels K => Backends.Open(Backend);

    /// <summary>ILGPU's CPU accelerator: tests pick their small shapes.</summary>
    protected bool Tiny => Backends.IsSimulated(Backend);

    protected GuardedBuffer In(ReadOnlySpan<float> data)
    {
        var b = GuardedBuffer.Upload(K, data);
        _buffers.Add(b);
        return b;
    }

    protected GuardedBuffer Out(int length)
    {
        var b = GuardedBuffer.Poisoned(K, length);
        _buffers.Add(b);
        return b;
    }

    /// <summary>Compares the buffer with the spec's result, then checks its guard bands.</summary>
    protected void Verify(string op, GuardedBuffer actual, ReadOnlySpan<double> expected, Tolerance tol)
    {
        Compare.AssertClose($"{Backend} {op}", expected, actual.Download(), tol);
        actual.CheckGuards($"{Backend} {op}");
    }

    /// <summary>An input must come back bit for bit as it went in, guards included.</summary>
    protected void VerifyUnchanged(string op, GuardedBuffer input, ReadOnlySpan<float> data)
    {
        Compare.AssertClose($"{Backend} {op} (input)", Seeded.Widen(data), input.Download(), Tol.Exact);
        input.CheckGuards($"{Backend} {op} (input)");
    }

    public void Dispose()
    {
        foreach (var b in _buffers)
        {
            b.Dispose();
        }
        _buffers.Clear();
        GC.SuppressFinalize(this);
    }
}

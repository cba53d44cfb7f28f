using ILGPU.Algorithms;

namespace EmpSsl.Train.Data;

/// <summary>One RGB pixel, as <see cref="HueRotation.Shift"/> returns it.</summary>
internal readonly struct Rgb(float r, float g, float b)
{
    public readonly float R = r;
    public readonly float G = g;
    public readonly float B = b;
}

/// <summary>
/// torchvision's adjust_hue for one pixel: to HSV with _rgb2hsv, h = (h + shift) mod 1, back with _hsv2rgb
/// (including its clamps of p, q, t). The host renderer (<see cref="ColorOps"/>, whose vector twin does the same
/// float operations lane by lane) and the ILGPU kernel (<see cref="IlgpuCropKernels"/>) both call this one function,
/// so the two renderers cannot drift apart; XMath compiles for the GPU and runs on the host.
/// </summary>
internal static class HueRotation
{
    public static Rgb Shift(float r, float g, float b, float shift)
    {
        float maxc = XMath.Max(r, XMath.Max(g, b));
        float minc = XMath.Min(r, XMath.Min(g, b));
        bool equal = maxc == minc;
        float cr = maxc - minc;
        float s = cr / (equal ? 1f : maxc);
        float divisor = equal ? 1f : cr;
        float rc = (maxc - r) / divisor;
        float gc = (maxc - g) / divisor;
        float bc = (maxc - b) / divisor;
        float h = maxc == r ? bc - gc : maxc == g ? 2f + rc - bc : 4f + gc - rc;
        // torch.fmod(h / 6 + 1, 1): the argument lies in [5/6, 11/6), where x - floor(x) is exact and far
        // cheaper than the fmodf call C#'s % makes.
        h = h / 6f + 1f;
        h -= XMath.Floor(h);
        h += shift;
        h -= XMath.Floor(h);
        float v = maxc;
        float sector = XMath.Floor(h * 6f);
        float frac = h * 6f - sector;
        int i = (int)sector % 6;
        float pv = Clamp01(v * (1f - s));
        float qv = Clamp01(v * (1f - s * frac));
        float tv = Clamp01(v * (1f - s * (1f - frac)));
        return new Rgb(
            i == 0 || i == 5 ? v : i == 1 ? qv : i == 4 ? tv : pv,
            i == 1 || i == 2 ? v : i == 0 ? tv : i == 3 ? qv : pv,
            i == 3 || i == 4 ? v : i == 2 ? tv : i == 5 ? qv : pv);
    }

    private static float Clamp01(float x) => XMath.Min(XMath.Max(x, 0f), 1f);
}

using System.Text;
using System.Text.RegularExpressions;

namespace EmpSsl.Kernels.Ilgpu;

/// <summary>
/// A PTX pass for kernels with inline PTX. ILGPU 1.5.3 hands every operand of an inline statement (CudaAsm.Emit's
/// out value, EmitRef's Ref and Input values) through a slot of its own in local memory: a `.local` array of 4 or 8
/// bytes, its address moved into a register once, then only `st.local` and `ld.local` through that register. ptxas
/// does not put such slots back in registers: the first TF32 convolution had a 208-byte stack frame per thread and
/// ran at 2.4 TFLOP/s on the H100, 6x slower than the fp32 FMA kernel. A slot used only that way is a scalar
/// variable, so this pass gives it a register of its own and turns its stores and loads into moves. A slot used in
/// any other way (its address offset or passed on, a width that differs from its size) is left as it is, which is
/// always correct, only slower.
/// </summary>
internal static partial class PtxRegisterPromotion
{
    [GeneratedRegex(@"^\s*\.local\s+\.align\s+\d+\s+\.b8\s+(__local_depot\d+)\[(\d+)\];\s*$")]
    private static partial Regex SlotDeclaration();

    [GeneratedRegex(@"^\s*mov\.[bu]64\s+(%rd\d+),\s*(__local_depot\d+);\s*$")]
    private static partial Regex SlotAddress();

    [GeneratedRegex(@"^(\s*)st\.local\.([bfus])(32|64)\s+\[(%rd\d+)\],\s*([^;\s]+);\s*$")]
    private static partial Regex SlotStore();

    [GeneratedRegex(@"^(\s*)ld\.local\.([bfus])(32|64)\s+(%[A-Za-z]+\d+),\s*\[(%rd\d+)\];\s*$")]
    private static partial Regex SlotLoad();

    [GeneratedRegex(@"%rd\d+\b")]
    private static partial Regex AddressToken();

    [GeneratedRegex(@"__local_depot\d+\b")]
    private static partial Regex SlotToken();

    /// <summary>The PTX with every slot that is only stored and loaded moved to a register; counts them.</summary>
    public static string Promote(string ptx, out int promoted)
    {
        var lines = ptx.Split('\n');
        var slotUses = new Dictionary<string, List<int>>();
        var addressUses = new Dictionary<string, List<int>>();
        for (int i = 0; i < lines.Length; i++)
        {
            foreach (Match m in SlotToken().Matches(lines[i]))
            {
                Uses(slotUses, m.Value).Add(i);
            }
            foreach (Match m in AddressToken().Matches(lines[i]))
            {
                Uses(addressUses, m.Value).Add(i);
            }
        }

        promoted = 0;
        var rewritten = new Dictionary<int, string>();
        var removed = new HashSet<int>();
        for (int i = 0; i < lines.Length; i++)
        {
            var decl = SlotDeclaration().Match(lines[i]);
            if (!decl.Success)
            {
                continue;
            }
            string slot = decl.Groups[1].Value;
            int bits = 8 * int.Parse(decl.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            if ((bits != 32 && bits != 64) || slotUses[slot].Count != 2 || slotUses[slot][0] != i)
            {
                continue;
            }
            int movLine = slotUses[slot][1];
            var mov = SlotAddress().Match(lines[movLine]);
            if (!mov.Success || mov.Groups[2].Value != slot)
            {
                continue;
            }
            string address = mov.Groups[1].Value;
            string register = $"%lv{slot["__local_depot".Length..]}";
            var edits = new Dictionary<int, string>();
            bool onlyStoredAndLoaded = true;
            foreach (int use in addressUses[address])
            {
                if (use == movLine)
                {
                    continue;
                }
                var st = SlotStore().Match(lines[use]);
                var ld = SlotLoad().Match(lines[use]);
                if (st.Success && st.Groups[4].Value == address && int.Parse(st.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture) == bits)
                {
                    edits[use] = $"{st.Groups[1].Value}mov.{st.Groups[2].Value}{bits}\t{register}, {st.Groups[5].Value};";
                }
                else if (ld.Success && ld.Groups[5].Value == address && int.Parse(ld.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture) == bits)
                {
                    edits[use] = $"{ld.Groups[1].Value}mov.{ld.Groups[2].Value}{bits}\t{ld.Groups[4].Value}, {register};";
                }
                else
                {
                    onlyStoredAndLoaded = false;
                    break;
                }
            }
            if (!onlyStoredAndLoaded)
            {
                continue;
            }
            rewritten[i] = $"\t.reg .b{bits}\t{register};";
            removed.Add(movLine);
            foreach (var (line, text) in edits)
            {
                rewritten[line] = text;
            }
            promoted++;
        }

        var result = new StringBuilder(ptx.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            if (removed.Contains(i))
            {
                continue;
            }
            result.Append(rewritten.TryGetValue(i, out var text) ? text : lines[i]);
            if (i < lines.Length - 1)
            {
                result.Append('\n');
            }
        }
        return result.ToString();
    }

    private static List<int> Uses(Dictionary<string, List<int>> uses, string token)
    {
        if (!uses.TryGetValue(token, out var list))
        {
            list = new List<int>();
            uses[token] = list;
        }
        return list;
    }
}

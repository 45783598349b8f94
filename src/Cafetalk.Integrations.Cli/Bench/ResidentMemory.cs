using System.Globalization;

namespace Cafetalk.Integrations.Cli.Bench;

/// <summary>
/// A process's resident memory as the Linux kernel counts it in <c>/proc/{pid}/status</c>: VmRSS now and VmHWM, the
/// most it has held so far (the true peak, which sampling can miss). Both are zero where there is no /proc.
/// </summary>
internal readonly record struct ResidentMemory(long CurrentBytes, long PeakBytes)
{
    public static ResidentMemory OfProcess(int pid) => Read($"/proc/{pid}/status");

    public static ResidentMemory OfThisProcess() => Read("/proc/self/status");

    private static ResidentMemory Read(string path)
    {
        try
        {
            long current = 0, peak = 0;
            foreach (var line in File.ReadLines(path))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    current = Kilobytes(line) * 1024;
                }
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    peak = Kilobytes(line) * 1024;
                }
            }

            return new ResidentMemory(current, peak);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return default; // no /proc here, or the process ended between the check and the read
        }
    }

    private static long Kilobytes(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
}

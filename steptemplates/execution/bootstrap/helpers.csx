// Helpers for C# step scripts: Octopus Calamari's static Octopus class, with its members'
// names and output. The csharp language writes this file, followed by a call to
// Octopus.Load, and #loads it before the step's script; dotnet-script runs them in turn.
#nullable enable

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

public static class Octopus
{
    // Names are matched ignoring case, as in Calamari.
    public static Dictionary<string, string> Parameters { get; } =
        new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    // Reads the values file (steptemplates/execution/languages/base.py describes it) and
    // deletes it at once.
    internal static void Load(string valuesFile)
    {
        var lines = File.ReadAllLines(valuesFile, Encoding.ASCII);
        File.Delete(valuesFile);
        foreach (var line in lines)
        {
            var fields = line.Split(' ');
            if (fields[0] == "variable")
            {
                Parameters[Decode(fields[1])] = Decode(fields[2]);
            }
        }
    }

    static string Decode(string field) =>
        Encoding.Unicode.GetString(Convert.FromBase64String(field));

    static string Encode(string? value) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(value ?? ""));

    public static void SetVariable(string name, string value, bool sensitive = false)
    {
        Parameters[name] = value;
        var message = $"##octopus[setVariable name='{Encode(name)}' value='{Encode(value)}'";
        if (sensitive)
        {
            message += $" sensitive='{Encode("True")}'";
        }
        Console.WriteLine(message + "]");
    }

    public static void CreateArtifact(string path, string? fileName = null)
    {
        var fullPath = Path.GetFullPath(path);
        var name = fileName ?? Path.GetFileName(fullPath);
        var length = File.Exists(fullPath) ? new FileInfo(fullPath).Length : 0;
        WriteVerbose($"Artifact {name} will be collected from {fullPath} after this step completes");
        Console.WriteLine(
            $"##octopus[createArtifact path='{Encode(fullPath)}' name='{Encode(name)}'"
            + $" length='{Encode(length.ToString(CultureInfo.InvariantCulture))}']");
    }

    public static void UpdateProgress(int percentage, string message = "")
    {
        var percent = percentage.ToString(CultureInfo.InvariantCulture);
        Console.WriteLine(
            $"##octopus[progress percentage='{Encode(percent)}' message='{Encode(message)}']");
    }

    public static void FailStep(string? message = null)
    {
        if (message != null)
        {
            Console.WriteLine($"##octopus[resultMessage message='{Encode(message)}']");
        }
        // -1 is 255 to the shell, as in Calamari.
        Environment.Exit(-1);
    }

    public static void WriteVerbose(string message) => WriteInMode("verbose", message);

    public static void WriteHighlight(string message) => WriteInMode("highlight", message);

    public static void WriteWait(string message) => WriteInMode("wait", message);

    public static void WriteWarning(string message) => WriteInMode("warning", message);

    static void WriteInMode(string mode, string message)
    {
        Console.WriteLine($"##octopus[stdout-{mode}]");
        Console.WriteLine(message);
        Console.WriteLine("##octopus[stdout-default]");
    }
}

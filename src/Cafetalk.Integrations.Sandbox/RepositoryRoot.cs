namespace Cafetalk.Integrations.Sandbox;

/// <summary>Finds the repository root (the folder holding the solution and package.json).</summary>
public static class RepositoryRoot
{
    public const string SolutionFile = "Cafetalk.Integrations.sln";

    public static string Find()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, SolutionFile)) && File.Exists(Path.Combine(dir.FullName, "package.json")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new SandboxException(
            $"Cannot find the repository root ({SolutionFile} beside package.json) above '{Environment.CurrentDirectory}' " +
            $"or '{AppContext.BaseDirectory}'. Run from inside the cloned repository.");
    }
}

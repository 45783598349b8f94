using System.Reflection;
using Microsoft.Azure.Functions.Worker;

namespace Cafetalk.Integrations.Cli.Serving;

/// <summary>One HTTP function as its attributes declare it.</summary>
internal sealed record FunctionRoute(string Name, string Route, IReadOnlyList<string> Methods, AuthorizationLevel AuthLevel, Type Type, MethodInfo Method);

/// <summary>Reads every HTTP-triggered function of the Functions app from its attributes, so no route is written twice.</summary>
internal static class FunctionRouteTable
{
    public static Assembly FunctionsAssembly => typeof(Functions.FunctionsApplicationBuilderExtensions).Assembly;

    public static IReadOnlyList<FunctionRoute> Read(Assembly? assembly = null)
    {
        var routes = new List<FunctionRoute>();
        foreach (var type in (assembly ?? FunctionsAssembly).GetExportedTypes())
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            {
                if (method.GetCustomAttribute<FunctionAttribute>() is not { } function)
                {
                    continue;
                }

                var trigger = method.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).FirstOrDefault(a => a is not null);
                if (trigger is null)
                {
                    continue;
                }

                var methods = (trigger.Methods ?? ["get", "post"]).Select(m => m.ToUpperInvariant()).ToList();
                routes.Add(new FunctionRoute(function.Name, trigger.Route ?? function.Name, methods, trigger.AuthLevel, type, method));
            }
        }

        return routes;
    }
}

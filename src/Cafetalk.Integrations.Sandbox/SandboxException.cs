namespace Cafetalk.Integrations.Sandbox;

/// <summary>The Sandbox could not start; the message says what is missing and how to fix it.</summary>
public sealed class SandboxException(string message, Exception? inner = null) : Exception(message, inner);

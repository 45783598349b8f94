namespace Cafetalk.Integrations.Sandbox.Contracts;

/// <summary>A contract file that cannot be trusted (unknown key, missing source, bad type): refused on load so a typo cannot allow everything.</summary>
public sealed class ContractFileException(string message) : Exception(message);

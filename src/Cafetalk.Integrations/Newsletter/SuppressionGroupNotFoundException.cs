namespace Cafetalk.Integrations.Newsletter;

/// <summary>A configured suppression group the mail service does not have: names the setting and the group id, never an address.</summary>
public sealed class SuppressionGroupNotFoundException(string message) : InvalidOperationException(message);

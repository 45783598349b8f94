namespace Cafetalk.Integrations.Disclosure;

/// <summary>
/// Something tried to give an erased member a new pseudonym (a late event or webhook): refused, so no mapping and no
/// disclosure is ever re-created for them. Carries no member id.
/// </summary>
public sealed class MemberErasedException()
    : Exception("The member was erased: no new pseudonym or disclosure is recorded for them.");

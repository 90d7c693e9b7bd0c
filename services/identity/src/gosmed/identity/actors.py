"""How the journal names a person: surname with initials, role and organization."""

from gosmed.contracts.access import ROLE_LABELS, Actor, LegalBasis, Role
from gosmed.identity.domain import Account

ROLE_BY_BASIS = {
    LegalBasis.INSURER_CONSENT: Role.INSURER,
    LegalBasis.INSPECTOR_ORDER: Role.INSPECTOR,
    LegalBasis.OPERATOR: Role.OPERATOR,
}


def initials(full_name: str) -> str:
    """«Петров Пётр Петрович» → «Петров П. П.»; a single word stays as it is."""
    surname, *given = full_name.split()
    return " ".join([surname, *(f"{name[0]}." for name in given)])


def describe(account: Account, role: Role, organization: str | None = None) -> Actor:
    """The person acting in `role`, for `organization` (default: the account's own, as for
    insurers and inspectors)."""
    organization = organization or account.organization
    name = initials(account.full_name)
    parts = [name, ROLE_LABELS[role]] if role != Role.CITIZEN else [name]
    return Actor(
        name=name,
        role=role,
        organization=organization,
        label=", ".join([*parts, organization] if organization else parts),
    )


def role_for(basis: LegalBasis) -> Role:
    """The role a basis is exercised in: a representative or parent acts as a citizen."""
    return ROLE_BY_BASIS.get(basis, Role.CITIZEN)

"""Medical organizations' corporate accounts and their staff's powers of attorney: who may act
for which organization, and how far."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from gosmed.contracts.identity.organizations import OrganizationAction, OrganizationDecision

NOT_STAFF = "Вы не уполномочены действовать от имени этой организации."
REVOKED = "Доверенность № {number} отозвана организацией."
NOT_YET_VALID = "Доверенность № {number} действует с {day:%d.%m.%Y}."
EXPIRED = "Срок доверенности № {number} истёк {day:%d.%m.%Y}."
NOT_COVERED = "Доверенность № {number} не включает это действие."


@dataclass(frozen=True)
class CorporateAccount:
    """A medical organization's account, bound to its registry entry (`organization_id`)."""

    organization_id: UUID
    name: str
    ogrn: str


@dataclass(frozen=True)
class StaffAuthority:
    """The organization's power of attorney for one staff account: what the staff member may
    do for it, and until when."""

    number: str
    organization_id: UUID
    staff_id: UUID
    scopes: frozenset[OrganizationAction]
    valid_from: date
    valid_until: date
    revoked: bool = False

    def in_force(self, day: date) -> bool:
        return not self.revoked and self.valid_from <= day <= self.valid_until

    def refusal(self, action: OrganizationAction, day: date) -> str:
        """Why this power of attorney does not allow `action` on `day`; "" when it does."""
        if self.revoked:
            return REVOKED.format(number=self.number)
        if day < self.valid_from:
            return NOT_YET_VALID.format(number=self.number, day=self.valid_from)
        if day > self.valid_until:
            return EXPIRED.format(number=self.number, day=self.valid_until)
        if action not in self.scopes:
            return NOT_COVERED.format(number=self.number)
        return ""


@dataclass(frozen=True)
class JournalEntry:
    """One decision on an action in an organization's name, allowed or not."""

    organization_id: UUID
    at: datetime
    actor_id: UUID
    actor_name: str
    action: OrganizationAction
    subject: str | None
    allowed: bool
    basis_label: str
    reason: str


def basis_label(organization: CorporateAccount, authority: StaffAuthority) -> str:
    return f"доверенность {organization.name} № {authority.number}"


def decide_for_organization(
    actor_id: UUID,
    organization: CorporateAccount | None,
    organization_id: UUID,
    authorities: Iterable[StaffAuthority],
    action: OrganizationAction,
    day: date,
) -> OrganizationDecision:
    """Allowed when one of the actor's powers of attorney from that organization (with a
    corporate account) covers `action` on `day`; else the most telling refusal."""
    denied = OrganizationDecision(
        allowed=False,
        actor_id=actor_id,
        organization_id=organization_id,
        action=action,
        reason=NOT_STAFF,
    )
    own = [a for a in authorities if a.organization_id == organization_id]
    if organization is None or not own:
        return denied
    for authority in own:
        if not authority.refusal(action, day):
            return OrganizationDecision(
                allowed=True,
                actor_id=actor_id,
                organization_id=organization_id,
                action=action,
                power_of_attorney_number=authority.number,
                valid_until=authority.valid_until,
                basis_label=basis_label(organization, authority),
            )
    return denied.model_copy(update={"reason": own[0].refusal(action, day)})


def short_name(full_name: str) -> str:
    """«Морозова Татьяна Николаевна» → «Морозова Т. Н.»."""
    surname, *given = full_name.split()
    return " ".join([surname, *(f"{name[0]}." for name in given)])

"""Representatives of medical organizations: a corporate account bound to the organization's
registry entry, and staff accounts authorised by the organization's power of attorney.

Services that do something for a clinic on a staff member's request (answer a correction,
reply to a review, publish slots, show figures) ask `identity.rpc.authorize-organization-action`
first; identity decides on the staff member's power of attorney and journals every decision
in the organization's journal.
"""

from datetime import date
from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from gosmed.contracts.access import AccessContext
from gosmed.contracts.base import Contract, Message
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service
from gosmed.contracts.types import Snils

MAX_SUBJECT = 200
MAX_JOURNAL_PAGE = 500


class OrganizationAction(StrEnum):
    """What a staff member does for the organization; the scopes of its power of attorney."""

    ANSWER_CORRECTIONS = "answer_corrections"
    REPLY_REVIEWS = "reply_reviews"
    MANAGE_SCHEDULES = "manage_schedules"
    SEE_FIGURES = "see_figures"


class AuthorizeOrganizationAction(Message):
    """May `context.actor_id` do `action` for the organization `organization_id`?"""

    context: AccessContext
    organization_id: UUID = Field(description="Registry id of the organization.")
    action: OrganizationAction
    subject: str | None = Field(
        default=None,
        max_length=MAX_SUBJECT,
        description="What the action is about, for the journal (e.g. «заявление И-…»).",
    )


class OrganizationDecision(Contract):
    """Allow, with the power of attorney it rests on, or deny with the reason (Russian)."""

    allowed: bool
    actor_id: UUID
    organization_id: UUID
    action: OrganizationAction
    power_of_attorney_number: str | None = Field(
        default=None, description="The organization's power of attorney the staff acts on."
    )
    valid_until: date | None = None
    basis_label: str = Field(
        default="", description="Human label, e.g. «доверенность ГП № 7 № ДОВ-ГП7-2026-001»."
    )
    reason: str = Field(default="", description="Why it was denied (Russian).")


class ListOrganizationStaff(Message):
    """The staff authorised by the organization (needs the `see_figures` scope, or an
    operator)."""

    context: AccessContext
    organization_id: UUID


class StaffAuthorityView(Contract):
    staff_id: UUID
    staff_name: str = Field(description="Фамилия И. О.")
    power_of_attorney_number: str
    scopes: tuple[OrganizationAction, ...]
    valid_from: date
    valid_until: date
    revoked: bool


class OrganizationStaffView(Contract):
    organization_id: UUID
    organization_name: str
    items: tuple[StaffAuthorityView, ...]


class GrantStaffAuthority(Message):
    """An operator registers an organization's power of attorney for a staff account (found by
    SNILS); the organization needs a corporate account."""

    context: AccessContext
    organization_id: UUID
    staff_snils: Snils
    number: str = Field(min_length=1, max_length=64, description="Number of the power of attorney.")
    scopes: frozenset[OrganizationAction] = Field(min_length=1)
    valid_from: date
    valid_until: date

    @model_validator(mode="after")
    def _period(self) -> "GrantStaffAuthority":
        if self.valid_until < self.valid_from:
            raise ValueError("valid_until раньше valid_from")
        return self


class RevokeStaffAuthority(Message):
    """An operator records that the organization revoked a power of attorney."""

    context: AccessContext
    organization_id: UUID
    number: str = Field(min_length=1, max_length=64)


class ListOrganizationJournal(Message):
    """What was done (or refused) in the organization's name, newest first (needs
    `see_figures`, or an operator)."""

    context: AccessContext
    organization_id: UUID
    limit: int = Field(default=100, ge=1, le=MAX_JOURNAL_PAGE)


class OrganizationJournalEntry(Contract):
    at: AwareDatetime
    actor_id: UUID
    actor_name: str = Field(description="Фамилия И. О. of the account that acted.")
    action: OrganizationAction
    subject: str | None = None
    allowed: bool
    basis_label: str = ""
    reason: str = ""


class OrganizationJournalView(Contract):
    organization_id: UUID
    items: tuple[OrganizationJournalEntry, ...]


AUTHORIZE_ORGANIZATION_ACTION = Rpc(
    Service.IDENTITY,
    "authorize-organization-action",
    AuthorizeOrganizationAction,
    OrganizationDecision,
)
LIST_ORGANIZATION_STAFF = Rpc(
    Service.IDENTITY, "list-organization-staff", ListOrganizationStaff, OrganizationStaffView
)
LIST_ORGANIZATION_JOURNAL = Rpc(
    Service.IDENTITY,
    "list-organization-journal",
    ListOrganizationJournal,
    OrganizationJournalView,
)
GRANT_STAFF_AUTHORITY = Rpc(
    Service.IDENTITY, "grant-staff-authority", GrantStaffAuthority, StaffAuthorityView
)
REVOKE_STAFF_AUTHORITY = Rpc(
    Service.IDENTITY, "revoke-staff-authority", RevokeStaffAuthority, StaffAuthorityView
)

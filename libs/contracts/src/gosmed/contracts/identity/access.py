"""Who is calling (authenticate) and may they do this for that patient (authorize).

Every service that touches a patient's data asks `identity.rpc.authorize` with the original
person's `AccessContext`, and journals the legal basis the decision names.
"""

from datetime import date
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from gosmed.contracts.access import AccessContext, Actor, LegalBasis, Role
from gosmed.contracts.base import Contract, Message
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service
from gosmed.contracts.types import OmsPolicy, Snils


class ConfirmationLevel(StrEnum):
    """Account confirmation levels of the state portal; medical data needs `confirmed`."""

    SIMPLIFIED = "simplified"
    STANDARD = "standard"
    CONFIRMED = "confirmed"


class Action(StrEnum):
    """What an actor wants to do for a patient; the scopes of a power of attorney."""

    READ_SERVICES = "read_services"
    DOWNLOAD_DOCUMENTS = "download_documents"
    BOOK_APPOINTMENTS = "book_appointments"
    FILE_CORRECTIONS = "file_corrections"
    READ_LAB_RESULTS = "read_lab_results"
    WRITE_REVIEWS = "write_reviews"
    READ_FILES = "read_files"
    MANAGE_FILES = "manage_files"


class Authenticate(Message):
    """Resolve an access token to the person and live session behind it."""

    access_token: str = Field(min_length=1, max_length=4096)


class Principal(Contract):
    """The authenticated person; a revoked or expired session never yields one."""

    account_id: UUID
    session_id: UUID
    roles: frozenset[Role]
    confirmation_level: ConfirmationLevel


class Authorize(Message):
    """May `context.actor_id` do `action` for `context.patient_id` (the actor when None)?"""

    context: AccessContext
    action: Action


class PatientRef(Contract):
    """The identifiers services use to find a patient's data (clinics report by SNILS)."""

    account_id: UUID
    snils: Snils
    oms_policy: OmsPolicy | None = None
    full_name: str
    birth_date: date


class AccessDecision(Contract):
    """Allow or deny, with the legal basis to journal; a denial says why, in Russian."""

    allowed: bool
    actor_id: UUID
    actor: Actor | None = Field(
        default=None, description="Who the actor is, to journal (set when allowed)."
    )
    patient: PatientRef | None = Field(default=None, description="Set when allowed.")
    basis: LegalBasis | None = None
    basis_document_id: str | None = Field(
        default=None, description="Power of attorney id, insurer consent id or inspector order id."
    )
    basis_label: str = Field(
        default="", description="Human label, e.g. «доверенность № 77 АА 1234567»."
    )
    sees_restricted_categories: bool = Field(
        default=False,
        description="May see restricted categories (psychiatry, HIV, STI): only the patient "
        "or a basis that covers them explicitly.",
    )
    reason: str = Field(default="", description="Why access was denied (Russian).")

    @property
    def allowed_patient(self) -> PatientRef:
        """The patient of an allowed decision; a denied one has none."""
        if self.patient is None:
            raise ValueError("a denied access decision names no patient")
        return self.patient


AUTHENTICATE = Rpc(Service.IDENTITY, "authenticate", Authenticate, Principal)
AUTHORIZE = Rpc(Service.IDENTITY, "authorize", Authorize, AccessDecision)

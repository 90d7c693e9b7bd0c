"""Who acts, for whom, and on which legal basis: carried by every message a person is behind."""

from enum import StrEnum
from uuid import UUID

from pydantic import Field, model_validator

from gosmed.contracts.base import Contract


class LegalBasis(StrEnum):
    """Why the actor may act for the patient."""

    OWN_ACCOUNT = "own_account"
    PARENT_OF_MINOR = "parent_of_minor"
    POWER_OF_ATTORNEY = "power_of_attorney"
    INSURER_CONSENT = "insurer_consent"
    INSPECTOR_ORDER = "inspector_order"
    OPERATOR = "operator"
    SHARE = "share"


class Role(StrEnum):
    CITIZEN = "citizen"
    INSURER = "insurer"
    INSPECTOR = "inspector"
    OPERATOR = "operator"
    CLINIC = "clinic"
    DOCTOR = "doctor"
    ORGANIZATION_STAFF = "organization_staff"


BASES_WITH_DOCUMENT = frozenset(
    {
        LegalBasis.POWER_OF_ATTORNEY,
        LegalBasis.INSURER_CONSENT,
        LegalBasis.INSPECTOR_ORDER,
        LegalBasis.SHARE,
    }
)


ROLE_LABELS = {
    Role.CITIZEN: "гражданин",
    Role.INSURER: "представитель страховой компании",
    Role.INSPECTOR: "проверяющий",
    Role.OPERATOR: "оператор портала",
    Role.CLINIC: "медицинская организация",
    Role.ORGANIZATION_STAFF: "сотрудник медицинской организации",
}


class Actor(Contract):
    """Who acted, as a person recognises them; fixed when the access is journaled."""

    name: str = Field(max_length=200, description="Surname with initials, e.g. «Петров П. П.».")
    role: Role
    organization: str | None = Field(
        default=None, max_length=300, description="The organization the person acts for."
    )
    label: str = Field(
        max_length=600,
        description="One line for the journal, e.g. «Петров П. П., проверяющий, Росздравнадзор».",
    )


class AccessContext(Contract):
    """The original person behind a request; downstream services decide on their rights."""

    actor_id: UUID = Field(description="Account id of the person acting.")
    session_id: UUID | None = Field(default=None, description="Server-side session of the actor.")
    patient_id: UUID | None = Field(
        default=None, description="The patient acted for; None when no patient is involved."
    )
    basis: LegalBasis | None = Field(
        default=None,
        description="The basis the actor claims; None lets identity find the one that applies.",
    )
    basis_document_id: str | None = Field(
        default=None,
        max_length=64,
        description="Power of attorney id, insurer consent id, inspector order id or share id.",
    )
    roles: frozenset[Role] = Field(default=frozenset({Role.CITIZEN}))

    @model_validator(mode="after")
    def _document_matches_basis(self) -> "AccessContext":
        if self.basis in BASES_WITH_DOCUMENT and not self.basis_document_id:
            raise ValueError(f"основание {self.basis.value} требует номер документа")
        return self

    @property
    def acts_for_self(self) -> bool:
        return self.patient_id is None or self.patient_id == self.actor_id

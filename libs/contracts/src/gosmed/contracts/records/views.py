"""How a rendered medical service looks to readers (the edge, documents)."""

from datetime import date
from enum import StrEnum
from uuid import UUID

from pydantic import Field, model_validator

from gosmed.contracts.base import Contract
from gosmed.contracts.registry.catalog import ServiceCategory
from gosmed.contracts.types import Kopecks, LocalTime


class CostKind(StrEnum):
    EXACT = "exact"
    FREE = "free"
    NEGOTIABLE = "negotiable"


class Cost(Contract):
    """An exact amount, «бесплатно», or «по согласованию» with how it is calculated."""

    kind: CostKind
    amount: Kopecks | None = Field(default=None, description="Set when kind is `exact`.")
    comment: str | None = Field(
        default=None, max_length=500, description="How a negotiable price is calculated."
    )

    @model_validator(mode="after")
    def _amount_matches_kind(self) -> "Cost":
        if (self.kind == CostKind.EXACT) != (self.amount is not None):
            raise ValueError("сумма указывается только для точной стоимости")
        return self


class CoverageKind(StrEnum):
    OMS = "oms"
    VOLUNTARY_INSURANCE = "voluntary_insurance"
    PAID_BY_PATIENT = "paid_by_patient"


class Coverage(Contract):
    kind: CoverageKind
    insurer_name: str | None = Field(
        default=None, max_length=300, description="The insurer, for voluntary insurance."
    )


class RenderedServiceView(Contract):
    """One rendered service with the registry's current names joined in."""

    id: UUID
    rendered_on: date
    start_time: LocalTime | None = None
    end_time: LocalTime | None = None
    service_code: str
    service_name: str
    category: ServiceCategory
    organization_id: UUID
    organization_name: str | None = Field(
        default=None, description="Current short name from the registry; None if unavailable."
    )
    organization_address: str | None = None
    specialist_id: UUID | None = None
    specialist_name: str | None = None
    specialist_specialty: str | None = None
    diagnosis_code: str | None = Field(default=None, description="ICD-10 code.")
    diagnosis_text: str | None = None
    outcome: str | None = None
    cost: Cost
    coverage: Coverage
    status: str
    department_name: str | None = None
    procedures: tuple[str, ...] = ()

"""One rendered service with everything known about it: versions, prices, tariff, cards."""

from uuid import UUID

from pydantic import AwareDatetime, Field

from gosmed.contracts.access import AccessContext
from gosmed.contracts.base import Contract, Message
from gosmed.contracts.identity.access import PatientRef
from gosmed.contracts.records.corrections import CorrectionView
from gosmed.contracts.records.queries import Notice
from gosmed.contracts.records.views import Cost, RenderedServiceView
from gosmed.contracts.registry.organizations import OrganizationCard
from gosmed.contracts.registry.specialists import SpecialistCard
from gosmed.contracts.registry.tariffs import Tariff
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service


class GetRenderedService(Message):
    context: AccessContext
    record_id: UUID


class RecordVersionView(Contract):
    """A version of the record as the clinic sent it (the current one is the last)."""

    version: int
    reported_at: AwareDatetime
    status: str
    cost: Cost


class CostChangeView(Contract):
    """A row of the price history: the cost from a version on; rows are only appended."""

    version: int
    reported_at: AwareDatetime
    cost: Cost


class PriceFlag(Contract):
    """A price that deserves a second look, with the tariff that says so."""

    code: str = Field(description="`above_tariff` or `oms_charged`.")
    message: str


class RenderedServiceDetail(Contract):
    patient: PatientRef
    item: RenderedServiceView
    clinic_record_id: str
    history: tuple[RecordVersionView, ...]
    cost_history: tuple[CostChangeView, ...]
    tariff: Tariff | None = Field(default=None, description="In force on the service's date.")
    price_flags: tuple[PriceFlag, ...] = ()
    organization: OrganizationCard | None = Field(default=None, description="None: unavailable.")
    specialist: SpecialistCard | None = None
    notices: tuple[Notice, ...] = ()
    basis_label: str = ""
    corrections: tuple[CorrectionView, ...] = Field(
        default=(), description="Correction requests of this record, open ones first."
    )


GET_SERVICE = Rpc(Service.RECORDS, "get-service", GetRenderedService, RenderedServiceDetail)

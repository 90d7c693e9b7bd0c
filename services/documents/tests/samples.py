"""Contract values for the tests (a patient and a history of rendered services) and the
service's ports onto records, identity and the render pool, faked."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4

from gosmed.contracts import demo
from gosmed.contracts.documents.requests import DocumentFormat
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import (
    AUTHORIZE,
    AccessDecision,
    Action,
    Authorize,
    PatientRef,
)
from gosmed.contracts.records.queries import ExportRenderedServices, RenderedServicesExport
from gosmed.contracts.records.views import (
    Cost,
    CostKind,
    Coverage,
    CoverageKind,
    RenderedServiceView,
)
from gosmed.contracts.registry.catalog import ServiceCategory
from gosmed.contracts.topology import Service
from gosmed.documents.domain import DocumentContent, DocumentSpec, compose
from gosmed.documents.gateways import AccessGateway
from gosmed.documents.rendering import render
from gosmed.runtime.rpc import ServiceClient
from gosmed.runtime.testing import FakeRpc

PATIENT = PatientRef(
    account_id=UUID("00000000-0000-4000-8000-000000000001"),
    snils=demo.PATIENT.snils,
    oms_policy=demo.PATIENT.oms_policy,
    full_name=demo.PATIENT.full_name,
    birth_date=demo.PATIENT.birth_date,
)
ORGANIZATION_ID = UUID("00000000-0000-4000-8000-0000000000a1")
FIRST_DAY = date(2025, 1, 9)

_SERVICES = (
    (
        "B01.047.001",
        "Приём (осмотр, консультация) врача-терапевта первичный",
        "J06.9",
        "Острая инфекция верхних дыхательных путей",
        "Выздоровление",
        Cost(kind=CostKind.FREE),
        Coverage(kind=CoverageKind.OMS),
    ),
    (
        "A09.05.023",
        "Исследование уровня глюкозы в крови",
        None,
        None,
        "Выполнено",
        Cost(kind=CostKind.EXACT, amount=45_000),
        Coverage(kind=CoverageKind.VOLUNTARY_INSURANCE, insurer_name="АО «СОГАЗ»"),
    ),
    (
        "B01.064.002",
        "Приём врача-стоматолога-терапевта повторный",
        "K02.1",
        "Кариес дентина",
        "Улучшение",
        Cost(kind=CostKind.EXACT, amount=250_050),
        Coverage(kind=CoverageKind.PAID_BY_PATIENT),
    ),
)


def service(index: int) -> RenderedServiceView:
    code, name, icd, diagnosis, outcome, cost, coverage = _SERVICES[index % len(_SERVICES)]
    return RenderedServiceView(
        id=uuid4(),
        rendered_on=FIRST_DAY + timedelta(days=index),
        start_time=time(9, 30),
        end_time=time(9, 50),
        service_code=code,
        service_name=name,
        category=ServiceCategory.OUTPATIENT_VISIT,
        organization_id=ORGANIZATION_ID,
        organization_name="ГБУЗ «Городская поликлиника № 2 ДЗМ»",
        specialist_name="Смирнов Павел Олегович",
        specialist_specialty="терапевт",
        diagnosis_code=icd,
        diagnosis_text=diagnosis,
        outcome=outcome,
        cost=cost,
        coverage=coverage,
        status="active",
    )


def history(count: int) -> tuple[RenderedServiceView, ...]:
    return tuple(service(i) for i in range(count))


def content(spec: DocumentSpec, items: tuple[RenderedServiceView, ...]) -> DocumentContent:
    document_id = uuid4()
    return compose(
        spec,
        document_id=document_id,
        number="СМУ-20260105-000042",
        issued_at=datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
        patient=PATIENT,
        items=items,
        basis_label="",
        truncated=False,
        verify_url=f"https://gosmed.example/api/v1/verify/{document_id}",
    )


ADDRESS = "anna.ivanova@example.ru"
PARENT_ID = UUID("00000000-0000-4000-8000-0000000000b2")


@dataclass
class FakeRecords:
    export_reply: RenderedServicesExport
    requests: list[ExportRenderedServices] = field(default_factory=list)

    async def export(self, request: ExportRenderedServices) -> RenderedServicesExport:
        self.requests.append(request)
        if request.context.actor_id not in (PATIENT.account_id, PARENT_ID):
            raise ServiceError(ErrorCode.FORBIDDEN, "Нет основания для доступа.")
        return self.export_reply


@dataclass
class FakeProfiles:
    emails: dict[UUID, str]

    async def email_of(self, account_id: UUID) -> str | None:
        return self.emails.get(account_id)


class InlineRenderer:
    """The real renderer, called in this process (the pool is exercised end to end)."""

    async def render(self, content: DocumentContent, document_format: DocumentFormat) -> bytes:
        return render(content, document_format)

    async def run(self, function: Callable[..., bytes], *args: Any) -> bytes:
        return function(*args)


class FakeIdentity:
    """Identity's `authorize` on a FakeRpc: the parent may download the patient's documents
    until `revoke()`; the patient always may; anyone else may not."""

    def __init__(self) -> None:
        self.rpc = FakeRpc()
        self.granted = {(PARENT_ID, PATIENT.account_id)}
        self.rpc.answer(AUTHORIZE, self._authorize)
        self.gateway = AccessGateway(ServiceClient(Service.IDENTITY, self.rpc))

    def revoke(self) -> None:
        self.granted.clear()

    @property
    def asked(self) -> list[Authorize]:
        return self.rpc.sent(AUTHORIZE)

    async def _authorize(self, request: Authorize) -> AccessDecision:
        context = request.context
        patient = context.patient_id or context.actor_id
        allowed = request.action == Action.DOWNLOAD_DOCUMENTS and (
            context.actor_id == patient or (context.actor_id, patient) in self.granted
        )
        if not allowed:
            return AccessDecision(
                allowed=False, actor_id=context.actor_id, reason="Нет основания для доступа."
            )
        return AccessDecision(allowed=True, actor_id=context.actor_id, patient=PATIENT)

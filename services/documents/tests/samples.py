"""Contract values for the tests (a patient and a history of rendered services) and the
service's ports onto records, identity and the render pool, faked."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
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
from gosmed.contracts.records.lab import (
    Analyte,
    AnalyteFlag,
    ExportLabValues,
    LabValue,
    LabValuesExport,
    ReferenceRange,
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


BIOCHEMISTRY = "Анализ крови биохимический общетерапевтический"
BLOOD_COUNT = "Общий (клинический) анализ крови развернутый"
# (glucose, cholesterol, haemoglobin) on four dates 30 days apart from FIRST_DAY
LAB_VISITS = (
    ("5.4", "5.6", "128"),
    ("5.0", "5.3", "125"),
    ("7.2", "5.9", "118"),
    ("5.3", "4.9", "132"),
)


def analyte(
    code: str, loinc: str, name: str, value: str, unit: str, low: str | None, high: str
) -> Analyte:
    number, top = Decimal(value), Decimal(high)
    bottom = Decimal(low) if low else None
    flag = AnalyteFlag.HIGH if number > top else None
    if bottom is not None and number < bottom:
        flag = AnalyteFlag.LOW
    return Analyte(
        code=code,
        loinc=loinc,
        name=name,
        value=value,
        unit=unit,
        reference_range=ReferenceRange(low=bottom, high=top),
        flag=flag,
    )


def lab_values() -> tuple[LabValue, ...]:
    """Glucose and cholesterol (one study) and haemoglobin (another) on four dates; the
    third date has glucose high, cholesterol high and haemoglobin low."""
    values = []
    for index, (glu, chol, hgb) in enumerate(LAB_VISITS):
        ready_at = datetime.combine(FIRST_DAY + timedelta(days=30 * index), time(12), UTC)
        biochemistry, blood_count = uuid4(), uuid4()
        for item in (
            analyte("GLU", "2345-7", "Глюкоза", glu, "ммоль/л", "3.9", "6.1"),
            analyte("CHOL", "2093-3", "Холестерин общий", chol, "ммоль/л", None, "5.2"),
        ):
            values.append(
                LabValue(
                    result_id=biochemistry, ready_at=ready_at, study_name=BIOCHEMISTRY, analyte=item
                )
            )
        values.append(
            LabValue(
                result_id=blood_count,
                ready_at=ready_at,
                study_name=BLOOD_COUNT,
                analyte=analyte("HGB", "718-7", "Гемоглобин", hgb, "г/л", "120", "150"),
            )
        )
    return tuple(values)


def content(
    spec: DocumentSpec,
    items: tuple[RenderedServiceView, ...],
    values: tuple[LabValue, ...] = (),
) -> DocumentContent:
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
        lab_values=values,
    )


ADDRESS = "anna.ivanova@example.ru"
PARENT_ID = UUID("00000000-0000-4000-8000-0000000000b2")


@dataclass
class FakeRecords:
    export_reply: RenderedServicesExport
    lab_values: tuple[LabValue, ...] = ()
    requests: list[ExportRenderedServices] = field(default_factory=list)
    lab_requests: list[ExportLabValues] = field(default_factory=list)

    async def export(self, request: ExportRenderedServices) -> RenderedServicesExport:
        self.requests.append(request)
        if request.context.actor_id not in (PATIENT.account_id, PARENT_ID):
            raise ServiceError(ErrorCode.FORBIDDEN, "Нет основания для доступа.")
        return self.export_reply

    async def export_lab_values(self, request: ExportLabValues) -> LabValuesExport:
        """The values of the asked analytes within the period, as records filters them."""
        self.lab_requests.append(request)
        codes, period = request.analyte_codes, request.period
        values = tuple(
            v
            for v in self.lab_values
            if (not codes or {v.analyte.code, v.analyte.loinc} & codes)
            and (period is None or v.ready_at.date() in period)
        )
        return LabValuesExport(patient=PATIENT, values=values)


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

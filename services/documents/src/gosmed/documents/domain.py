"""What goes into each document: layouts per kind and purpose, totals, lifecycle."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from uuid import UUID

from gosmed.contracts.documents.requests import (
    CertificatePurpose,
    DocumentFormat,
    DocumentKind,
    DocumentStatus,
    DocumentVerification,
    DocumentView,
    EmailStatus,
)
from gosmed.contracts.errors import ErrorCode, ErrorDetail, ServiceError
from gosmed.contracts.identity.access import PatientRef
from gosmed.contracts.records.lab import LabValue, LabValuesExport
from gosmed.contracts.records.queries import RenderedServicesExport
from gosmed.contracts.records.views import CostKind, CoverageKind, RenderedServiceView
from gosmed.contracts.types import DateRange
from gosmed.runtime.masking import mask_name, mask_snils

Cell = date | str | Decimal | None

COVERAGE_TITLES: dict[CoverageKind, str] = {
    CoverageKind.OMS: "ОМС",
    CoverageKind.VOLUNTARY_INSURANCE: "ДМС",
    CoverageKind.PAID_BY_PATIENT: "Платно",
}
MEDIA_TYPES: dict[DocumentFormat, str] = {
    DocumentFormat.PDF: "application/pdf",
    DocumentFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
TITLES: dict[DocumentKind, str] = {
    DocumentKind.STATEMENT: "Сведения об оказанных медицинских услугах",
    DocumentKind.EXTRACT: "Выписка об оказанной медицинской услуге",
    DocumentKind.CERTIFICATE: "Справка об обращениях за медицинской помощью",
    DocumentKind.DYNAMICS: "Динамика лабораторных показателей",
}
PURPOSE_PHRASES: dict[CertificatePurpose, str] = {
    CertificatePurpose.EMPLOYER: "для предъявления по месту работы",
    CertificatePurpose.SCHOOL: "для предъявления по месту учёбы",
    CertificatePurpose.INSURER: "для предъявления в страховую организацию",
}
NARROW_NBSP = "\u202f"


class CellKind(StrEnum):
    DATE = "date"
    TEXT = "text"
    MONEY = "money"


def ddmmyyyy(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def rubles(kopecks: int) -> Decimal:
    return Decimal(kopecks) / 100


def format_rubles(amount: Decimal) -> str:
    """«1 234,50 ₽» with a narrow no-break space between thousands."""
    whole, _, fraction = f"{amount:,.2f}".partition(".")
    return whole.replace(",", NARROW_NBSP) + f",{fraction} ₽"


def cost_cell(item: RenderedServiceView) -> Cell:
    if item.cost.kind == CostKind.EXACT and item.cost.amount is not None:
        return rubles(item.cost.amount)
    if item.cost.kind == CostKind.FREE:
        return Decimal(0)
    return "по согласованию"


def coverage_title(item: RenderedServiceView) -> str:
    title = COVERAGE_TITLES[item.coverage.kind]
    if item.coverage.insurer_name:
        return f"{title} ({item.coverage.insurer_name})"
    return title


def _joined(*parts: str | None) -> str | None:
    text = " ".join(p for p in parts if p)
    return text or None


@dataclass(frozen=True)
class Column:
    title: str
    kind: CellKind
    width: int
    value: Callable[[RenderedServiceView], Cell]


def _rendered_on(item: RenderedServiceView) -> Cell:
    return item.rendered_on


def _time(item: RenderedServiceView) -> Cell:
    return "–".join(t.strftime("%H:%M") for t in (item.start_time, item.end_time) if t) or None


def _service(item: RenderedServiceView) -> Cell:
    return item.service_name


def _code(item: RenderedServiceView) -> Cell:
    return item.service_code


def _organization(item: RenderedServiceView) -> Cell:
    return item.organization_name


def _specialist(item: RenderedServiceView) -> Cell:
    specialty = item.specialist_specialty and f"({item.specialist_specialty})"
    return _joined(item.specialist_name, specialty)


def _diagnosis(item: RenderedServiceView) -> Cell:
    return _joined(item.diagnosis_code, item.diagnosis_text)


def _outcome(item: RenderedServiceView) -> Cell:
    return item.outcome


# Module-level functions (not lambdas), so a composed document pickles to the worker processes.
DATE = Column("Дата", CellKind.DATE, 14, _rendered_on)
TIME = Column("Время", CellKind.TEXT, 12, _time)
SERVICE = Column("Услуга", CellKind.TEXT, 40, _service)
CODE = Column("Код", CellKind.TEXT, 14, _code)
ORGANIZATION = Column("Организация", CellKind.TEXT, 30, _organization)
SPECIALIST = Column("Специалист", CellKind.TEXT, 26, _specialist)
DIAGNOSIS = Column("Диагноз", CellKind.TEXT, 26, _diagnosis)
OUTCOME = Column("Результат", CellKind.TEXT, 20, _outcome)
COST = Column("Стоимость", CellKind.MONEY, 13, cost_cell)
COVERAGE = Column("Оплата", CellKind.TEXT, 14, coverage_title)

STATEMENT_COLUMNS = (
    DATE,
    SERVICE,
    CODE,
    ORGANIZATION,
    SPECIALIST,
    DIAGNOSIS,
    OUTCOME,
    COST,
    COVERAGE,
)
EXTRACT_COLUMNS = (DATE, TIME, *STATEMENT_COLUMNS[1:])
# Each purpose sees only what it needs: an employer or a school the fact and time of a visit,
# an insurer what was paid and how; none of them a diagnosis.
CERTIFICATE_COLUMNS: dict[CertificatePurpose, tuple[Column, ...]] = {
    CertificatePurpose.EMPLOYER: (DATE, TIME, ORGANIZATION),
    CertificatePurpose.SCHOOL: (DATE, TIME, ORGANIZATION),
    CertificatePurpose.INSURER: (DATE, SERVICE, CODE, ORGANIZATION, COST, COVERAGE),
}
# The visits beside a dynamics report: when, what and who, no diagnosis or cost.
VISIT_COLUMNS = (DATE, SERVICE, ORGANIZATION, SPECIALIST)


def describe_period(period: DateRange | None, items: Iterable[RenderedServiceView]) -> str:
    if period is not None:
        return f"с {ddmmyyyy(period.start)} по {ddmmyyyy(period.end)}"
    days = [i.rendered_on for i in items]
    if not days:
        return "за всё время"
    return f"за всё время (с {ddmmyyyy(min(days))} по {ddmmyyyy(max(days))})"


@dataclass(frozen=True)
class Total:
    title: str
    count: int
    amount: Decimal


def totals_by_coverage(items: Iterable[RenderedServiceView]) -> tuple[Total, ...]:
    """Services and exact amounts per kind of payment, then the grand total."""
    counts = dict.fromkeys(CoverageKind, 0)
    amounts = dict.fromkeys(CoverageKind, Decimal(0))
    for item in items:
        counts[item.coverage.kind] += 1
        if item.cost.amount is not None:
            amounts[item.coverage.kind] += rubles(item.cost.amount)
    rows = [Total(COVERAGE_TITLES[k], counts[k], amounts[k]) for k in CoverageKind if counts[k]]
    rows.append(Total("Итого", sum(counts.values()), sum(amounts.values(), Decimal(0))))
    return tuple(rows)


@dataclass(frozen=True)
class Measurement:
    """One value of an analyte; `number` is None for a text value (e.g. «отрицательно»)."""

    taken_on: date
    value: str
    number: Decimal | None
    out_of_range: bool
    study_name: str


@dataclass(frozen=True)
class AnalyteSeries:
    """One analyte's values over the period, oldest first, with its reference range (the
    newest the laboratory gave)."""

    code: str
    name: str
    unit: str | None
    low: Decimal | None
    high: Decimal | None
    reference_text: str
    points: tuple[Measurement, ...]

    @property
    def title(self) -> str:
        return f"{self.name}, {self.unit}" if self.unit else self.name

    @property
    def charted(self) -> tuple[Measurement, ...]:
        """The values a chart can draw: the numeric ones."""
        return tuple(p for p in self.points if p.number is not None)


def _number(value: str) -> Decimal | None:
    try:
        number = Decimal(value.strip().replace(",", "."))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _outside(number: Decimal | None, low: Decimal | None, high: Decimal | None) -> bool:
    if number is None:
        return False
    return (low is not None and number < low) or (high is not None and number > high)


def _reference_text(low: Decimal | None, high: Decimal | None, text: str | None) -> str:
    if text:
        return text
    if low is not None and high is not None:
        return f"{low}–{high}"
    if high is not None:
        return f"< {high}"
    if low is not None:
        return f"> {low}"
    return "—"


def analyte_series(values: Iterable[LabValue]) -> tuple[AnalyteSeries, ...]:
    """Values grouped by analyte (its LOINC code, else the laboratory's), each series oldest
    first, series by name. A value is out of range when the laboratory flagged it or it lies
    outside its own reference range."""
    groups: dict[str, list[LabValue]] = {}
    for value in values:
        groups.setdefault(value.analyte.loinc or value.analyte.code, []).append(value)
    series = []
    for group in groups.values():
        group.sort(key=lambda v: v.ready_at)
        newest = group[-1].analyte
        reference = newest.reference_range
        low = reference.low if reference else None
        high = reference.high if reference else None
        points = []
        for item in group:
            own = item.analyte.reference_range
            number = _number(item.analyte.value)
            points.append(
                Measurement(
                    taken_on=item.ready_at.date(),
                    value=item.analyte.value,
                    number=number,
                    out_of_range=item.analyte.flag is not None
                    or (own is not None and _outside(number, own.low, own.high)),
                    study_name=item.study_name,
                )
            )
        series.append(
            AnalyteSeries(
                code=newest.code,
                name=newest.name,
                unit=newest.unit,
                low=low,
                high=high,
                reference_text=_reference_text(low, high, reference.text if reference else None),
                points=tuple(points),
            )
        )
    return tuple(sorted(series, key=lambda s: s.name))


def missing_analytes(asked: frozenset[str], values: Iterable[LabValue]) -> tuple[str, ...]:
    """The asked codes (the laboratory's or LOINC) no value answers, sorted."""
    found = {c for v in values for c in (v.analyte.code, v.analyte.loinc) if c}
    return tuple(sorted(asked - found))


def require_lab_values(asked: frozenset[str], values: tuple[LabValue, ...]) -> None:
    """A dynamics report needs a value of every asked analyte (of some analyte when none
    was asked) within the period."""
    missing = missing_analytes(asked, values)
    if missing:
        raise ServiceError(
            ErrorCode.NO_LAB_VALUES,
            "За выбранный период нет результатов анализов по показателям: "
            + ", ".join(missing)
            + ". Проверьте коды показателей или выберите другой период.",
            tuple(
                ErrorDetail(
                    field="analytes",
                    code=ErrorCode.NO_LAB_VALUES.value,
                    message=f"нет значений показателя {code} за период",
                )
                for code in missing
            ),
        )
    if not values:
        raise ServiceError(
            ErrorCode.NO_LAB_VALUES,
            "За выбранный период нет результатов анализов: выберите другой период.",
        )


def values_period(values: Iterable[LabValue]) -> DateRange | None:
    """The span of the values' dates (None for no values)."""
    days = [v.ready_at.date() for v in values]
    return DateRange(start=min(days), end=max(days)) if days else None


@dataclass(frozen=True)
class DocumentSource:
    """What records exported for a document: the services, and a dynamics report's values."""

    services: RenderedServicesExport
    lab: LabValuesExport | None = None


@dataclass(frozen=True)
class DocumentSpec:
    """What was asked for."""

    kind: DocumentKind
    format: DocumentFormat
    period: DateRange | None = None
    purpose: CertificatePurpose | None = None


@dataclass(frozen=True)
class DocumentContent:
    """Everything a renderer puts on paper or in a sheet; no I/O, picklable."""

    document_id: UUID
    number: str
    title: str
    issued_at: datetime
    header: tuple[tuple[str, str], ...]
    intro: str | None
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    totals: tuple[Total, ...]
    details: tuple[tuple[str, str], ...]  # a one-service document prints these, not a table
    verify_url: str
    notice: str | None
    series: tuple[AnalyteSeries, ...] = ()  # a dynamics report charts these


DYNAMICS_INTRO = (
    "На графиках — значения показателей за период; затенённая полоса — референсный "
    "интервал (норма) лаборатории, значения вне его отмечены красным ромбом. Под каждым "
    "графиком — таблица значений, в конце документа — визиты за период."
)


def compose(
    spec: DocumentSpec,
    *,
    document_id: UUID,
    number: str,
    issued_at: datetime,
    patient: PatientRef,
    items: tuple[RenderedServiceView, ...],
    basis_label: str,
    truncated: bool,
    verify_url: str,
    lab_values: tuple[LabValue, ...] = (),
) -> DocumentContent:
    """Lay out the document of `spec` for `patient` and the services (and, for a dynamics
    report, the lab values) records exported."""
    items = tuple(sorted(items, key=lambda i: (i.rendered_on, i.start_time or datetime.min.time())))
    name_and_birth = (
        ("Пациент", patient.full_name),
        ("Дата рождения", ddmmyyyy(patient.birth_date)),
    )
    identifiers = (
        ("СНИЛС", mask_snils(patient.snils)),
        ("Полис ОМС", patient.oms_policy or "не указан"),
    )
    issued = (("Дата выдачи", ddmmyyyy(issued_at.date())),)
    basis = (("Основание", basis_label),) if basis_label else ()
    notice = (
        "Показаны не все услуги: сведений больше, чем помещается в один документ. "
        "Уточните период или фильтры."
        if truncated
        else None
    )
    columns: tuple[Column, ...] = ()
    details: tuple[tuple[str, str], ...] = ()
    intro = None
    totals: tuple[Total, ...] = ()
    series: tuple[AnalyteSeries, ...] = ()
    if spec.kind == DocumentKind.STATEMENT:
        header = (
            *name_and_birth,
            *identifiers,
            ("Период", describe_period(spec.period, items)),
            *issued,
            *basis,
        )
        columns, totals = STATEMENT_COLUMNS, totals_by_coverage(items)
    elif spec.kind == DocumentKind.EXTRACT:
        header = (*name_and_birth, *identifiers, *issued, *basis)
        items = items[:1]
        columns = EXTRACT_COLUMNS
        details = tuple((c.title, display(c.value(i))) for i in items for c in columns)
    elif spec.kind == DocumentKind.DYNAMICS:
        period = spec.period or values_period(lab_values)
        header = (
            *name_and_birth,
            *identifiers,
            ("Период", describe_period(period, items)),
            *issued,
            *basis,
        )
        columns, series, intro = VISIT_COLUMNS, analyte_series(lab_values), DYNAMICS_INTRO
    else:
        assert spec.purpose is not None
        columns = CERTIFICATE_COLUMNS[spec.purpose]
        header = (*name_and_birth, ("Период", describe_period(spec.period, items)), *issued)
        if spec.purpose == CertificatePurpose.INSURER:
            header = (*header[:2], *identifiers, *header[2:])
            totals = totals_by_coverage(items)
        intro = (
            f"Справка выдана {PURPOSE_PHRASES[spec.purpose]} в подтверждение того, что "
            f"пациент обращался за медицинской помощью в указанные дни."
        )
    return DocumentContent(
        document_id=document_id,
        number=number,
        title=TITLES[spec.kind],
        issued_at=issued_at,
        header=header,
        intro=intro,
        columns=columns,
        rows=tuple(tuple(c.value(item) for c in columns) for item in items),
        totals=totals,
        details=details,
        verify_url=verify_url,
        notice=notice,
        series=series,
    )


def display(value: Cell) -> str:
    """A cell as printed text: dates ДД.ММ.ГГГГ, money in rubles, «—» for nothing."""
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return format_rubles(value)
    if isinstance(value, date):
        return ddmmyyyy(value)
    return value


def document_number(issued_on: date, sequence: int) -> str:
    return f"СМУ-{issued_on:%Y%m%d}-{sequence:06d}"


@dataclass
class Document:
    """An issued document: who asked for whom, its lifecycle, and the signed hash of its file."""

    id: UUID
    number: str
    spec: DocumentSpec
    actor_id: UUID
    patient_id: UUID
    patient_name: str
    created_at: datetime
    expires_at: datetime
    status: DocumentStatus = DocumentStatus.PENDING
    ready_at: datetime | None = None
    revoked_at: datetime | None = None
    sha256: str | None = None
    signature: bytes | None = None
    key_id: str | None = None
    size: int | None = None
    failure_reason: str | None = None
    email_status: EmailStatus | None = None

    def status_at(self, now: datetime) -> DocumentStatus:
        """A ready or pending document past its expiry answers as expired."""
        if self.status in (DocumentStatus.READY, DocumentStatus.PENDING) and now >= self.expires_at:
            return DocumentStatus.EXPIRED
        return self.status

    def may_be_used_by(self, caller_id: UUID) -> bool:
        """Only the person who requested a document, or its patient, may see or act on it."""
        return caller_id in (self.actor_id, self.patient_id)

    @property
    def filename(self) -> str:
        return f"{self.number}.{self.spec.format.value}"

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.spec.format]

    def view(self, now: datetime) -> DocumentView:
        return DocumentView(
            document_id=self.id,
            number=self.number,
            kind=self.spec.kind,
            format=self.spec.format,
            purpose=self.spec.purpose,
            status=self.status_at(now),
            created_at=self.created_at,
            ready_at=self.ready_at,
            expires_at=self.expires_at,
            revoked_at=self.revoked_at,
            sha256=self.sha256,
            size=self.size,
            failure_reason=self.failure_reason,
            email_status=self.email_status,
        )

    def verification(
        self, *, now: datetime, signature_valid: bool, uploaded_sha256: str | None
    ) -> DocumentVerification:
        """Genuine when issued, not revoked, signed by our key and, if a file was given, the
        same bytes. An expired document stays genuine: expiry only ends downloads."""
        status = self.status_at(now)
        file_matches = None if uploaded_sha256 is None else uploaded_sha256 == self.sha256
        if self.status == DocumentStatus.REVOKED:
            reason = "Документ отозван владельцем и недействителен."
        elif self.sha256 is None:
            reason = "Документ ещё не сформирован или его не удалось сформировать."
        elif not signature_valid:
            reason = "Подпись документа не подтверждается ключом сервиса."
        elif file_matches is False:
            reason = "Файл отличается от выданного: его содержимое было изменено."
        else:
            reason = ""
        return DocumentVerification(
            document_id=self.id,
            genuine=not reason,
            status=status,
            number=self.number,
            kind=self.spec.kind,
            purpose=self.spec.purpose,
            issued_at=self.ready_at,
            issued_to=mask_name(self.patient_name),
            sha256=self.sha256,
            signature_valid=signature_valid,
            file_matches=file_matches,
            reason=reason,
        )

"""Rules of rendered-service records: identity, versions of a reported batch, per-patient
counts, what new records announce, restricted diagnoses, periods, cursors, consent, cost
history, price checks and the registry cards a list shows. No I/O here."""

import re
from collections import Counter
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from gosmed.contracts.identity.notifications import SendNotification
from gosmed.contracts.records.details import CostChangeView, PriceFlag, RecordVersionView
from gosmed.contracts.records.intake import RecordAdded, ReportedService
from gosmed.contracts.records.queries import Notice, NoticeCode, PeriodPreset
from gosmed.contracts.records.views import (
    Cost,
    CostKind,
    Coverage,
    CoverageKind,
    RenderedServiceView,
)
from gosmed.contracts.registry.catalog import ServiceCategory
from gosmed.contracts.registry.organizations import OrganizationCard
from gosmed.contracts.registry.specialists import SpecialistCard
from gosmed.contracts.registry.specialties import SPECIALIST_TITLES, Specialty
from gosmed.contracts.registry.tariffs import Tariff
from gosmed.contracts.types import DateRange
from gosmed.runtime.cursor import decode_cursor, encode_cursor

RECORD_NAMESPACE = uuid5(NAMESPACE_URL, "https://gosmed.example/records")

# What only the patient sees unless their legal basis covers it (psychiatric and narcological
# care, HIV, sexually transmitted infections: Federal laws 3185-1, 38-FZ and 323-FZ art. 13).
# A record is restricted by any one of: its diagnosis, its service code, or the specialty of
# the doctor who rendered it (with the service category).

# ICD-10: mental and behavioural disorders incl. substance use (F00-F99), HIV disease (B20-B24),
# asymptomatic HIV status (Z21), laboratory evidence of HIV (R75), STIs (A50-A64).
RESTRICTED_ICD10_RANGES = (
    ("F00", "F99"),
    ("B20", "B24"),
    ("Z21", "Z21"),
    ("R75", "R75"),
    ("A50", "A64"),
)

# Nomenclature of medical services (order 804н): sections of the specialties of class B (034
# psychotherapy, 035 psychiatry, 036 psychiatry-narcology: every kind of service; 008
# dermatovenereology and 014 infectious diseases: visits, care and examinations, B01-B03, but
# not B04 prevention such as vaccinations), and the laboratory tests for HIV-1/HIV-2 antibodies
# and Treponema pallidum.
RESTRICTED_SERVICE_CODES = re.compile(
    r"^(?:B0[1-5]\.03[4-6]|B0[1-3]\.0(?:08|14)|A26\.06\.0(?:48|49|82))(?:\.|$)"
)

# Specialties whose every service is restricted, and those restricted except in prevention
# (an infectionist's vaccination or a dermatologist's periodic check-up says nothing).
ALWAYS_RESTRICTED_SPECIALTIES = frozenset(
    {Specialty.PSYCHIATRY, Specialty.PSYCHIATRY_NARCOLOGY, Specialty.PSYCHOTHERAPY}
)
RESTRICTED_OUTSIDE_PREVENTION = frozenset(
    {Specialty.DERMATOVENEREOLOGY, Specialty.INFECTIOUS_DISEASES}
)

PAGE_BYTES = 512 * 1024
"""The most JSON the items of one page of a list take; a page ends early, with a cursor, past it."""

PERIOD_DAYS = {
    PeriodPreset.LAST_MONTH: 30,
    PeriodPreset.LAST_QUARTER: 91,
    PeriodPreset.LAST_YEAR: 365,
}


def record_id(organization_id: UUID, clinic_record_id: str) -> UUID:
    """The stable id of a clinic's record: the same (organization, clinic id) gives the same id."""
    return uuid5(RECORD_NAMESPACE, f"{organization_id}/{clinic_record_id}")


def is_restricted(
    diagnosis_code: str | None,
    service_code: str | None = None,
    specialty: Specialty | None = None,
    category: ServiceCategory | None = None,
) -> bool:
    """Whether a record is in a restricted category, by its diagnosis, its service code or the
    specialty of its doctor (in its service category)."""
    if diagnosis_code:
        block = diagnosis_code[:3].upper()
        if any(low <= block <= high for low, high in RESTRICTED_ICD10_RANGES):
            return True
    if service_code and RESTRICTED_SERVICE_CODES.match(service_code.strip().upper()):
        return True
    return specialty is not None and specialty_restricts(specialty, category)


def specialty_restricts(specialty: Specialty, category: ServiceCategory | None) -> bool:
    if specialty in ALWAYS_RESTRICTED_SPECIALTIES:
        return True
    return specialty in RESTRICTED_OUTSIDE_PREVENTION and category != ServiceCategory.PREVENTION


@dataclass(frozen=True)
class HiddenSpecialists:
    """The doctors whose records a reader who may not see restricted categories does not get:
    all their records (`always`), or all but prevention (`outside_prevention`)."""

    always: frozenset[UUID] = frozenset()
    outside_prevention: frozenset[UUID] = frozenset()

    @classmethod
    def of(
        cls, specialties: Mapping[UUID, Specialty | None], asked: Set[UUID]
    ) -> "HiddenSpecialists":
        """From the specialties of the `asked` doctors as far as they are known (None: the
        registry does not know the id, nothing to hide); a doctor whose card could not be
        had at all is hidden, so that a registry outage never shows a psychiatrist's visit."""
        always = {i for i in asked if i not in specialties}
        outside: set[UUID] = set()
        for ident, specialty in specialties.items():
            if specialty in ALWAYS_RESTRICTED_SPECIALTIES:
                always.add(ident)
            elif specialty in RESTRICTED_OUTSIDE_PREVENTION:
                outside.add(ident)
        return cls(frozenset(always), frozenset(outside))

    def hide(self, specialist_id: UUID | None, category: ServiceCategory) -> bool:
        if specialist_id is None:
            return False
        return specialist_id in self.always or (
            specialist_id in self.outside_prevention and category != ServiceCategory.PREVENTION
        )


class Outcome(StrEnum):
    """What a reported service did to its record."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Tally:
    """What one record adds to its patient's counts: one record of an organization,
    restricted or not."""

    patient_snils: str
    organization_id: UUID
    restricted: bool


@dataclass(frozen=True)
class Reported:
    """A reported version of a record, as far as versioning and counting need it."""

    ident: UUID
    version: int
    tally: Tally


@dataclass(frozen=True)
class Kept:
    """What the store holds of a record: its version and what it is counted as."""

    version: int
    tally: Tally


@dataclass
class BatchPlan:
    """How a batch changes the store: each service's outcome (in order), the service whose
    version each changed record takes (by index), and the change of each count."""

    outcomes: list[Outcome] = field(default_factory=list)
    winners: dict[UUID, int] = field(default_factory=dict)
    counts: Counter[Tally] = field(default_factory=Counter)


def plan_batch(batch: Sequence[Reported], kept: Mapping[UUID, Kept]) -> BatchPlan:
    """Apply the batch in order as if one service at a time: a new record is created, a
    higher version replaces the current one, the same or a lower one changes nothing. Counts
    change by the difference between what was kept and what each record ends as."""
    plan = BatchPlan()
    current = {ident: k.version for ident, k in kept.items()}
    for index, service in enumerate(batch):
        was = current.get(service.ident)
        if was is not None and service.version <= was:
            plan.outcomes.append(Outcome.UNCHANGED)
            continue
        plan.outcomes.append(Outcome.CREATED if was is None else Outcome.UPDATED)
        current[service.ident] = service.version
        plan.winners[service.ident] = index
    for ident, index in plan.winners.items():
        before = kept.get(ident)
        if before is not None:
            plan.counts[before.tally] -= 1
        plan.counts[batch[index].tally] += 1
    plan.counts = Counter({t: n for t, n in plan.counts.items() if n})
    return plan


def record_added(ident: UUID, organization_id: UUID, service: ReportedService) -> RecordAdded:
    """The event of a record stored for the first time (the version it was stored with)."""
    return RecordAdded(
        record_id=ident,
        organization_id=organization_id,
        patient_snils=service.patient_snils,
        category=service.category,
        rendered_on=service.rendered_on,
    )


def new_records_notice(patient_snils: str, count: int) -> SendNotification:
    """The one notice a patient gets for the new records of one report, however many."""
    return SendNotification(
        recipient_snils=patient_snils,
        title="Новые сведения об оказанных медицинских услугах",
        body=f"Медицинская организация передала новые записи об оказанных вам услугах: "
        f"{count}. Их можно посмотреть в разделе «Сведения об оказанных медицинских услугах».",
        category="record_added",
        link="/patients/me/services",
    )


def resolve_period(
    period: DateRange | None, preset: PeriodPreset | None, today: date
) -> DateRange | None:
    """An explicit period wins; a preset counts back from today."""
    if period is not None or preset is None:
        return period
    return DateRange(start=today - timedelta(days=PERIOD_DAYS[preset]), end=today)


def search_words(text: str | None) -> list[str]:
    """Lower-cased words of a free-text query, regex-escaped for a substring match."""
    return [re.escape(word) for word in (text or "").lower().split()][:10]


def search_text(*parts: str | None) -> str:
    """What free text is searched in: service, diagnosis, procedures, department."""
    return " ".join(p for p in parts if p).lower()


@dataclass(frozen=True)
class Position:
    """Where a newest-first page ends: the sort key (an ISO date or time) and the entry id."""

    key: str
    ident: str

    @property
    def value(self) -> str:
        """The sort key as stored: ordering these strings orders by (key, id)."""
        return f"{self.key}|{self.ident}"

    def encode(self) -> str:
        return encode_cursor(self.key, self.ident)

    @classmethod
    def decode(cls, cursor: str) -> "Position":
        key, ident = decode_cursor(cursor, datetime.fromisoformat, UUID)
        return cls(key, ident)

    @property
    def moment(self) -> datetime:
        return datetime.fromisoformat(self.key)


def within_bytes(items: list[RenderedServiceView]) -> list[RenderedServiceView]:
    """The leading items whose JSON fits in `PAGE_BYTES`, and never fewer than one, so a page
    of long clinic texts stays small and every page moves the cursor on."""
    kept: list[RenderedServiceView] = []
    used = 0
    for item in items:
        used += len(item.model_dump_json().encode())
        if kept and used > PAGE_BYTES:
            break
        kept.append(item)
    return kept


@dataclass(frozen=True)
class DataConsent:
    """The patient's consent to receive clinic data; none given means nothing is shown."""

    all_clinics: bool = False
    organization_ids: frozenset[UUID] = frozenset()
    updated_at: datetime | None = None

    @property
    def given(self) -> bool:
        return self.all_clinics or bool(self.organization_ids)


@dataclass(frozen=True)
class OrganizationCounts:
    records: int = 0
    restricted: int = 0


@dataclass(frozen=True)
class PatientCounts:
    """A patient's records counted per organization, kept up to date by every intake."""

    organizations: Mapping[UUID, OrganizationCounts] = field(default_factory=dict)

    def hidden_by(self, consent: DataConsent) -> int:
        """Records of organizations the patient has not agreed to receive data from."""
        if consent.all_clinics:
            return 0
        return sum(
            c.records for o, c in self.organizations.items() if o not in consent.organization_ids
        )


def cost_history(versions: list[RecordVersionView]) -> list[CostChangeView]:
    """Versions where the cost changed, oldest first; rows are appended, never rewritten."""
    rows: list[CostChangeView] = []
    for version in sorted(versions, key=lambda v: v.version):
        if not rows or rows[-1].cost != version.cost:
            rows.append(
                CostChangeView(
                    version=version.version, reported_at=version.reported_at, cost=version.cost
                )
            )
    return rows


def check_price(cost: Cost, coverage: Coverage, tariff: Tariff | None) -> list[PriceFlag]:
    """A patient-paid amount above the tariff in force, or an OMS service charged to the
    patient; each flag names the tariff and its normative document when known."""
    flags = []
    charged = cost.kind == CostKind.EXACT and (cost.amount or 0) > 0
    basis = f" Тариф: {rubles(tariff.price)}, {_document(tariff)}." if tariff else ""
    if coverage.kind == CoverageKind.OMS and charged:
        flags.append(
            PriceFlag(
                code="oms_charged",
                message="Услуга оказана по ОМС, но с пациента взята плата "
                f"{rubles(cost.amount or 0)}: по ОМС она бесплатна." + basis,
            )
        )
    if (
        coverage.kind == CoverageKind.PAID_BY_PATIENT
        and charged
        and tariff is not None
        and (cost.amount or 0) > tariff.price
    ):
        flags.append(
            PriceFlag(
                code="above_tariff",
                message=f"Стоимость {rubles(cost.amount or 0)} выше действующего тарифа." + basis,
            )
        )
    return flags


def _document(tariff: Tariff) -> str:
    doc = tariff.document
    return f"{doc.title} № {doc.number} от {doc.date.strftime('%d.%m.%Y')}"


def rubles(kopecks: int) -> str:
    whole, cents = divmod(kopecks, 100)
    return f"{whole:,}".replace(",", "\u00a0") + f",{cents:02d}\u00a0₽"


def notice(code: NoticeCode, count: int | None = None) -> Notice:
    messages = {
        NoticeCode.PROCESSING: "Медицинские организации передают обновлённые данные, "
        "они появятся в течение нескольких минут.",
        NoticeCode.CONSENT_MISSING: "Часть записей скрыта: нет согласия на получение данных "
        "от этих медицинских организаций.",
        NoticeCode.RESTRICTED_HIDDEN: "Записи некоторых категорий (психиатрическая и "
        "наркологическая помощь, ВИЧ-инфекция, инфекции, передаваемые половым путём) по закону "
        "показываются только самому пациенту и здесь могут быть скрыты.",
        NoticeCode.CLINIC_NOT_REPORTED: "Некоторые медицинские организации не ответили "
        "на запрос обновления данных.",
        NoticeCode.REGISTRY_UNAVAILABLE: "Справочник организаций временно недоступен: "
        "названия клиник и врачей не показаны.",
    }
    return Notice(code=code, message=messages[code], count=count)


@dataclass(frozen=True)
class ClinicSync:
    """A patient's data exchange with one clinic: last re-send request and last report."""

    organization_id: UUID
    requested_at: datetime | None = None
    last_report_at: datetime | None = None

    @property
    def waiting(self) -> bool:
        return self.requested_at is not None and (
            self.last_report_at is None or self.last_report_at < self.requested_at
        )

    def may_request(self, now: datetime, cooldown: timedelta) -> bool:
        """Repeated presses of «Обновить» within the cooldown do not reach the clinic again."""
        return self.requested_at is None or now - self.requested_at >= cooldown


def count_notices(
    counts: PatientCounts, consent: DataConsent, sees_restricted: bool
) -> list[Notice]:
    """What a first page says is not on it: records hidden by the consent, and, to whoever
    may not see restricted categories, that such records may be hidden. That notice has no
    count and is given whether or not the patient has such records: a number, or the notice
    appearing only for some patients, would itself tell of psychiatric, HIV or STI care."""
    notices = []
    if hidden := counts.hidden_by(consent):
        notices.append(notice(NoticeCode.CONSENT_MISSING, hidden))
    if not sees_restricted:
        notices.append(notice(NoticeCode.RESTRICTED_HIDDEN))
    return notices


def sync_notices(syncs: list[ClinicSync], now: datetime, answer_within: timedelta) -> list[Notice]:
    """Pending re-send requests: still processing, or the clinic has not reported in time."""
    waiting = [s for s in syncs if s.waiting and s.requested_at is not None]
    late = sum(1 for s in waiting if s.requested_at and now - s.requested_at > answer_within)
    notices = []
    if len(waiting) > late:
        notices.append(notice(NoticeCode.PROCESSING, len(waiting) - late))
    if late:
        notices.append(notice(NoticeCode.CLINIC_NOT_REPORTED, late))
    return notices


@dataclass(frozen=True)
class OrganizationSummary:
    """What a list shows of an organization's registry card."""

    name: str
    address: str

    @classmethod
    def of(cls, card: OrganizationCard) -> "OrganizationSummary":
        return cls(name=card.short_name, address=card.address.one_line)


@dataclass(frozen=True)
class SpecialistSummary:
    """What a list shows of a specialist's registry card."""

    name: str
    specialty: Specialty

    @classmethod
    def of(cls, card: SpecialistCard) -> "SpecialistSummary":
        return cls(name=card.full_name, specialty=card.specialty)

    @property
    def specialty_title(self) -> str:
        return SPECIALIST_TITLES.get(self.specialty, self.specialty.value)

"""Rules of records without I/O: ids, restricted diagnoses, periods, cursors, consent, prices."""

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.records.details import RecordVersionView
from gosmed.contracts.records.queries import NoticeCode, PeriodPreset
from gosmed.contracts.records.views import Cost, CostKind, Coverage, CoverageKind
from gosmed.contracts.registry.catalog import ServiceCategory
from gosmed.contracts.registry.specialties import Specialty
from gosmed.contracts.registry.tariffs import NormativeDocument, Tariff
from gosmed.contracts.types import DateRange
from gosmed.records.domain import (
    ClinicSync,
    HiddenSpecialists,
    Position,
    check_price,
    cost_history,
    is_restricted,
    record_id,
    resolve_period,
    search_words,
    sync_notices,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_record_id_is_stable_per_organization_and_clinic_record() -> None:
    org = uuid4()
    assert record_id(org, "A-1") == record_id(org, "A-1")
    assert record_id(org, "A-1") != record_id(org, "A-2")
    assert record_id(org, "A-1") != record_id(uuid4(), "A-1")


@pytest.mark.parametrize(
    ("code", "restricted"),
    [
        ("F41.1", True),
        ("F99", True),
        ("B20", True),
        ("B24", True),
        ("B25.0", False),
        ("A50.1", True),
        ("A64", True),
        ("A49.9", False),
        ("J06.9", False),
        (None, False),
    ],
)
def test_restricted_chapters(code: str | None, restricted: bool) -> None:
    assert is_restricted(code) is restricted


@pytest.mark.parametrize(
    ("code", "restricted"),
    [
        ("Z21", True),  # asymptomatic HIV status
        ("R75", True),  # laboratory evidence of HIV
        ("Z20.6", False),
    ],
)
def test_hiv_status_codes_are_restricted(code: str, restricted: bool) -> None:
    assert is_restricted(code) is restricted


@pytest.mark.parametrize(
    ("service_code", "restricted"),
    [
        ("B01.035.001", True),  # psychiatrist
        ("b01.036.002", True),  # psychiatrist-narcologist, any case
        ("B04.035.002", True),  # a psychiatrist's preventive examination is psychiatric care
        ("B01.034.001", True),  # psychotherapist
        ("B01.008.001", True),  # dermatovenereologist
        ("B01.014.001", True),  # infectionist
        ("B04.014.004.005", False),  # vaccination (prevention)
        ("A26.06.048", True),  # HIV-1 antibodies
        ("A26.06.082", True),  # Treponema pallidum antibodies
        ("A26.06.0481", False),
        ("B01.047.001", False),
        ("B01.0350", False),
    ],
)
def test_restricted_service_codes(service_code: str, restricted: bool) -> None:
    assert is_restricted(None, service_code) is restricted


@pytest.mark.parametrize(
    ("specialty", "category", "restricted"),
    [
        (Specialty.PSYCHIATRY, ServiceCategory.OUTPATIENT_VISIT, True),
        (Specialty.PSYCHIATRY, ServiceCategory.PREVENTION, True),
        (Specialty.PSYCHIATRY_NARCOLOGY, ServiceCategory.INPATIENT, True),
        (Specialty.PSYCHOTHERAPY, ServiceCategory.PAID, True),
        (Specialty.INFECTIOUS_DISEASES, ServiceCategory.OUTPATIENT_VISIT, True),
        (Specialty.INFECTIOUS_DISEASES, ServiceCategory.PREVENTION, False),
        (Specialty.DERMATOVENEREOLOGY, ServiceCategory.LABORATORY, True),
        (Specialty.DERMATOVENEREOLOGY, ServiceCategory.PREVENTION, False),
        (Specialty.THERAPY, ServiceCategory.OUTPATIENT_VISIT, False),
    ],
)
def test_the_doctors_specialty_restricts_with_the_category(
    specialty: Specialty, category: ServiceCategory, restricted: bool
) -> None:
    assert is_restricted(None, "B01.047.001", specialty, category) is restricted


def test_hidden_specialists_hide_a_doctor_whose_card_could_not_be_had() -> None:
    psychiatrist, infectionist, therapist, unknown, unreachable = (uuid4() for _ in range(5))
    hidden = HiddenSpecialists.of(
        {
            psychiatrist: Specialty.PSYCHIATRY,
            infectionist: Specialty.INFECTIOUS_DISEASES,
            therapist: Specialty.THERAPY,
            unknown: None,  # the registry does not know the id
        },
        {psychiatrist, infectionist, therapist, unknown, unreachable},
    )
    visit, prevention = ServiceCategory.OUTPATIENT_VISIT, ServiceCategory.PREVENTION
    assert hidden.hide(psychiatrist, prevention)
    assert hidden.hide(infectionist, visit)
    assert not hidden.hide(infectionist, prevention)
    assert not hidden.hide(therapist, visit)
    assert not hidden.hide(unknown, visit)
    assert hidden.hide(unreachable, visit)  # the registry did not answer: hide, never show
    assert not hidden.hide(None, visit)


def test_period_presets_count_back_from_today_and_an_explicit_period_wins() -> None:
    today = date(2026, 11, 25)
    assert resolve_period(None, PeriodPreset.LAST_MONTH, today) == DateRange(
        start=date(2026, 10, 26), end=today
    )
    explicit = DateRange(start=date(2020, 1, 1), end=date(2020, 2, 1))
    assert resolve_period(explicit, PeriodPreset.LAST_YEAR, today) == explicit
    assert resolve_period(None, None, today) is None


def test_cursor_round_trips_and_a_forged_one_is_a_validation_error() -> None:
    position = Position("2026-01-02", str(uuid4()))
    assert Position.decode(position.encode()) == position
    for forged in ("nonsense", "MjAyNi0wMS0wMnxub3QtYS11dWlk"):
        with pytest.raises(ServiceError) as caught:
            Position.decode(forged)
        assert caught.value.code == ErrorCode.VALIDATION_FAILED


def test_search_words_are_lowercased_and_escaped() -> None:
    assert search_words("Прием  ВРАЧА.") == ["прием", r"врача\."]
    assert search_words(None) == []


def version(number: int, cost: Cost) -> RecordVersionView:
    return RecordVersionView(
        version=number, reported_at=NOW + timedelta(days=number), status="completed", cost=cost
    )


def test_cost_history_appends_a_row_per_change_only() -> None:
    free = Cost(kind=CostKind.FREE)
    paid = Cost(kind=CostKind.EXACT, amount=100_000)
    rows = cost_history([version(3, paid), version(1, free), version(2, free)])
    assert [(r.version, r.cost) for r in rows] == [(1, free), (3, paid)]


def tariff(price: int) -> Tariff:
    return Tariff(
        service_code="B01.047.001",
        price=price,
        effective_from=date(2026, 1, 1),
        region_code="77",
        document=NormativeDocument(
            title="Тарифное соглашение",
            number="77-ТС/2026",
            date=date(2025, 12, 27),
            url="https://tfoms77.example.ru/ts.pdf",
        ),
        updated_at=NOW,
    )


def test_price_check_flags_above_tariff_and_oms_charged_with_the_document() -> None:
    paid = Coverage(kind=CoverageKind.PAID_BY_PATIENT)
    oms = Coverage(kind=CoverageKind.OMS)
    amount = Cost(kind=CostKind.EXACT, amount=250_000)

    [above] = check_price(amount, paid, tariff(200_000))
    [charged] = check_price(amount, oms, tariff(200_000))

    assert above.code == "above_tariff"
    assert "2\u00a0500,00\u00a0₽" in above.message
    assert "77-ТС/2026 от 27.12.2025" in above.message
    assert charged.code == "oms_charged"
    assert check_price(amount, paid, tariff(250_000)) == []
    assert check_price(Cost(kind=CostKind.FREE), oms, None) == []


def test_sync_notices_tell_processing_from_a_clinic_that_did_not_answer() -> None:
    window = timedelta(minutes=10)
    org = uuid4()
    recent = ClinicSync(org, requested_at=NOW - timedelta(minutes=1))
    late = ClinicSync(org, requested_at=NOW - timedelta(hours=1))
    answered = ClinicSync(org, requested_at=NOW - timedelta(hours=1), last_report_at=NOW)

    assert [n.code for n in sync_notices([recent], NOW, window)] == [NoticeCode.PROCESSING]
    assert [n.code for n in sync_notices([late], NOW, window)] == [NoticeCode.CLINIC_NOT_REPORTED]
    assert sync_notices([answered], NOW, window) == []
    assert not recent.may_request(NOW, timedelta(minutes=5))
    assert late.may_request(NOW, timedelta(minutes=5))

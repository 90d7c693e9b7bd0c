"""Layout rules and lifecycle, without I/O."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from gosmed.contracts.documents.requests import DocumentFormat, DocumentKind, DocumentStatus
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.types import DateRange
from gosmed.documents.domain import (
    Document,
    DocumentSpec,
    Total,
    analyte_series,
    describe_period,
    display,
    missing_analytes,
    require_lab_values,
    totals_by_coverage,
    values_period,
)

from .samples import FIRST_DAY, history, lab_values

NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def test_totals_by_coverage_sum_exact_amounts_only() -> None:
    assert totals_by_coverage(history(6)) == (
        Total("ОМС", 2, Decimal(0)),
        Total("ДМС", 2, Decimal("900.00")),
        Total("Платно", 2, Decimal("5001.00")),
        Total("Итого", 6, Decimal("5901.00")),
    )


def test_cells_print_in_russian_formats() -> None:
    assert display(date(2025, 3, 9)) == "09.03.2025"
    assert display(Decimal("1234567.5")) == "1\u202f234\u202f567,50 ₽"
    assert display(None) == "—"


def test_period_is_the_asked_one_or_the_span_of_the_services() -> None:
    asked = DateRange(start=date(2025, 1, 1), end=date(2025, 3, 31))
    assert describe_period(asked, ()) == "с 01.01.2025 по 31.03.2025"
    assert describe_period(None, history(3)) == "за всё время (с 09.01.2025 по 11.01.2025)"


def test_ready_document_expires_but_revoked_stays_revoked() -> None:
    document = Document(
        id=uuid4(),
        number="СМУ-20260105-000001",
        spec=DocumentSpec(DocumentKind.STATEMENT, DocumentFormat.PDF),
        actor_id=uuid4(),
        patient_id=uuid4(),
        patient_name="Иванова Анна Сергеевна",
        created_at=NOW,
        expires_at=NOW + timedelta(hours=1),
        status=DocumentStatus.READY,
    )
    assert document.status_at(NOW) == DocumentStatus.READY
    assert document.status_at(NOW + timedelta(hours=1)) == DocumentStatus.EXPIRED
    document.status = DocumentStatus.REVOKED
    assert document.status_at(NOW + timedelta(hours=1)) == DocumentStatus.REVOKED
    assert document.may_be_used_by(document.actor_id)
    assert document.may_be_used_by(document.patient_id)
    assert not document.may_be_used_by(uuid4())


def test_lab_values_become_one_series_per_analyte_oldest_first_with_out_of_range_points() -> None:
    values = lab_values()
    shuffled = values[::-1]

    series = {s.code: s for s in analyte_series(shuffled)}

    assert [s.name for s in analyte_series(shuffled)] == [
        "Гемоглобин",
        "Глюкоза",
        "Холестерин общий",
    ]
    glucose = series["GLU"]
    assert glucose.title == "Глюкоза, ммоль/л"
    assert (glucose.low, glucose.high) == (Decimal("3.9"), Decimal("6.1"))
    assert [p.value for p in glucose.points] == ["5.4", "5.0", "7.2", "5.3"]
    assert [p.taken_on for p in glucose.points] == sorted(p.taken_on for p in glucose.points)
    assert [p.out_of_range for p in glucose.points] == [False, False, True, False]
    assert [p.out_of_range for p in series["HGB"].points] == [False, False, True, False]
    assert series["CHOL"].reference_text == "< 5.2"
    assert [p.out_of_range for p in series["CHOL"].points] == [True, True, True, False]


def test_an_unflagged_value_outside_its_range_is_out_of_range_and_a_text_is_not_charted() -> None:
    first, second, *_ = (v for v in lab_values() if v.analyte.code == "GLU")
    unflagged = first.model_copy(
        update={"analyte": first.analyte.model_copy(update={"value": "9,5", "flag": None})}
    )
    text = second.model_copy(
        update={"analyte": second.analyte.model_copy(update={"value": "гемолиз"})}
    )

    (series,) = analyte_series((unflagged, text))

    assert [(p.number, p.out_of_range) for p in series.points] == [
        (Decimal("9.5"), True),
        (None, False),
    ]
    assert [p.value for p in series.charted] == ["9,5"]


def test_values_of_an_analyte_are_grouped_by_loinc_across_laboratory_codes() -> None:
    glucose = [v for v in lab_values() if v.analyte.code == "GLU"]
    other_lab = glucose[1].model_copy(
        update={"analyte": glucose[1].analyte.model_copy(update={"code": "GLUC"})}
    )

    (series,) = analyte_series((glucose[0], other_lab))

    assert len(series.points) == 2
    assert series.code == "GLUC"  # named as the newest value's laboratory names it


def test_a_dynamics_report_needs_values_of_every_asked_analyte() -> None:
    values = lab_values()
    require_lab_values(frozenset({"GLU", "718-7"}), values)  # a lab code and a LOINC code
    require_lab_values(frozenset(), values)

    with pytest.raises(ServiceError) as unknown:
        require_lab_values(frozenset({"GLU", "K", "NA"}), values)
    assert unknown.value.code == ErrorCode.NO_LAB_VALUES
    assert "K, NA" in unknown.value.message
    assert [(d.field, d.code) for d in unknown.value.details] == [
        ("analytes", "no_lab_values"),
        ("analytes", "no_lab_values"),
    ]
    with pytest.raises(ServiceError) as none:
        require_lab_values(frozenset(), ())
    assert none.value.code == ErrorCode.NO_LAB_VALUES
    assert missing_analytes(frozenset({"2345-7", "X"}), values) == ("X",)


def test_the_period_of_values_spans_their_dates() -> None:
    assert values_period(lab_values()) == DateRange(
        start=FIRST_DAY, end=FIRST_DAY + timedelta(days=90)
    )
    assert values_period(()) is None

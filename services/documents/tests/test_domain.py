"""Layout rules and lifecycle, without I/O."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

from gosmed.contracts.documents.requests import DocumentFormat, DocumentKind, DocumentStatus
from gosmed.contracts.types import DateRange
from gosmed.documents.domain import (
    Document,
    DocumentSpec,
    Total,
    describe_period,
    display,
    totals_by_coverage,
)

from .samples import history

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

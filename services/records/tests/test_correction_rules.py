"""Rules of corrections: the due day on the Russian production calendar, the status flow and
the overdue flag on a given clock."""

from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import pytest

from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.notifications import NotificationChannel
from gosmed.contracts.records.corrections import CorrectionChanges, CorrectionStatus
from gosmed.records.correction_rules import (
    Correction,
    CorrectionFigures,
    answer_figures,
    answer_notice,
    answer_working_days,
    correction_number,
    correction_stats,
    due_on,
    moscow_day,
    proposed_changes,
)


@pytest.mark.parametrize(
    ("filed_on", "expected"),
    [
        # Wed 29 Oct 2025. The 2025 calendar (government decree of 4 Oct 2024 No. 1335) makes
        # Saturday 1 Nov a working day and moves its day off to Monday 3 Nov; Tue 4 Nov is
        # Unity Day. Working days after filing: Thu 30 Oct (1), Fri 31 Oct (2), Sat 1 Nov (3),
        # Wed 5 Nov (4), Thu 6 Nov (5).
        (date(2025, 10, 29), date(2025, 11, 6)),
        # Mon 29 Dec 2025. Wed 31 Dec 2025 is a day off moved from Sun 5 Jan 2025; 1-8 Jan 2026
        # are the New Year holidays and Christmas, Fri 9 Jan 2026 a day off moved from Sat
        # 3 Jan (decree of 24 Sep 2025 No. 1466), then the weekend. Working days: Tue 30 Dec
        # (1), Mon 12 Jan (2), Tue 13 (3), Wed 14 (4), Thu 15 Jan (5).
        (date(2025, 12, 29), date(2026, 1, 15)),
        # Filed on the transferred working Saturday 1 Nov 2025 itself (not counted): Wed 5 (1),
        # Thu 6 (2), Fri 7 (3), Mon 10 (4), Tue 11 Nov (5).
        (date(2025, 11, 1), date(2025, 11, 11)),
        # Fri 31 Oct 2025: the working Saturday counts as the 1st day: Sat 1 Nov (1), Wed 5 (2),
        # Thu 6 (3), Fri 7 (4), Mon 10 Nov (5).
        (date(2025, 10, 31), date(2025, 11, 10)),
        # An ordinary week: Mon 15 Sep 2025 -> Mon 22 Sep (Tue..Fri, then Monday).
        (date(2025, 9, 15), date(2025, 9, 22)),
    ],
)
def test_due_on_counts_working_days_of_the_russian_calendar(filed_on: date, expected: date) -> None:
    assert due_on(filed_on) == expected


def test_the_filing_day_is_the_moscow_day() -> None:
    # 22:30 UTC on 28 Oct is 01:30 on 29 Oct in Moscow (UTC+3)
    assert moscow_day(datetime(2025, 10, 28, 22, 30, tzinfo=UTC)) == date(2025, 10, 29)


def _correction(status: CorrectionStatus = CorrectionStatus.SENT) -> Correction:
    ident = uuid4()
    filed_at = datetime(2025, 10, 29, 9, 0, tzinfo=UTC)
    return Correction(
        id=ident,
        number=correction_number(ident, filed_at),
        record_id=uuid4(),
        organization_id=uuid4(),
        patient_snils="11223344595",
        status=status,
        changes=(),
        comment="Дата неверная",
        filed_at=filed_at,
        due_on=date(2025, 11, 6),
    )


def test_an_open_request_is_overdue_only_after_its_due_day() -> None:
    correction = _correction()
    # 23:59 Moscow on the due day: still in time
    assert not correction.overdue(datetime(2025, 11, 6, 20, 59, tzinfo=UTC))
    # 00:00 Moscow on the next day: late
    assert correction.overdue(datetime(2025, 11, 6, 21, 0, tzinfo=UTC))
    assert correction.view(datetime(2025, 11, 7, 12, tzinfo=UTC)).overdue


def test_an_answered_request_is_never_overdue() -> None:
    late = datetime(2025, 12, 1, tzinfo=UTC)
    answered = _correction().answered(False, "Дата верна", late)
    assert answered.status == CorrectionStatus.REJECTED
    assert answered.reason == "Дата верна"
    assert not answered.overdue(late)


def test_status_flow() -> None:
    now = datetime(2025, 10, 30, tzinfo=UTC)
    filed = _correction(CorrectionStatus.FILED)
    assert filed.sent().status == CorrectionStatus.SENT
    accepted = filed.sent().answered(True, "ignored", now)
    assert (accepted.status, accepted.reason, accepted.answered_at) == (
        CorrectionStatus.ACCEPTED,
        None,
        now,
    )
    assert accepted.sent().status == CorrectionStatus.ACCEPTED  # a late relay changes nothing
    assert filed.withdrawn(now).status == CorrectionStatus.WITHDRAWN
    for closed in (accepted, filed.withdrawn(now)):
        with pytest.raises(ServiceError) as answered:
            closed.answered(True, None, now)
        assert answered.value.code == ErrorCode.CONFLICT
        with pytest.raises(ServiceError) as withdrawn:
            closed.withdrawn(now)
        assert withdrawn.value.code == ErrorCode.CONFLICT


def test_proposed_changes_stand_beside_current_values_and_drop_equal_ones() -> None:
    changes = CorrectionChanges(rendered_on=date(2025, 10, 1), service_code="B01.047.001")
    rows = proposed_changes(changes, {"rendered_on": "2025-10-02", "service_code": "B01.047.001"})
    assert [(r.field, r.current, r.proposed) for r in rows] == [
        ("rendered_on", "2025-10-02", "2025-10-01")
    ]


def test_the_answer_notice_goes_to_inbox_and_email_with_the_reason() -> None:
    now = datetime(2025, 10, 30, tzinfo=UTC)
    notice = answer_notice(_correction().answered(False, "Услуга оказана в этот день", now))
    assert notice.channels == {NotificationChannel.INBOX, NotificationChannel.EMAIL}
    assert "отклонено" in notice.title
    assert "Услуга оказана в этот день" in notice.body
    assert "принято" in answer_notice(_correction().answered(True, None, now)).title


def test_answer_working_days_skip_days_off_and_holidays() -> None:
    assert answer_working_days(date(2025, 10, 29), date(2025, 10, 29)) == 0
    # Thu 30, Fri 31 Oct, the working Saturday 1 Nov, then (3-4 Nov off) Wed 5 Nov
    assert answer_working_days(date(2025, 10, 29), date(2025, 11, 5)) == 4
    # Tue 30 Dec, then nothing until Mon 12 Jan 2026
    assert answer_working_days(date(2025, 12, 29), date(2026, 1, 12)) == 2


def test_an_answers_figures() -> None:
    base = _correction()  # filed Wed 29 Oct 2025, due Thu 6 Nov
    on_time = base.answered(True, None, datetime(2025, 10, 30, 9, tzinfo=UTC))
    late = base.answered(False, "нет", datetime(2025, 11, 10, 9, tzinfo=UTC))
    # 30, 31 Oct, the working Saturday 1 Nov, 5, 6, 7, 10 Nov = 7
    assert (answer_figures(on_time), answer_figures(late)) == ((1, False), (7, True))
    assert answer_figures(base) is None
    assert answer_figures(base.withdrawn(datetime(2025, 11, 10, tzinfo=UTC))) is None


def test_a_clinics_figures() -> None:
    figures = CorrectionFigures(requests=4, open=1, accepted=1, rejected=1, answer_days=(1, 7))
    stats = correction_stats(UUID(int=1), figures)
    assert (stats.requests, stats.open, stats.accepted, stats.rejected) == (4, 1, 1, 1)
    assert stats.median_answer_working_days == 4.0
    assert correction_stats(UUID(int=1), CorrectionFigures()).median_answer_working_days is None

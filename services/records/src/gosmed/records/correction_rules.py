"""Rules of corrections: when the clinic must answer (working days of the Russian production
calendar, transferred days off included), the status flow, the overdue flag, and what the
patient proposes beside what the record says. No I/O here."""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from statistics import median
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import holidays
from pydantic import JsonValue

from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.notifications import NotificationChannel, SendNotification
from gosmed.contracts.records.corrections import (
    OPEN_STATUSES,
    WORKING_DAYS_TO_ANSWER,
    ChangeView,
    CorrectionAttachment,
    CorrectionChanges,
    CorrectionStats,
    CorrectionStatus,
    CorrectionView,
)

ANSWERED_STATUSES = frozenset({CorrectionStatus.ACCEPTED, CorrectionStatus.REJECTED})
MOSCOW = ZoneInfo("Europe/Moscow")
"""The portal's calendar day: a request filed at 23:30 Moscow time is filed that Moscow day."""


@lru_cache(maxsize=1)
def _calendar() -> holidays.HolidayBase:
    # The calendar of days off, with the government's transfers (a Saturday made a working
    # day, a Monday made a day off) that the package keeps per year.
    return holidays.country_holidays("RU")


def due_on(filed_on: date, working_days: int = WORKING_DAYS_TO_ANSWER) -> date:
    """The `working_days`-th working day after `filed_on` (the filing day itself not counted)."""
    answer: date = _calendar().get_nth_working_day(filed_on, working_days)
    return answer


def answer_working_days(filed_on: date, answered_on: date) -> int:
    """Working days from the day after filing to the answer's day (0: answered the same day)."""
    if answered_on <= filed_on:
        return 0
    count: int = _calendar().get_working_days_count(filed_on + timedelta(days=1), answered_on)
    return count


@dataclass(frozen=True)
class CorrectionFigures:
    """A clinic's requests as the store counts them (`CorrectionsRepository.figures`)."""

    requests: int = 0
    open: int = 0
    accepted: int = 0
    rejected: int = 0
    withdrawn: int = 0
    overdue: int = 0
    answered_late: int = 0
    answer_days: tuple[int, ...] = ()
    """Working days to each answer (`answer_figures`)."""


def correction_stats(organization_id: UUID, figures: CorrectionFigures) -> CorrectionStats:
    days = figures.answer_days
    return CorrectionStats(
        organization_id=organization_id,
        requests=figures.requests,
        open=figures.open,
        accepted=figures.accepted,
        rejected=figures.rejected,
        withdrawn=figures.withdrawn,
        overdue=figures.overdue,
        answered_late=figures.answered_late,
        median_answer_working_days=float(median(days)) if days else None,
    )


def answer_figures(correction: "Correction") -> tuple[int, bool] | None:
    """Of an answered request: the working days from filing to the answer, and whether it
    came after `due_on` (kept with the request, counted by the store)."""
    if correction.answered_at is None or correction.status not in ANSWERED_STATUSES:
        return None
    answered_on = moscow_day(correction.answered_at)
    days = answer_working_days(moscow_day(correction.filed_at), answered_on)
    return days, answered_on > correction.due_on


def moscow_day(moment: datetime) -> date:
    return moment.astimezone(MOSCOW).date()


def correction_number(ident: UUID, filed_at: datetime) -> str:
    """A short number to quote on the phone: the Moscow filing day and six hex digits."""
    return f"И-{moscow_day(filed_at):%Y%m%d}-{ident.hex[:6].upper()}"


def current_values(record: dict[str, Any]) -> dict[str, JsonValue]:
    """The record's fields as JSON, named as `CorrectionChanges` names them."""
    values: dict[str, JsonValue] = {
        name: record.get(name) for name in CorrectionChanges.model_fields if name != "diagnosis"
    }
    if record.get("diagnosis_code"):
        values["diagnosis"] = {"code": record["diagnosis_code"], "text": record["diagnosis_text"]}
    return values


def proposed_changes(changes: CorrectionChanges, current: dict[str, JsonValue]) -> list[ChangeView]:
    """Each proposed field beside the record's value (as JSON); a proposal equal to the
    current value is no change and is dropped."""
    rows = []
    for name, proposed in changes.model_dump(mode="json", exclude_none=True).items():
        now: JsonValue = current.get(name)
        if now != proposed:
            rows.append(ChangeView(field=name, current=now, proposed=proposed))
    return rows


@dataclass(frozen=True)
class Correction:
    """A correction request as the store keeps it."""

    id: UUID
    number: str
    record_id: UUID
    organization_id: UUID
    patient_snils: str
    status: CorrectionStatus
    changes: tuple[ChangeView, ...]
    comment: str | None
    filed_at: datetime
    due_on: date
    answered_at: datetime | None = None
    reason: str | None = None
    escalated_at: datetime | None = None
    attachments: tuple[CorrectionAttachment, ...] = ()

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES

    def overdue(self, now: datetime) -> bool:
        """Still unanswered after its due day (Moscow time)."""
        return self.open and moscow_day(now) > self.due_on

    def sent(self) -> "Correction":
        return replace(self, status=CorrectionStatus.SENT) if self.open else self

    def answered(self, accepted: bool, reason: str | None, now: datetime) -> "Correction":
        """The clinic's answer closes an open request; an answer to a closed one is refused
        (a redelivered answer that changes nothing is the caller's to recognize)."""
        if not self.open:
            raise ServiceError(
                ErrorCode.CONFLICT, f"Заявление {self.number} уже закрыто ({self.status.value})."
            )
        status = CorrectionStatus.ACCEPTED if accepted else CorrectionStatus.REJECTED
        return replace(self, status=status, answered_at=now, reason=None if accepted else reason)

    def withdrawn(self, now: datetime) -> "Correction":
        if not self.open:
            raise ServiceError(
                ErrorCode.CONFLICT, "Отозвать можно только заявление, которое ещё рассматривается."
            )
        return replace(self, status=CorrectionStatus.WITHDRAWN, answered_at=now)

    def view(self, now: datetime) -> CorrectionView:
        return CorrectionView(
            id=self.id,
            number=self.number,
            record_id=self.record_id,
            organization_id=self.organization_id,
            status=self.status,
            changes=self.changes,
            comment=self.comment,
            attachments=self.attachments,
            filed_at=self.filed_at,
            due_on=self.due_on,
            overdue=self.overdue(now),
            answered_at=self.answered_at,
            reason=self.reason,
            escalated_at=self.escalated_at,
        )


def answer_notice(correction: Correction) -> SendNotification:
    """What the patient gets in the inbox and by e-mail when the clinic answers."""
    if correction.status == CorrectionStatus.ACCEPTED:
        title = f"Заявление об исправлении № {correction.number} принято"
        body = (
            f"Медицинская организация подтвердила ошибку по заявлению № {correction.number} "
            "и передала исправленную запись. Она показана в разделе «Сведения об оказанных "
            "медицинских услугах»."
        )
    else:
        title = f"Заявление об исправлении № {correction.number} отклонено"
        body = (
            f"Медицинская организация отклонила заявление № {correction.number}. "
            f"Причина: {correction.reason}"
        )
    return SendNotification(
        recipient_snils=correction.patient_snils,
        title=title,
        body=body,
        channels=frozenset({NotificationChannel.INBOX, NotificationChannel.EMAIL}),
        category="correction_answered",
        link=f"/patients/me/corrections/{correction.id}",
    )


def late_notice(correction: Correction) -> SendNotification:
    """What the patient gets once when the clinic has not answered by `due_on`."""
    return SendNotification(
        recipient_snils=correction.patient_snils,
        title=f"Заявление об исправлении № {correction.number}: срок ответа истёк",
        body=f"Медицинская организация не ответила на заявление № {correction.number} до "
        f"{correction.due_on:%d.%m.%Y}. Заявление передано операторам портала для контроля; "
        "о результате мы сообщим.",
        channels=frozenset({NotificationChannel.INBOX, NotificationChannel.EMAIL}),
        category="correction_overdue",
        link=f"/patients/me/corrections/{correction.id}",
    )

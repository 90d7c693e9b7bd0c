"""Rules of lab results: their ids, what a reader may see, how long they are kept, and the
patient's notice of a ready result. No broker or driver code."""

from datetime import date, datetime, timedelta
from uuid import UUID, uuid5

from gosmed.contracts.identity.notifications import NotificationChannel, SendNotification
from gosmed.contracts.records.lab import (
    KEPT_DAYS,
    Analyte,
    LabChangeKind,
    LabStatus,
    ReportedLabResult,
)
from gosmed.contracts.registry.catalog import ServiceCategory
from gosmed.records.domain import is_restricted

LAB_NAMESPACE = UUID("6f3b2a8e-5c1d-4e7a-9b0f-2d4c6e8a1b3f")
GONE_MESSAGE = (
    "Результат исследования хранится 12 месяцев после готовности; этот срок истёк, и "
    "результат удалён. Обратитесь в медицинскую организацию, выполнившую исследование."
)
NOT_FOUND_MESSAGE = "Результат исследования не найден."
OWNER_ONLY = (
    "Удалить результат или изменить заметку может только сам пациент или законный "
    "представитель ребёнка."
)
NO_CHANGE = "Запрос на изменение не найден: запросите код подтверждения снова."
CHANGE_ACTIONS = {
    LabChangeKind.DELETE: "удаление результата анализа",
    LabChangeKind.NOTE: "изменение заметки к результату анализа",
}


def change_subject(result_id: UUID, kind: LabChangeKind) -> str:
    """What a confirmation code is bound to: this change of this result."""
    return f"lab-result:{result_id}:{kind.value}"


def wrong_code(tries_left: int) -> str:
    if tries_left:
        return f"Неверный код подтверждения. Осталось попыток: {tries_left}."
    return (
        "Код подтверждения недействителен: истёк, уже использован или исчерпаны попытки. "
        "Запросите новый."
    )


def lab_result_id(organization_id: UUID, clinic_result_id: str) -> UUID:
    """The stable id of a clinic's result: the same (organization, clinic id), the same id."""
    return uuid5(LAB_NAMESPACE, f"{organization_id}/{clinic_result_id}")


def available_until(ready_at: datetime | None) -> date | None:
    """The last day a ready result is shown; None while it is not ready."""
    return (ready_at + timedelta(days=KEPT_DAYS)).date() if ready_at is not None else None


def expired(ready_at: datetime | None, now: datetime) -> bool:
    return ready_at is not None and now >= ready_at + timedelta(days=KEPT_DAYS)


def expiry_cutoff(now: datetime) -> datetime:
    """Results ready before this moment are past their 12 months."""
    return now - timedelta(days=KEPT_DAYS)


def restricted_study(study_code: str) -> bool:
    """HIV and syphilis tests and other restricted studies follow the rules of the records."""
    return is_restricted(None, study_code, None, ServiceCategory.LABORATORY)


def has_flags(analytes: tuple[Analyte, ...]) -> bool:
    return any(a.flag is not None for a in analytes)


def matches(analyte: Analyte, codes: frozenset[str]) -> bool:
    """Whether an analyte is one of `codes` (the laboratory's or LOINC); empty: any."""
    return not codes or analyte.code in codes or (analyte.loinc or "") in codes


def ready_notice(patient_snils: str, result: ReportedLabResult) -> SendNotification:
    """The notice of a result that became ready; the name of a restricted study is left out."""
    study = "" if restricted_study(result.study_code) else f" «{result.study_name}»"
    return SendNotification(
        recipient_snils=patient_snils,
        title="Готов результат лабораторного исследования",
        body=f"Готов результат исследования{study}. Его можно посмотреть и скачать в разделе "
        "«Результаты анализов» в течение 12 месяцев.",
        channels=frozenset({NotificationChannel.INBOX, NotificationChannel.SMS}),
        category="lab_result_ready",
        link="/patients/me/lab-results",
    )


def becomes_ready(before: LabStatus | None, after: LabStatus) -> bool:
    return after == LabStatus.READY and before != LabStatus.READY

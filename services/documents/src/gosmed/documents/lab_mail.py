"""E-mails of lab results: the laboratory's file, or one rendered here, to the confirmed
address of whoever asked (records has authorized them)."""

from collections.abc import Callable
from typing import Any, Protocol

from gosmed.contracts.documents.lab_reports import EmailLabReport
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.records.lab import LabResultEmailed
from gosmed.documents.lab_reports import lab_file, render_lab_report
from gosmed.documents.service import Mailer, Profiles
from gosmed.runtime.mail import Attachment
from gosmed.runtime.masking import mask_email

NO_EMAIL = (
    "В профиле нет подтверждённого адреса электронной почты: добавьте его в настройках профиля."
)


class Worker(Protocol):
    """Runs CPU-bound rendering off the event loop (`RenderPool`)."""

    async def run(self, function: Callable[..., bytes], *args: Any) -> bytes: ...


class LabMail:
    def __init__(self, profiles: Profiles, mailer: Mailer, worker: Worker) -> None:
        self.profiles = profiles
        self.mailer = mailer
        self.worker = worker

    async def email(self, request: EmailLabReport) -> LabResultEmailed:
        address = await self.profiles.email_of(request.recipient_account_id)
        if not address:
            raise ServiceError(ErrorCode.CONFLICT, NO_EMAIL)
        file = request.file or lab_file(
            request.report, await self.worker.run(render_lab_report, request.report)
        )
        item = request.report.result.item
        subject = f"Результат исследования от {item.ordered_on:%d.%m.%Y}"
        await self.mailer.send(
            address,
            subject,
            f"Здравствуйте!\n\nВо вложении — результат исследования «{item.study_name}».\n\n"
            "Это письмо отправлено автоматически, отвечать на него не нужно.",
            Attachment(file.file_name, file.media_type, file.content),
        )
        return LabResultEmailed(address=mask_email(address), file_name=file.file_name)

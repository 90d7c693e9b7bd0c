"""The clinics' door for reports (the generic checks: `gosmed.runtime.door`)."""

from uuid import UUID

from gosmed.contracts.records.intake import ReportRenderedServices
from gosmed.runtime.door import sending_clinic


def reporting_clinic(
    vhost: str, user_id: str | None, reply_to: str | None, report: ReportRenderedServices
) -> UUID:
    """The organization of the clinic that sent `report`; `RefusedError` (dead-lettered with the
    reason) when the sender is no clinic, another clinic, or names a queue not its own."""
    queues = {"reply_to": reply_to, "sync_queue": report.sync_queue}
    return sending_clinic(vhost, user_id, report.organization_id, queues, what="Отчёт")

"""The clinics' door for reports: a report is taken only from the clinic it names, and
answered only at that clinic's own queues (`gosmed.runtime.door`)."""

from uuid import UUID

from gosmed.contracts.records.intake import ReportRenderedServices
from gosmed.runtime.door import sending_clinic


def reporting_clinic(
    vhost: str, user_id: str | None, reply_to: str | None, report: ReportRenderedServices
) -> UUID:
    """The organization of the clinic that sent `report`; `RefusedError` (dead-lettered with the
    reason) when the sender is no clinic, another clinic, or names a queue not its own."""
    return sending_clinic(
        vhost,
        user_id,
        claimed=report.organization_id,
        queues={"reply_to": reply_to, "sync_queue": report.sync_queue},
    )

"""Write gosmed's AsyncAPI documents: one for clinics, one for the platform's own teams.

- `docs/asyncapi.json`, for clinics and integrators: only what a clinic's broker user can reach
  (the exchange `gosmed.clinic-intake` and the clinic's own `clinic.<organization>.*` queues).
- `docs/asyncapi-internal.json`: every service's queues and messages (RPCs, commands, events).
  Clinics cannot reach them: the broker refuses them every internal queue and `amq.default`.

`make asyncapi` runs `python -m gosmed.runtime.asyncapi docs/asyncapi.json` (the internal
document goes next to it). Services are imported by name, as the launcher starts them, so the
runtime library does not depend on them.
"""

import json
import sys
from importlib import import_module
from importlib.metadata import version
from pathlib import Path
from typing import Any

from faststream.rabbit import RabbitBroker, RabbitQueue
from faststream.specification import AsyncAPI
from pydantic import BaseModel

from gosmed.contracts import topology
from gosmed.contracts.errors import ErrorReply
from gosmed.contracts.feedback.reviews import ANSWER_REVIEW_QUEUE, AnswerAccepted, AnswerReview
from gosmed.contracts.records.corrections import (
    CORRECTION_ANSWERS,
    CORRECTION_ATTACHMENTS,
    AnswerCorrection,
    CorrectionAnswered,
    CorrectionAttachmentFile,
    CorrectionRequested,
    FetchCorrectionAttachment,
)
from gosmed.contracts.records.intake import (
    RENDERED_SERVICES,
    ReportAccepted,
    ReportRenderedServices,
    RequestClinicSync,
)
from gosmed.contracts.records.lab import LAB_RESULTS, LabResultsAccepted, ReportLabResults
from gosmed.contracts.records.prescriptions import (
    PRESCRIPTIONS,
    REFERRALS,
    ReportPrescriptions,
    ReportReferrals,
)
from gosmed.contracts.scheduling.schedules import (
    PUBLISH_SCHEDULE,
    AppointmentBooked,
    AppointmentCancelled,
    PublishSchedule,
    ScheduleAccepted,
)
from gosmed.contracts.topology import Service
from gosmed.runtime.broker import CLINIC_INTAKE
from gosmed.runtime.service import ServiceRuntime

INTERNAL_NAME = "asyncapi-internal.json"
ORGANIZATION = "{organization_id}"

CLINIC_DESCRIPTION = """\
Обмен медицинских организаций с gosmed через RabbitMQ.

Each clinic has its own broker user, `<vhost>.clinic.<organization_id>` (or
`gosmed.clinic.<organization_id>`), bound to its registry organization and created by the
operator (`python -m gosmed.runtime.broker_access clinic add <organization_id>`). It may:

- publish only to the direct exchange `gosmed.clinic-intake`, with the routing key of the
  command (`records.rendered-services`: report rendered services; `records.lab-results`:
  report lab results; `records.prescriptions` and `records.referrals`: report prescriptions
  and referrals; `feedback.answer-review`:
  answer a published review of the clinic; `scheduling.publish-schedule`: publish slots),
  persistent, with publisher confirms;
- read only its own queues `clinic.<organization_id>.replies`,
  `clinic.<organization_id>.sync-requests` and `clinic.<organization_id>.appointments`
  (created with the user).

Every message must carry the AMQP property `user_id` = the clinic's broker user (RabbitMQ
refuses a `user_id` that is not the connection's user). A report whose `organization_id` is
not the clinic's own, or without `user_id`, is refused (dead-lettered with its reason). Set
`reply_to` (and `sync_queue`) only to the clinic's own queues, e.g.
`clinic.<organization_id>.replies`: any other queue refuses the message. The answer is a
`ReportAccepted` (`AnswerAccepted` to an `AnswerReview`), or an `ErrorReply` with the header
`x-gosmed-reply-status: error`, listing every reason (Russian).

A clinic answers only published reviews of its own organization (their ids are in the public
`GET /api/v1/reviews?organization_id=`); an answer to another organization's review is refused
(dead-lettered), one to an unknown review or one the automatic check stops (personal data,
links, obscene language) is answered with the reasons, or dead-lettered without `reply_to`. A
review shows one answer: a later one (by `occurred_at`) replaces it.

Every message is JSON (UTF-8) with `message_id` (UUID, used to drop duplicates) and
`occurred_at` (ISO 8601 with a time zone).
"""

INTERNAL_DESCRIPTION = """\
Every queue and message of gosmed's services (internal: clinics see `asyncapi.json`).

RPCs go through the default exchange to `<service>.rpc.<method>` with direct reply-to; commands
to `<service>.<command>`; events to the topic exchange `gosmed.events`. Only the platform's
broker users (one per service, and the edge) may publish to the default exchange or read these
queues. A message that fails validation is moved to `<queue>.dead-letter` with the headers
`x-gosmed-error-code` and `x-gosmed-error-reason` (Russian).
"""


def clinic_broker() -> RabbitBroker:
    """A broker that is never connected, declaring only what a clinic's user can reach."""
    broker = RabbitBroker()
    intake = topology.command_queue(Service.RECORDS, RENDERED_SERVICES)

    async def report(body: ReportRenderedServices) -> ReportAccepted:
        raise NotImplementedError  # documentation only

    broker.subscriber(
        RabbitQueue(intake, routing_key=intake),
        CLINIC_INTAKE,
        title=intake,
        description="Report rendered services (one or a batch of up to 500): publish to "
        "`gosmed.clinic-intake` with routing key `records.rendered-services` and `user_id`.",
    )(report)

    lab = topology.command_queue(Service.RECORDS, LAB_RESULTS)

    async def report_lab_results(body: ReportLabResults) -> LabResultsAccepted:
        raise NotImplementedError  # documentation only

    broker.subscriber(
        RabbitQueue(lab, routing_key=lab),
        CLINIC_INTAKE,
        title=lab,
        description="Report lab results (one or a batch of up to 50; the laboratory's PDF "
        "and XML at most 2 MiB each and 8 MiB a report, base64): publish to "
        "`gosmed.clinic-intake` with routing key `records.lab-results` and `user_id`. "
        "Idempotent and versioned per clinic result id; a result that becomes `ready` "
        "notifies the patient.",
    )(report_lab_results)

    async def answer_review(body: AnswerReview) -> AnswerAccepted:
        raise NotImplementedError  # documentation only

    broker.subscriber(
        RabbitQueue(ANSWER_REVIEW_QUEUE, routing_key=ANSWER_REVIEW_QUEUE),
        CLINIC_INTAKE,
        title=ANSWER_REVIEW_QUEUE,
        description="Answer a published review of the clinic (shown under it, up to 1000 "
        "characters; a later answer replaces it): publish to `gosmed.clinic-intake` with "
        "routing key `feedback.answer-review` and `user_id`.",
    )(answer_review)
    replies = topology.clinic_queue(ORGANIZATION, topology.CLINIC_REPLIES)
    broker.publisher(
        replies,
        title=f"{replies}:accepted",
        description="The answer to a report sent with `reply_to` = this queue.",
        schema=ReportAccepted,
    )
    broker.publisher(
        replies,
        title=f"{replies}:lab-accepted",
        description="The answer to a lab results report sent with `reply_to` = this queue.",
        schema=LabResultsAccepted,
    )
    broker.publisher(
        replies,
        title=f"{replies}:answered",
        description="The answer to a review's answer sent with `reply_to` = this queue.",
        schema=AnswerAccepted,
    )
    broker.publisher(
        replies,
        title=f"{replies}:error",
        description="A refused message (header `x-gosmed-reply-status: error`), every reason.",
        schema=ErrorReply,
    )
    sync = topology.clinic_queue(ORGANIZATION, topology.CLINIC_SYNC_REQUESTS)
    broker.publisher(
        sync,
        title=sync,
        description="gosmed asks the clinic to re-send a patient's services (report with "
        f"`sync_queue` = `{sync}`).",
        schema=RequestClinicSync,
    )
    schedule = topology.command_queue(Service.SCHEDULING, PUBLISH_SCHEDULE)

    async def publish_schedule(body: PublishSchedule) -> ScheduleAccepted:
        raise NotImplementedError  # documentation only

    broker.subscriber(
        RabbitQueue(schedule, routing_key=schedule),
        CLINIC_INTAKE,
        title=schedule,
        description="Publish the clinic's schedule (one slot or a batch of up to 200), "
        "idempotent and versioned per clinic slot id: publish to `gosmed.clinic-intake` with "
        "routing key `scheduling.publish-schedule` and `user_id`.",
    )(publish_schedule)
    broker.publisher(
        replies,
        title=f"{replies}:schedule-accepted",
        description="The answer to a schedule sent with `reply_to` = this queue.",
        schema=ScheduleAccepted,
    )
    appointments = topology.clinic_queue(ORGANIZATION, topology.CLINIC_APPOINTMENTS)
    broker.publisher(
        appointments,
        title=f"{appointments}:booked",
        description="A patient booked one of the clinic's slots (persistent, sent until "
        "the broker confirms it).",
        schema=AppointmentBooked,
    )
    broker.publisher(
        appointments,
        title=f"{appointments}:cancelled",
        description="An appointment at the clinic was cancelled; its slot is free again.",
        schema=AppointmentCancelled,
    )
    corrections = topology.clinic_queue(ORGANIZATION, topology.CLINIC_CORRECTIONS)
    broker.publisher(
        corrections,
        title=corrections,
        description="A patient disputes a record of the clinic: check it and answer with "
        "`AnswerCorrection` by `due_on` (5 working days); when accepting, first send the "
        "corrected record with a higher `version` through `records.rendered-services`.",
        schema=CorrectionRequested,
    )
    answers = topology.command_queue(Service.RECORDS, CORRECTION_ANSWERS)

    async def answer_correction(body: AnswerCorrection) -> CorrectionAnswered:
        raise NotImplementedError  # documentation only

    broker.subscriber(
        RabbitQueue(answers, routing_key=answers),
        CLINIC_INTAKE,
        title=answers,
        description="Answer a correction request (accepted, or rejected with a reason): "
        "publish to `gosmed.clinic-intake` with routing key `records.correction-answers` and "
        "`user_id`; only the clinic of the record may answer, any other answer is "
        "dead-lettered with its reason. With `reply_to` = your replies queue you get "
        "`CorrectionAnswered`.",
    )(answer_correction)
    broker.publisher(
        replies,
        title=f"{replies}:correction-answered",
        description="The answer to `AnswerCorrection` sent with `reply_to` = this queue.",
        schema=CorrectionAnswered,
    )
    files = topology.command_queue(Service.RECORDS, CORRECTION_ATTACHMENTS)

    async def fetch_attachment(body: FetchCorrectionAttachment) -> CorrectionAttachmentFile:
        raise NotImplementedError  # documentation only

    broker.subscriber(
        RabbitQueue(files, routing_key=files),
        CLINIC_INTAKE,
        title=files,
        description="Fetch a file the patient attached to a correction request (listed in "
        "`CorrectionRequested.attachments`): publish to `gosmed.clinic-intake` with routing key "
        "`records.correction-attachments`, `user_id` and `reply_to` = your replies queue; only "
        "the clinic the request is addressed to gets it.",
    )(fetch_attachment)
    broker.publisher(
        replies,
        title=f"{replies}:correction-attachment",
        description="The file asked for with `FetchCorrectionAttachment` (base64 in JSON).",
        schema=CorrectionAttachmentFile,
    )
    for name, command, what in (
        (
            PRESCRIPTIONS,
            ReportPrescriptions,
            "prescriptions (medicine, dose, schedule, dates, «льготный»)",
        ),
        (REFERRALS, ReportReferrals, "referrals (to whom, why, valid until)"),
    ):
        _document_report(broker, topology.command_queue(Service.RECORDS, name), command, what)
    return broker


def _document_report(broker: RabbitBroker, queue: str, command: type[BaseModel], what: str) -> None:
    """A clinic's report of `what` to `queue`, answered with `ReportAccepted`."""

    async def report(body: Any) -> ReportAccepted:
        raise NotImplementedError  # documentation only

    report.__annotations__ = {"body": command, "return": ReportAccepted}
    report.__name__ = report.__qualname__ = queue.replace(".", "_").replace("-", "_")
    broker.subscriber(
        RabbitQueue(queue, routing_key=queue),
        CLINIC_INTAKE,
        title=queue,
        description=f"Report {what}, idempotent and versioned per clinic id (a batch of up to "
        f"500): publish to `gosmed.clinic-intake` with routing key `{queue}` and `user_id`; "
        "with `reply_to` = your replies queue you get `ReportAccepted`.",
    )(report)


def build_document() -> dict[str, Any]:
    """The clinics' document."""
    spec = AsyncAPI(
        clinic_broker(),
        title="gosmed для медицинских организаций",
        version=version("gosmed-contracts"),
        description=CLINIC_DESCRIPTION,
    )
    document: dict[str, Any] = spec.to_specification().to_jsonable()
    return document


def build_internal_document() -> dict[str, Any]:
    """Every service's queues and messages."""
    runtimes: list[ServiceRuntime] = [
        import_module(f"gosmed.{service.value}.main").create() for service in Service
    ]
    spec = AsyncAPI(
        *(runtime.broker for runtime in runtimes),
        title="gosmed (internal)",
        version=version("gosmed-contracts"),
        description=INTERNAL_DESCRIPTION,
    )
    for runtime in runtimes:
        runtime.store.close()
    document: dict[str, Any] = spec.to_specification().to_jsonable()
    return document


def _by_name(document: dict[str, Any]) -> dict[str, Any]:
    """Channels, operations and components in name order, so that a document does not change
    with the order in which services register their subscribers."""
    ordered = dict(document)
    for section in ("channels", "operations"):
        if section in ordered:
            ordered[section] = dict(sorted(ordered[section].items()))
    if "components" in ordered:
        ordered["components"] = {
            part: dict(sorted(entries.items())) for part, entries in ordered["components"].items()
        }
    return ordered


def write(target: Path, document: dict[str, Any]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(_by_name(document), indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {target}", file=sys.stderr)


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/asyncapi.json")
    internal = Path(sys.argv[2]) if len(sys.argv) > 2 else target.with_name(INTERNAL_NAME)
    write(target, build_document())
    write(internal, build_internal_document())


if __name__ == "__main__":
    main()

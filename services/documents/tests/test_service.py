"""Use cases on the embedded store, real rendering and signing, the real outbox relay and a
real SMTP server (aiosmtpd); records, identity and the broker are the service's ports, faked
here."""

import asyncio
import email
import hashlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from uuid import UUID, uuid4

import pytest
from aiosmtpd.controller import Controller

from gosmed.contracts.access import AccessContext
from gosmed.contracts.documents.requests import (
    DeliverDocumentEmail,
    DocumentKind,
    DocumentStatus,
    DocumentView,
    EmailStatus,
    RenderDocument,
    RequestDocument,
    VerifyDocument,
)
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import Action
from gosmed.contracts.identity.notifications import NOTIFY_QUEUE, SendNotification
from gosmed.contracts.records.queries import RenderedServicesExport
from gosmed.contracts.types import DateRange
from gosmed.documents.repository import DocumentRepository
from gosmed.documents.service import EMAIL_QUEUE, RENDER_QUEUE, DocumentService
from gosmed.documents.signing import Signer
from gosmed.runtime.mail import DeliveryError, SmtpMailer
from gosmed.runtime.outbox import Relay
from gosmed.runtime.security_log import SECURITY_LOGGER
from gosmed.runtime.store import open_store
from gosmed.runtime.testing import FakePublisher

from .samples import (
    ADDRESS,
    FIRST_DAY,
    PARENT_ID,
    PATIENT,
    FakeIdentity,
    FakeProfiles,
    FakeRecords,
    InlineRenderer,
    history,
    lab_values,
)


class Sent(FakePublisher):
    """The commands the service sent, by kind."""

    @property
    def renders(self) -> list[RenderDocument]:
        return self.messages(RENDER_QUEUE, RenderDocument)

    @property
    def emails(self) -> list[DeliverDocumentEmail]:
        return self.messages(EMAIL_QUEUE, DeliverDocumentEmail)

    @property
    def notifications(self) -> list[SendNotification]:
        return self.messages(NOTIFY_QUEUE, SendNotification)


class Clock:
    def __init__(self) -> None:
        # the real time: the store drops files past their expiry (a TTL index), as MongoDB does
        self.now = datetime.now(UTC).replace(microsecond=0)  # BSON keeps milliseconds

    @property
    def first_number(self) -> str:
        return f"СМУ-{self.now:%Y%m%d}-000001"

    def __call__(self) -> datetime:
        return self.now


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, inbox
    controller.stop()


@dataclass
class Harness:
    service: DocumentService
    commands: Sent
    records: FakeRecords
    clock: Clock
    identity: FakeIdentity


@pytest.fixture
async def harness(smtp: tuple[Controller, Inbox]) -> AsyncIterator[Harness]:
    store = open_store(None, f"documents_test_{uuid4().hex}")
    repository = DocumentRepository(store.database)
    await repository.ensure_indexes()
    commands = Sent()
    records = FakeRecords(
        RenderedServicesExport(patient=PATIENT, items=history(3), truncated=False, basis_label="")
    )
    clock = Clock()
    identity = FakeIdentity()
    controller, _ = smtp
    service = DocumentService(
        repository=repository,
        records=records,
        access=identity.gateway,
        profiles=FakeProfiles({PATIENT.account_id: ADDRESS}),
        relay=Relay(commands, first_retry_seconds=0.05, longest_retry_seconds=0.2),
        renderer=InlineRenderer(),
        mailer=SmtpMailer(host="127.0.0.1", port=controller.port, sender="noreply@gosmed.example"),
        signer=Signer.load_or_generate(None),
        public_base_url="https://gosmed.example",
        ttl=timedelta(days=7),
        max_file_bytes=15 * 1024 * 1024,
        clock=clock,
    )
    yield Harness(service, commands, records, clock, identity)
    await service.relay.stop()
    store.close()


def as_patient() -> AccessContext:
    return AccessContext(actor_id=PATIENT.account_id, patient_id=PATIENT.account_id)


def statement_request(**fields: Any) -> RequestDocument:
    return RequestDocument(
        context=as_patient(),
        kind=DocumentKind.STATEMENT,
        period=DateRange(start=date(2025, 1, 1), end=date(2025, 12, 31)),
        **fields,
    )


def facts(view: DocumentView) -> dict[str, Any]:
    """A view without its message envelope (id, time), which differs per answer."""
    return view.model_dump(exclude={"message_id", "occurred_at"})


async def ready_document(harness: Harness, **fields: Any) -> UUID:
    view = await harness.service.request(statement_request(**fields))
    assert view.status == DocumentStatus.PENDING
    (command,) = harness.commands.renders
    await harness.service.render(command.document_id)
    return view.document_id


async def test_request_passes_filters_to_records_and_answers_pending(harness: Harness) -> None:
    view = await harness.service.request(statement_request())

    assert view.status == DocumentStatus.PENDING
    assert view.number == harness.clock.first_number
    assert view.expires_at == harness.clock.now + timedelta(days=7)
    (sent,) = harness.records.requests
    assert sent.context == as_patient()
    assert sent.period == DateRange(start=date(2025, 1, 1), end=date(2025, 12, 31))
    assert [c.document_id for c in harness.commands.renders] == [view.document_id]


async def test_a_render_command_the_broker_refused_is_relayed_and_rendered(
    harness: Harness,
) -> None:
    await harness.service.relay.start()
    harness.commands.refuse()  # the broker is down when the document is asked for

    view = await harness.service.request(statement_request())
    assert view.status == DocumentStatus.PENDING
    assert harness.commands.renders == []

    async with asyncio.timeout(5):  # the relay tries again
        while not harness.commands.renders:
            await asyncio.sleep(0.02)
    (command,) = harness.commands.renders
    await harness.service.render(command.document_id)
    ready = await harness.service.get(as_patient(), view.document_id)
    assert ready.status == DocumentStatus.READY


async def test_refusal_of_records_reaches_the_caller(harness: Harness) -> None:
    stranger = AccessContext(actor_id=uuid4(), patient_id=PATIENT.account_id)
    with pytest.raises(ServiceError) as error:
        await harness.service.request(
            RequestDocument(context=stranger, kind=DocumentKind.STATEMENT)
        )
    assert error.value.code == ErrorCode.FORBIDDEN
    assert harness.commands.renders == []


async def test_rendered_document_is_hashed_signed_and_verifiable(harness: Harness) -> None:
    document_id = await ready_document(harness)

    found = await harness.service.file(as_patient(), document_id)
    assert found.document.status == DocumentStatus.READY
    assert found.content is not None
    assert found.content.startswith(b"%PDF")
    assert found.media_type == "application/pdf"
    assert found.filename == f"{harness.clock.first_number}.pdf"
    sha256 = hashlib.sha256(found.content).hexdigest()
    assert found.document.sha256 == sha256

    genuine = await harness.service.verify(
        VerifyDocument(document_id=document_id, content=found.content)
    )
    assert genuine.genuine
    assert genuine.signature_valid
    assert genuine.file_matches is True
    assert genuine.sha256 == sha256
    assert genuine.issued_to == "И****** А. С."

    altered = bytearray(found.content)
    altered[len(altered) // 2] ^= 0x01
    forged = await harness.service.verify(
        VerifyDocument(document_id=document_id, content=bytes(altered))
    )
    assert not forged.genuine
    assert forged.file_matches is False
    assert "изменено" in forged.reason


async def test_redelivered_render_changes_nothing(harness: Harness) -> None:
    document_id = await ready_document(harness)
    first = await harness.service.get(as_patient(), document_id)

    await harness.service.render(document_id)

    assert facts(await harness.service.get(as_patient(), document_id)) == facts(first)


async def test_only_requester_or_patient_sees_a_document(harness: Harness) -> None:
    document_id = await ready_document(harness)
    stranger = AccessContext(actor_id=uuid4())

    for use in (harness.service.get, harness.service.file, harness.service.revoke):
        with pytest.raises(ServiceError) as error:
            await use(stranger, document_id)
        assert error.value.code == ErrorCode.NOT_FOUND
    with pytest.raises(ServiceError) as missing:
        await harness.service.get(as_patient(), uuid4())
    assert missing.value.message == error.value.message  # no way to tell the two apart


async def test_parent_who_requested_and_the_patient_both_see_it(harness: Harness) -> None:
    parent = AccessContext(actor_id=PARENT_ID, patient_id=PATIENT.account_id)
    view = await harness.service.request(
        RequestDocument(context=parent, kind=DocumentKind.STATEMENT)
    )

    as_parent = AccessContext(actor_id=PARENT_ID)
    assert facts(await harness.service.get(as_parent, view.document_id)) == facts(view)
    assert (await harness.service.get(as_patient(), view.document_id)).number == view.number


async def parents_ready_document(harness: Harness) -> UUID:
    """A document the parent (a representative) asked for, for the patient, rendered."""
    parent = AccessContext(actor_id=PARENT_ID, patient_id=PATIENT.account_id)
    view = await harness.service.request(
        RequestDocument(context=parent, kind=DocumentKind.STATEMENT)
    )
    await harness.service.render(view.document_id)
    return view.document_id


async def test_a_representative_whose_basis_was_revoked_loses_the_document(
    harness: Harness,
) -> None:
    document_id = await parents_ready_document(harness)
    harness.service.profiles = FakeProfiles({PARENT_ID: "parent@example.ru"})
    as_parent = AccessContext(actor_id=PARENT_ID)
    assert (await harness.service.file(as_parent, document_id)).content is not None
    (asked, *_) = harness.identity.asked
    assert asked.action == Action.DOWNLOAD_DOCUMENTS
    assert asked.context.actor_id == PARENT_ID
    assert asked.context.patient_id == PATIENT.account_id

    harness.identity.revoke()  # the patient revokes the power of attorney

    for use in (
        harness.service.get,
        harness.service.file,
        harness.service.email,
        harness.service.revoke,
    ):
        with pytest.raises(ServiceError) as error:
            await use(as_parent, document_id)
        assert error.value.code == ErrorCode.FORBIDDEN, use
    assert len(harness.commands.emails) == 0
    # the patient still has it all, without asking identity
    asked_before = len(harness.identity.asked)
    mine = await harness.service.file(as_patient(), document_id)
    assert mine.document.status == DocumentStatus.READY
    assert mine.content is not None
    assert len(harness.identity.asked) == asked_before


async def test_a_representative_download_and_email_are_security_events(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    document_id = await parents_ready_document(harness)
    harness.service.profiles = FakeProfiles(
        {PARENT_ID: "parent@example.ru", PATIENT.account_id: ADDRESS}
    )
    as_parent = AccessContext(actor_id=PARENT_ID)

    with caplog.at_level(logging.INFO, logger=SECURITY_LOGGER):
        await harness.service.file(as_parent, document_id)
        await harness.service.email(as_parent, document_id)
        await harness.service.file(as_patient(), document_id)  # the patient: no event
        await harness.service.email(as_patient(), document_id)

    events = [r.__dict__["security"] for r in caplog.records if r.name == SECURITY_LOGGER]
    assert [(e["event"], e["channel"]) for e in events] == [
        ("document_downloaded", "file"),
        ("document_downloaded", "email"),
    ]
    for event in events:
        assert event["document_id"] == str(document_id)
        assert event["actor_id"] == str(PARENT_ID)
        assert event["patient_id"] == str(PATIENT.account_id)
    logged = caplog.text
    assert "parent@example.ru" not in logged
    assert PATIENT.full_name not in logged
    assert PATIENT.snils not in logged


async def test_revoked_document_is_not_genuine_and_has_no_file(harness: Harness) -> None:
    document_id = await ready_document(harness)

    revoked = await harness.service.revoke(as_patient(), document_id)

    assert revoked.status == DocumentStatus.REVOKED
    assert revoked.revoked_at == harness.clock.now
    assert (await harness.service.file(as_patient(), document_id)).content is None
    check = await harness.service.verify(VerifyDocument(document_id=document_id))
    assert not check.genuine
    assert check.status == DocumentStatus.REVOKED
    assert "отозван" in check.reason


async def test_expired_document_answers_expired_without_file(harness: Harness) -> None:
    document_id = await ready_document(harness)
    harness.clock.now += timedelta(days=7)

    found = await harness.service.file(as_patient(), document_id)

    assert found.document.status == DocumentStatus.EXPIRED
    assert found.content is None
    check = await harness.service.verify(VerifyDocument(document_id=document_id))
    assert check.genuine  # still a genuine document, only no longer downloadable
    assert check.status == DocumentStatus.EXPIRED


async def test_email_is_delivered_with_pdf_and_the_citizen_notified(
    harness: Harness, smtp: tuple[Controller, Inbox]
) -> None:
    _, inbox = smtp
    document_id = await ready_document(harness)

    queued = await harness.service.email(as_patient(), document_id)
    assert queued.email_status == EmailStatus.QUEUED
    (command,) = harness.commands.emails
    assert command.address == ADDRESS
    await harness.service.deliver_email(command)
    await harness.service.deliver_email(command)  # a redelivery sends nothing twice

    for _ in range(50):
        if inbox.messages:
            break
        await asyncio.sleep(0.02)
    (message,) = inbox.messages
    assert message["To"] == ADDRESS
    assert harness.clock.first_number in message["Subject"]
    (attachment,) = message.iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{harness.clock.first_number}.pdf"
    pdf = attachment.get_content()
    stored = await harness.service.file(as_patient(), document_id)
    assert pdf == stored.content
    (notice,) = harness.commands.notifications
    assert notice.recipient_account_id == PATIENT.account_id
    assert "a***@example.ru" in notice.body
    assert (await harness.service.get(as_patient(), document_id)).email_status == EmailStatus.SENT


async def test_email_needs_a_confirmed_address_and_a_ready_document(harness: Harness) -> None:
    view = await harness.service.request(statement_request())
    with pytest.raises(ServiceError) as pending:
        await harness.service.email(as_patient(), view.document_id)
    assert pending.value.code == ErrorCode.CONFLICT
    assert "формируется" in pending.value.message

    parent = AccessContext(actor_id=PARENT_ID, patient_id=PATIENT.account_id)
    await harness.service.render(view.document_id)
    parents_view = await harness.service.request(
        RequestDocument(context=parent, kind=DocumentKind.STATEMENT)
    )
    await harness.service.render(parents_view.document_id)
    with pytest.raises(ServiceError) as no_address:
        await harness.service.email(AccessContext(actor_id=PARENT_ID), parents_view.document_id)
    assert no_address.value.code == ErrorCode.CONFLICT
    assert "электронной почты" in no_address.value.message


async def test_smtp_failure_after_retries_marks_email_failed(harness: Harness) -> None:
    document_id = await ready_document(harness)
    await harness.service.email(as_patient(), document_id)
    (command,) = harness.commands.emails
    harness.service.mailer = SmtpMailer(
        host="127.0.0.1", port=1, sender="noreply@gosmed.example", attempts=2, retry_delay=0
    )

    with pytest.raises(DeliveryError):
        await harness.service.deliver_email(command)

    view = await harness.service.get(as_patient(), document_id)
    assert view.email_status == EmailStatus.FAILED
    assert harness.commands.notifications == []


def dynamics_request(**fields: Any) -> RequestDocument:
    return RequestDocument(context=as_patient(), kind=DocumentKind.DYNAMICS, **fields)


async def test_dynamics_asks_records_for_the_analytes_and_the_visits_of_their_period(
    harness: Harness,
) -> None:
    harness.records.lab_values = lab_values()

    view = await harness.service.request(dynamics_request(analytes=frozenset({"GLU", "718-7"})))

    (asked,) = harness.records.lab_requests
    assert (asked.context, asked.period) == (as_patient(), None)
    assert asked.analyte_codes == {"GLU", "718-7"}
    (visits,) = harness.records.requests
    assert visits.period == DateRange(start=FIRST_DAY, end=FIRST_DAY + timedelta(days=90))
    (command,) = harness.commands.renders
    await harness.service.render(command.document_id)
    found = await harness.service.file(as_patient(), view.document_id)
    assert found.document.status == DocumentStatus.READY
    assert found.document.kind == DocumentKind.DYNAMICS
    assert found.content is not None
    verified = await harness.service.verify(
        VerifyDocument(document_id=view.document_id, content=found.content)
    )
    assert verified.genuine


async def test_dynamics_of_an_asked_period_shows_that_period(harness: Harness) -> None:
    harness.records.lab_values = lab_values()
    period = DateRange(start=date(2025, 1, 1), end=date(2025, 2, 28))

    await harness.service.request(dynamics_request(period=period))

    assert [r.period for r in harness.records.lab_requests] == [period]
    assert [r.period for r in harness.records.requests] == [period]


@pytest.mark.parametrize(
    ("analytes", "period"),
    [
        (frozenset({"GLU", "NO-SUCH"}), None),
        (frozenset(), DateRange(start=date(2024, 1, 1), end=date(2024, 12, 31))),
    ],
    ids=["unknown-analyte", "no-values-in-period"],
)
async def test_dynamics_without_values_is_refused_and_stores_nothing(
    harness: Harness, analytes: frozenset[str], period: DateRange | None
) -> None:
    harness.records.lab_values = lab_values()

    with pytest.raises(ServiceError) as refused:
        await harness.service.request(dynamics_request(analytes=analytes, period=period))

    assert refused.value.code == ErrorCode.NO_LAB_VALUES
    assert harness.records.requests == []  # no visits asked for, no document numbered
    assert harness.commands.renders == []

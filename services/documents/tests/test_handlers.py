"""The documents service in this process on the real broker: a malformed command is
dead-lettered with its reason and the service keeps answering; a document whose render command
could not be published (the broker unreachable) is rendered once the broker is back."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import uuid4

import aio_pika
import pytest

from gosmed.contracts import topology
from gosmed.contracts.access import AccessContext
from gosmed.contracts.documents.requests import (
    RENDER_DOCUMENT,
    VERIFY_DOCUMENT,
    DocumentKind,
    DocumentStatus,
    RequestDocument,
    VerifyDocument,
)
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.notifications import NOTIFY_QUEUE
from gosmed.contracts.records.queries import RenderedServicesExport
from gosmed.contracts.topology import Service
from gosmed.documents import handlers
from gosmed.documents.lab_mail import LabMail
from gosmed.documents.main import create
from gosmed.documents.repository import DocumentRepository
from gosmed.documents.service import DocumentService
from gosmed.documents.settings import DocumentsSettings
from gosmed.documents.signing import Signer
from gosmed.runtime.mail import SmtpMailer
from gosmed.runtime.rpc import RpcClient
from gosmed.runtime.service import build_service
from gosmed.runtime.testing import TcpProxy, poll_next_message
from tests.queues import FixedQueues

from .samples import PATIENT, FakeIdentity, FakeProfiles, FakeRecords, InlineRenderer, history

RENDER_QUEUE = topology.command_queue(topology.Service.DOCUMENTS, RENDER_DOCUMENT)


@pytest.fixture
async def rpc(amqp_url: str, fixed_queues: FixedQueues) -> AsyncIterator[RpcClient]:
    runtime = create(settings=DocumentsSettings(amqp_url=amqp_url, render_workers=1))
    await fixed_queues.take_service(runtime)
    await fixed_queues.take([NOTIFY_QUEUE])
    await runtime.start()
    client = RpcClient(amqp_url)
    await client.connect()
    yield client
    await client.close()
    await runtime.stop()


async def test_malformed_render_command_is_dead_lettered_and_service_goes_on(
    rpc: RpcClient, amqp_url: str
) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        dead = await channel.get_queue(topology.dead_letter_queue(RENDER_QUEUE))
        await channel.default_exchange.publish(
            aio_pika.Message(b'{"document_id": "42"}', message_id="bad-render"),
            routing_key=RENDER_QUEUE,
        )
        message = await poll_next_message(dead, within=5)

    headers = message.headers or {}
    assert message.message_id == "bad-render"
    assert headers[topology.HEADER_ERROR_CODE] == ErrorCode.VALIDATION_FAILED.value
    assert "document_id" in str(headers[topology.HEADER_ERROR_REASON])

    with pytest.raises(ServiceError) as unknown:
        await rpc.call(VERIFY_DOCUMENT, VerifyDocument(document_id=uuid4()))
    assert unknown.value.code == ErrorCode.NOT_FOUND
    assert unknown.value.message == "Документ с таким идентификатором не выдавался."


async def test_a_document_whose_render_command_was_not_published_is_rendered_later(
    amqp_url: str,
) -> None:
    async with TcpProxy(amqp_url) as proxy:
        settings = DocumentsSettings(amqp_url=proxy.url, outbox_retry_max_seconds=0.5)
        runtime = build_service(Service.DOCUMENTS, settings)
        repository = DocumentRepository(runtime.store.database)
        await repository.ensure_indexes()
        export = RenderedServicesExport(
            patient=PATIENT, items=history(2), truncated=False, basis_label=""
        )
        service = DocumentService(
            repository=repository,
            records=FakeRecords(export),
            access=FakeIdentity().gateway,
            profiles=FakeProfiles({}),
            relay=runtime.relay,
            renderer=InlineRenderer(),
            mailer=SmtpMailer.configured(settings),
            signer=Signer.load_or_generate(None),
            public_base_url="https://gosmed.example",
            ttl=timedelta(days=7),
            max_file_bytes=settings.max_file_bytes,
        )
        renderer = InlineRenderer()
        lab_mail = LabMail(service.profiles, service.mailer, renderer)
        handlers.register(runtime, service, renderer, lab_mail)
        await runtime.start()
        try:
            await proxy.cut()  # the broker is unreachable when the citizen asks
            me = AccessContext(actor_id=PATIENT.account_id, patient_id=PATIENT.account_id)
            view = await service.request(RequestDocument(context=me, kind=DocumentKind.STATEMENT))
            assert view.status == DocumentStatus.PENDING
            (pending,) = await repository.outbox.pending()
            assert pending[0] == str(view.document_id)

            await proxy.resume()  # back: the relay publishes, the service renders
            async with asyncio.timeout(30):
                while (await service.get(me, view.document_id)).status == DocumentStatus.PENDING:
                    await asyncio.sleep(0.1)
                while await repository.outbox.pending():  # its entry goes once confirmed
                    await asyncio.sleep(0.1)
            assert (await service.get(me, view.document_id)).status == DocumentStatus.READY
        finally:
            await runtime.stop()

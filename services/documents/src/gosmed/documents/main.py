from datetime import timedelta
from functools import partial

from opentelemetry.sdk.trace import TracerProvider

from gosmed.contracts.topology import Service
from gosmed.documents import handlers
from gosmed.documents.gateways import (
    AccessGateway,
    ProfilesGateway,
    RecordsGateway,
    declare_notify_queue,
)
from gosmed.documents.lab_mail import LabMail
from gosmed.documents.rendering import RenderPool
from gosmed.documents.repository import DocumentRepository
from gosmed.documents.service import DocumentService
from gosmed.documents.settings import DocumentsSettings
from gosmed.documents.signing import Signer
from gosmed.runtime.mail import SmtpMailer
from gosmed.runtime.rpc import RpcClient, ServiceClient
from gosmed.runtime.service import ServiceRuntime, build_service


def create(
    tracer_provider: TracerProvider | None = None, settings: DocumentsSettings | None = None
) -> ServiceRuntime:
    settings = settings or DocumentsSettings()
    runtime = build_service(Service.DOCUMENTS, settings, tracer_provider=tracer_provider)
    rpc = RpcClient(
        settings.amqp_url, timeout=settings.rpc_timeout, tracer_provider=tracer_provider
    )
    repository = DocumentRepository(runtime.store.database)
    pool = RenderPool(settings.render_workers)
    profiles = ProfilesGateway(ServiceClient(Service.IDENTITY, rpc))
    mailer = SmtpMailer.configured(settings)
    service = DocumentService(
        repository=repository,
        records=RecordsGateway(ServiceClient(Service.RECORDS, rpc)),
        access=AccessGateway(ServiceClient(Service.IDENTITY, rpc)),
        profiles=profiles,
        relay=runtime.relay,
        renderer=pool,
        mailer=mailer,
        signer=Signer.load_or_generate(settings.signing_key_path, production=settings.production),
        public_base_url=settings.public_base_url,
        ttl=timedelta(seconds=settings.document_ttl_seconds),
        max_file_bytes=settings.max_file_bytes,
    )
    handlers.register(runtime, service, pool, LabMail(profiles, mailer, pool))
    runtime.on_startup(rpc.connect)
    runtime.on_startup(repository.ensure_indexes)
    runtime.on_startup(partial(declare_notify_queue, runtime.broker, settings))
    runtime.on_startup(pool.start_warm_up)  # in the background: a restart is not held
    runtime.report_dependency("renderer", pool.status)
    runtime.on_shutdown(rpc.close)
    runtime.on_shutdown(pool.close)
    return runtime

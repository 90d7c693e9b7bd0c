import asyncio

from opentelemetry.sdk.trace import TracerProvider

from gosmed.contracts.base import utc_now
from gosmed.contracts.identity.tokens import SESSION_ENDED_EVENT, SessionEnded
from gosmed.contracts.topology import Service
from gosmed.identity import demo, handlers
from gosmed.identity.action_codes import ActionCodes
from gosmed.identity.announcements import SessionAnnouncer
from gosmed.identity.authenticator import AuthenticatorService
from gosmed.identity.consents import ConsentService
from gosmed.identity.credentials import TokenSigner
from gosmed.identity.delegations import DelegationService
from gosmed.identity.delivery import JsonLinesSmsGateway
from gosmed.identity.login import LoginService
from gosmed.identity.notifications import NotificationRepository, NotificationService
from gosmed.identity.organizations import OrganizationService
from gosmed.identity.organizations_repository import OrganizationsRepository
from gosmed.identity.service import AccessService, Repositories
from gosmed.identity.settings import IdentitySettings
from gosmed.identity.shares import ShareService
from gosmed.identity.support import SupportService
from gosmed.identity.support_repository import SupportRepository
from gosmed.runtime.broker import publish_event
from gosmed.runtime.crypto import configured_key_ring
from gosmed.runtime.mail import SmtpMailer
from gosmed.runtime.service import ServiceRuntime, build_service
from gosmed.runtime.settings import ConfigurationError


def create(
    tracer_provider: TracerProvider | None = None, settings: IdentitySettings | None = None
) -> ServiceRuntime:
    settings = settings or IdentitySettings()
    if settings.demo_citizens and settings.production:
        raise ConfigurationError("GOSMED_IDENTITY_DEMO_CITIZENS: no demo citizens in production")
    keys = configured_key_ring(
        settings.data_keys,
        setting="GOSMED_IDENTITY_DATA_KEYS",
        production=settings.production,
        sealing="TOTP secrets",
    )
    runtime = build_service(Service.IDENTITY, settings, tracer_provider=tracer_provider)
    repos = Repositories.over(runtime.store.database, keys)
    inbox = NotificationRepository(runtime.store.database)
    organizations = OrganizationsRepository(runtime.store.database)
    signer = TokenSigner.load(
        settings.jwt_private_key_path,
        settings.access_token_ttl,
        settings.jwt_accepted_key_paths,
        production=settings.production,
    )

    async def publish(event: SessionEnded) -> None:
        await publish_event(runtime.broker, event, SESSION_ENDED_EVENT)

    announcer = SessionAnnouncer(repos.sessions, publish, settings)
    sms = JsonLinesSmsGateway(settings.sms_outbox_path)
    mailer = SmtpMailer.configured(settings)
    notifications = NotificationService(inbox, repos.accounts, settings, sms, mailer)
    handlers.register(
        runtime,
        LoginService(repos, signer, settings, sms, mailer, announcer),
        AccessService(repos, organizations=organizations),
        notifications,
        DelegationService(repos, notifications, settings=settings),
        ConsentService(repos, settings.insurer_request_days),
        announcer,
        AuthenticatorService(repos, settings, announcer, notifications),
        ShareService(repos),
    )
    handlers.register_organizations(runtime, OrganizationService(organizations, repos.accounts))
    support = SupportRepository(runtime.store.database)
    handlers.register_support(runtime, SupportService(repos, support, runtime.relay, settings))
    action_codes = ActionCodes(runtime.store.database, repos.accounts, sms)
    handlers.register_action_codes(runtime, action_codes)
    runtime.on_startup(action_codes.ensure_indexes)
    background: list[asyncio.Task[None]] = []

    async def prepare_store() -> None:
        await repos.ensure_indexes()
        await repos.accounts.reseal_totp_secrets()
        await inbox.ensure_indexes()
        await organizations.ensure_indexes()
        await support.ensure_indexes()
        if settings.demo_data:
            await demo.seed(repos, utc_now())
            await demo.seed_organization(organizations, utc_now())
        if settings.demo_citizens:
            await demo.seed_citizens(repos, settings.demo_citizens)
        background.append(asyncio.create_task(notifications.relay_forever()))
        background.append(asyncio.create_task(announcer.sweep_forever()))

    async def stop_background() -> None:
        for task in background:
            task.cancel()

    runtime.on_startup(prepare_store)
    runtime.on_stopping(stop_background)
    return runtime

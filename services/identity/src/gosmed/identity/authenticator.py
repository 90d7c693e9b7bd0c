"""The authenticator app (TOTP): enrolling a first one or replacing the current one.

A live access token is not enough to change a second factor: starting an enrolment needs the
password and the current factor (a code of the app being replaced; for a first app, a fresh
login of the session). Once the new app is confirmed the account holder is told (inbox, SMS,
e-mail) and every other session ends (SessionEnded is published, so the edges drop them).
"""

import logging
from uuid import uuid4

from gosmed.contracts.base import utc_now
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.delegations import (
    ConfirmTotp,
    StartTotpEnrolment,
    TotpConfirmed,
    TotpEnrolment,
)
from gosmed.contracts.identity.notifications import NotificationChannel, SendNotification
from gosmed.contracts.identity.tokens import SessionEndReason
from gosmed.identity import credentials
from gosmed.identity.announcements import SessionAnnouncer
from gosmed.identity.notifications import NotificationService
from gosmed.identity.service import Clock, Repositories
from gosmed.identity.settings import IdentitySettings
from gosmed.identity.stepup import StepUp, refusal
from gosmed.runtime.security_log import security_event

log = logging.getLogger(__name__)

CURRENT_CODE_REQUIRED = "Введите код из текущего приложения-аутентификатора."
CHANGED_TITLE = "Приложение-аутентификатор изменено"
CHANGED_BODY = (
    "К вашей учётной записи подключено новое приложение-аутентификатор, остальные сеансы "
    "завершены. Если это были не вы, смените пароль и обратитесь в службу поддержки."
)


class AuthenticatorService:
    def __init__(
        self,
        repos: Repositories,
        settings: IdentitySettings,
        announcer: SessionAnnouncer,
        notifications: NotificationService,
        clock: Clock = utc_now,
    ) -> None:
        self.repos = repos
        self.announcer = announcer
        self.notifications = notifications
        self.clock = clock
        self.step_up = StepUp(repos, settings, clock)

    async def start(self, request: StartTotpEnrolment) -> TotpEnrolment:
        """A new secret after the password and the current factor; the current app (if any)
        stays in use until the new one is confirmed."""
        account = await self.repos.account(request.account_id)
        await self.step_up.check_password(account, request.password)
        if account.totp_secret is not None:
            if request.code is None:
                raise refusal(CURRENT_CODE_REQUIRED, "current_code_required")
            await self.step_up.check_totp(account, request.code, request.session_id)
        else:
            await self.step_up.require_fresh(account, request.session_id, None)
        secret = credentials.new_totp_secret()
        await self.repos.accounts.set_pending_totp(account.id, secret)
        uri = credentials.totp_uri(secret, account.phone or account.snils)
        return TotpEnrolment(secret=secret, otpauth_uri=uri, qr_svg=credentials.qr_svg(uri))

    async def confirm(self, request: ConfirmTotp) -> TotpConfirmed:
        accounts = self.repos.accounts
        account = await self.repos.account(request.account_id)
        secret = await accounts.pending_totp(account.id)
        now = self.clock()
        step = credentials.totp_step(secret, request.code, now) if secret else None
        if secret is None or step is None:
            raise ServiceError(
                ErrorCode.VALIDATION_FAILED, "Неверный код или подключение не начато."
            )
        if not await accounts.activate_totp(account.id, secret, step):
            raise ServiceError(ErrorCode.CONFLICT, "Подключение уже подтверждено или заменено.")
        replaced = account.totp_secret is not None
        log.info("authenticator app %s", "replaced" if replaced else "enabled")
        ended = await self.repos.sessions.end_others(
            account.id, request.session_id, now, SessionEndReason.REVOKED
        )
        await self.announcer.announce(ended)
        security_event(
            "authenticator_replaced" if replaced else "authenticator_enabled",
            account_id=str(account.id),
            session_id=str(request.session_id) if request.session_id else None,
            sessions_ended=len(ended),
        )
        await self.notifications.accept(
            SendNotification(
                message_id=uuid4(),
                recipient_account_id=account.id,
                title=CHANGED_TITLE,
                body=CHANGED_BODY,
                category="security",
                channels=frozenset(NotificationChannel),
            )
        )
        return TotpConfirmed()

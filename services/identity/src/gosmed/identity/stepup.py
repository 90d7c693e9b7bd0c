"""A fresh second factor for sensitive changes of an account (OWASP ASVS 6.3.x / 7.5.x step-up):
giving a power of attorney and changing the authenticator app.

"Fresh" means the session's last second factor (its login, or a later step-up) was passed
within `step_up_seconds`, or a TOTP code of the account's app comes with the request (checked
with replay protection; it renews the session's second-factor time). A live access token alone
is never enough: it can be stolen, a code cannot be replayed.
"""

import logging
from datetime import timedelta
from uuid import UUID

from gosmed.contracts.errors import ErrorCode, ErrorDetail, ServiceError
from gosmed.identity import credentials
from gosmed.identity.domain import Account
from gosmed.identity.service import Clock, Repositories
from gosmed.identity.settings import IdentitySettings
from gosmed.runtime.security_log import security_event

log = logging.getLogger(__name__)

FACTOR_REQUIRED = (
    "Подтвердите действие: введите код из приложения-аутентификатора или войдите заново."
)
WRONG_FACTOR_CODE = "Неверный или уже использованный код подтверждения."
NOT_YOUR_PASSWORD = "Неверный пароль."  # noqa: S105 (a message, not a password)
TOO_MANY = "Слишком много неудачных попыток подтверждения. Повторите позже."


def refusal(message: str, code: str) -> ServiceError:
    """A 403 whose `errors[0].code` tells the client what to ask the user for."""
    return ServiceError(ErrorCode.FORBIDDEN, message, (ErrorDetail(code=code, message=message),))


class StepUp:
    def __init__(self, repos: Repositories, settings: IdentitySettings, clock: Clock) -> None:
        self.repos = repos
        self.settings = settings
        self.clock = clock

    def _key(self, account: Account) -> str:
        return f"step-up:{account.id}"

    async def _refuse_if_locked(self, account: Account) -> None:
        if (await self.repos.failures.get(self._key(account))).locked(self.clock()):
            raise ServiceError(ErrorCode.RATE_LIMITED, TOO_MANY)

    async def _failed(self, account: Account, what: str, message: str, code: str) -> ServiceError:
        """Count a failed confirmation (locked like logins at the limit); the error to raise."""
        settings = self.settings
        count = await self.repos.failures.count(
            self._key(account),
            self.clock(),
            settings.lock_after_failures,
            timedelta(seconds=settings.failure_window_seconds),
            timedelta(seconds=settings.lock_seconds),
        )
        security_event("step_up_failed", account_id=str(account.id), factor=what)
        if count.locked(self.clock()):
            return ServiceError(ErrorCode.RATE_LIMITED, TOO_MANY)
        return refusal(message, code)

    async def check_password(self, account: Account, password: str | None) -> None:
        await self._refuse_if_locked(account)
        if not password:
            raise refusal("Введите пароль от учётной записи.", "password_required")
        if not await credentials.password_matches(account.password_hash, password):
            raise await self._failed(account, "password", NOT_YOUR_PASSWORD, "wrong_password")

    async def check_totp(self, account: Account, code: str, session_id: UUID | None) -> None:
        """A code of the account's current app, used once; renews the session's factor."""
        await self._refuse_if_locked(account)
        now = self.clock()
        step = (
            credentials.totp_step(account.totp_secret, code, now) if account.totp_secret else None
        )
        if step is None or not await self.repos.accounts.use_totp_step(account.id, step):
            raise await self._failed(account, "totp", WRONG_FACTOR_CODE, "wrong_code")
        if session_id is not None:
            await self.repos.sessions.record_second_factor(session_id, now)

    async def require_fresh(
        self, account: Account, session_id: UUID | None, code: str | None
    ) -> None:
        """A TOTP code in the request, or a session whose second factor is recent enough."""
        if code is not None:
            await self.check_totp(account, code, session_id)
            return
        session = await self.repos.sessions.get(session_id) if session_id else None
        window = timedelta(seconds=self.settings.step_up_seconds)
        if (
            session is None
            or session.ended
            or session.account_id != account.id
            or self.clock() - session.last_second_factor > window
        ):
            raise refusal(FACTOR_REQUIRED, "second_factor_required")

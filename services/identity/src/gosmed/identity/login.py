"""Login: phone and password or an SMS code, then one second factor; sessions with rotating
refresh tokens."""

import asyncio
import logging
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from gosmed.contracts.base import utc_now
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import Authenticate, Principal
from gosmed.contracts.identity.auth import (
    EndSessions,
    ListSessions,
    LoginChallenge,
    LoginCodeSent,
    RefreshSession,
    SecondFactor,
    SendLoginCode,
    SessionsEnded,
    SessionsView,
    SessionTokens,
    SessionView,
    SmsLoginStarted,
    StartLogin,
    StartSmsLogin,
    VerifyLogin,
    VerifySmsLogin,
)
from gosmed.contracts.identity.tokens import (
    SESSION_ENDED,
    TOKEN_INVALID,
    GetJwks,
    Jwks,
    SessionEndReason,
)
from gosmed.identity import credentials
from gosmed.identity.announcements import SessionAnnouncer
from gosmed.identity.credentials import TokenSigner
from gosmed.identity.domain import (
    Account,
    FirstFactor,
    second_factor_allowed,
    second_factors,
    slowdown,
)
from gosmed.identity.login_limits import (
    LockKind,
    LoginLimit,
    Thresholds,
    ended_by_lock,
    login_limits,
    may_open_attempt,
)
from gosmed.identity.login_repository import LoginAttempt, SentCode, SmsChallenge
from gosmed.identity.repository import Session
from gosmed.identity.service import Clock, Mailer, Repositories, SmsGateway
from gosmed.identity.settings import IdentitySettings
from gosmed.runtime.mail import DeliveryError
from gosmed.runtime.masking import mask_email, mask_phone
from gosmed.runtime.security_log import mask_ip, security_event

log = logging.getLogger(__name__)

WRONG_CREDENTIALS = "Неверный номер телефона или пароль."
LOCKED = "Слишком много неудачных попыток входа. Повторите позже."
ATTEMPT_GONE = "Попытка входа не найдена, истекла или уже завершена. Начните вход заново."
TOO_MANY_CODES = "Превышено число попыток ввода кода. Начните вход заново."
WRONG_CODE = "Неверный или просроченный код."
CODE_REUSED = "Этот код уже использован. Дождитесь следующего кода в приложении."
TOO_MANY_ATTEMPTS = (
    "Слишком много незавершённых входов в эту учётную запись. "
    "Завершите начатый вход или повторите позже."
)
BAD_REFRESH = "Токен обновления недействителен. Войдите снова."
CODE_SENT_RECENTLY = "Код уже отправлен. Повторная отправка чуть позже."
NOT_AFTER_SMS = (
    "После входа по коду из SMS подтвердите вход приложением-аутентификатором или кодом из письма."
)


class LoginService:
    """Phone + password, then one second factor; sessions with rotating refresh tokens."""

    def __init__(
        self,
        repos: Repositories,
        signer: TokenSigner,
        settings: IdentitySettings,
        sms: SmsGateway,
        mailer: Mailer,
        announcer: SessionAnnouncer,
        clock: Clock = utc_now,
    ) -> None:
        self.repos = repos
        self.signer = signer
        self.settings = settings
        self.sms = sms
        self.mailer = mailer
        self.announcer = announcer
        self.clock = clock

    @property
    def _lock(self) -> timedelta:
        return timedelta(seconds=self.settings.lock_seconds)

    def _limits(self, phone: str, address: str) -> tuple[LoginLimit, ...]:
        settings = self.settings
        thresholds = Thresholds(
            pair=settings.lock_after_failures,
            phone=settings.phone_lock_after_failures,
            address=settings.address_lock_after_failures,
        )
        return login_limits(phone, address, thresholds)

    async def _refuse_if_locked(self, phone: str, address: str, step: str) -> None:
        """Every step of a login is refused while its phone, address or both are locked."""
        now = self.clock()
        for limit in self._limits(phone, address):
            if (await self.repos.failures.get(limit.key)).locked(now):
                _login_failed(phone, address, step, "locked")
                raise ServiceError(ErrorCode.RATE_LIMITED, LOCKED)

    async def _count_failure(
        self,
        phone: str,
        address: str,
        account_id: UUID | None,
        attempt_id: UUID | None = None,
    ) -> None:
        """Count a failed step for each counter; slow down, or end the open attempts a new
        lock covers and refuse."""
        now, failures, settings = self.clock(), self.repos.failures, self.settings
        window = timedelta(seconds=settings.failure_window_seconds)
        locked, slowest = False, 0
        for limit in self._limits(phone, address):
            count = await failures.count(limit.key, now, limit.limit, window, self._lock)
            if count.lock_started:
                await self._lock_started(limit, phone, address, account_id, attempt_id)
            locked = locked or count.locked(now)
            if limit.kind != LockKind.ADDRESS:
                slowest = max(slowest, count.failures)
        if locked:
            raise ServiceError(ErrorCode.RATE_LIMITED, LOCKED)
        await asyncio.sleep(slowdown(slowest, self.settings.slowdown_seconds))

    async def _lock_started(
        self,
        limit: LoginLimit,
        phone: str,
        address: str,
        account_id: UUID | None,
        attempt_id: UUID | None,
    ) -> None:
        security_event(
            "login_lock_started",
            lock=limit.kind.value,
            phone=mask_phone(phone) if limit.kind != LockKind.ADDRESS else None,
            address=mask_ip(address) if limit.kind != LockKind.PHONE else None,
            seconds=self.settings.lock_seconds,
        )
        scope = ended_by_lock(limit.kind, account_id, address, attempt_id)
        if scope is None:
            return
        now = self.clock()
        ended = await self.repos.attempts.end_open(scope, now)
        ended += await self.repos.sms_challenges.end_open(scope, now)
        if ended:
            security_event(
                "login_attempts_ended",
                reason="lock",
                lock=limit.kind.value,
                account_id=str(scope.account_id) if scope.account_id else None,
                address=mask_ip(scope.address),
                attempts=ended,
            )

    async def start(self, request: StartLogin) -> LoginChallenge:
        phone, address = request.phone, request.client_address
        await self._refuse_if_locked(phone, address, "password")
        account = await self.repos.accounts.by_phone(phone)
        # Verified even for an unknown phone (against a dummy hash): the same time either way.
        matches = await credentials.password_matches(
            account.password_hash if account else None, request.password
        )
        if account is None or not matches:
            _login_failed(phone, address, "password", "wrong_password")
            await self._count_failure(phone, address, account.id if account else None)
            raise ServiceError(ErrorCode.UNAUTHENTICATED, WRONG_CREDENTIALS)
        return await self._open_attempt(account, phone, address, FirstFactor.PASSWORD)

    async def _open_attempt(
        self, account: Account, phone: str, address: str, first: FirstFactor
    ) -> LoginChallenge:
        """The first factor passed: a login attempt waiting for a second factor."""
        attempt_id, now = uuid4(), self.clock()
        expires_at = now + timedelta(seconds=self.settings.login_attempt_ttl)
        attempts = self.repos.attempts
        await attempts.add(attempt_id, account.id, expires_at, address, first)
        # Counted with the new one in: of concurrent starts over the cap, none is kept.
        settings = self.settings
        still_open = await attempts.open_count(account.id, now, settings.code_max_tries)
        if not may_open_attempt(still_open, settings.max_open_login_attempts):
            await attempts.remove(attempt_id)
            _login_failed(phone, address, first.value, "too_many_open_attempts")
            raise ServiceError(ErrorCode.RATE_LIMITED, TOO_MANY_ATTEMPTS)
        return LoginChallenge(
            attempt_id=attempt_id, factors=second_factors(account, first), expires_at=expires_at
        )

    async def start_by_sms(self, request: StartSmsLogin) -> SmsLoginStarted:
        """Send a code to the phone. A phone without an account gets the same answer (and the
        same resend interval and locks), but no SMS, and no code of its challenge passes."""
        phone, address = request.phone, request.client_address
        await self._refuse_if_locked(phone, address, "sms_login")
        now, challenges = self.clock(), self.repos.sms_challenges
        resend = timedelta(seconds=self.settings.code_resend_interval)
        if not await challenges.claim_send(phone, now, resend):
            raise ServiceError(ErrorCode.RATE_LIMITED, CODE_SENT_RECENTLY)
        account = await self.repos.accounts.by_phone(phone)
        challenge_id, code = uuid4(), credentials.new_code()
        expires_at = now + timedelta(seconds=self.settings.code_ttl)
        digest = credentials.code_digest(challenge_id, code)
        owner = account.id if account else None
        await challenges.add(SmsChallenge(challenge_id, phone, owner, expires_at, digest), address)
        if account is not None:
            try:
                await self.sms.send(phone, _login_code_sms(code), now)
            except DeliveryError as exc:
                # Answered as sent all the same, or the failure would tell the phone is known;
                # a new code can be asked for after the resend interval.
                log.warning("sms login code delivery failed: %s", exc)
        return SmsLoginStarted(
            challenge_id=challenge_id, expires_at=expires_at, resend_after=now + resend
        )

    async def verify_sms(self, request: VerifySmsLogin) -> LoginChallenge:
        """The SMS code of the first step: a login attempt whose second factor is the app or
        the e-mail, never the SMS code again."""
        address, step = request.client_address, "sms_login"
        challenge = await self.repos.sms_challenges.get(request.challenge_id)
        if challenge is None or challenge.expires_at <= self.clock():
            raise ServiceError(ErrorCode.UNAUTHENTICATED, ATTEMPT_GONE)
        phone = challenge.phone
        await self._refuse_if_locked(phone, address, step)
        if challenge.completed:
            raise ServiceError(ErrorCode.UNAUTHENTICATED, ATTEMPT_GONE)
        if challenge.failures >= self.settings.code_max_tries:
            raise ServiceError(ErrorCode.UNAUTHENTICATED, TOO_MANY_CODES)
        account = await self._challenge_owner(challenge)
        if account is None or not credentials.codes_equal(
            challenge.digest, challenge.id, request.code
        ):
            _login_failed(phone, address, step, "wrong_code")
            failures = await self.repos.sms_challenges.count_failure(challenge.id)
            await self._count_failure(phone, address, challenge.account_id, challenge.id)
            raise self._wrong_code(failures)
        # Fails too when a lock started meanwhile: the lock ended this challenge.
        if not await self.repos.sms_challenges.complete(challenge.id, self.settings.code_max_tries):
            raise ServiceError(ErrorCode.UNAUTHENTICATED, ATTEMPT_GONE)
        if not second_factors(account, FirstFactor.SMS):
            _login_failed(phone, address, step, "no_second_factor")
            raise ServiceError(ErrorCode.NO_SECOND_FACTOR)
        return await self._open_attempt(account, phone, address, FirstFactor.SMS)

    async def _challenge_owner(self, challenge: SmsChallenge) -> Account | None:
        if challenge.account_id is None:
            return None
        return await self.repos.accounts.get(challenge.account_id)

    def _wrong_code(self, failures: int) -> ServiceError:
        left = max(0, self.settings.code_max_tries - failures)
        if left == 0:
            return ServiceError(ErrorCode.UNAUTHENTICATED, TOO_MANY_CODES)
        return ServiceError(ErrorCode.UNAUTHENTICATED, f"{WRONG_CODE} Осталось попыток: {left}.")

    async def _live_attempt(
        self, attempt_id: UUID, address: str, step: str
    ) -> tuple[LoginAttempt, Account, str]:
        """The attempt, its account and phone, unless a lock covers them (checked first: an
        attempt a lock ended is refused as locked while the lock lasts)."""
        attempt = await self.repos.attempts.get(attempt_id)
        if attempt is None or attempt.expires_at <= self.clock():
            raise ServiceError(ErrorCode.UNAUTHENTICATED, ATTEMPT_GONE)
        account = await self.repos.accounts.get(attempt.account_id)
        if account is None or account.phone is None:  # a login attempt starts from the phone
            raise ServiceError(ErrorCode.UNAUTHENTICATED, ATTEMPT_GONE)
        await self._refuse_if_locked(account.phone, address, step)
        if attempt.completed:
            raise ServiceError(ErrorCode.UNAUTHENTICATED, ATTEMPT_GONE)
        if attempt.failures >= self.settings.code_max_tries:
            raise ServiceError(ErrorCode.UNAUTHENTICATED, TOO_MANY_CODES)
        return attempt, account, account.phone

    async def send_code(self, request: SendLoginCode) -> LoginCodeSent:
        attempt, account, _ = await self._live_attempt(
            request.attempt_id, request.client_address, "send_code"
        )
        _refuse_unless_allowed(attempt, request.factor)
        destination = account.phone if request.factor == SecondFactor.SMS else account.email
        if destination is None:
            raise ServiceError(ErrorCode.CONFLICT, "Для этой учётной записи способ недоступен.")
        now, code = self.clock(), credentials.new_code()
        expires_at = now + timedelta(seconds=self.settings.code_ttl)
        resend = timedelta(seconds=self.settings.code_resend_interval)
        sent = SentCode(credentials.code_digest(attempt.id, code), expires_at, now)
        if not await self.repos.attempts.store_code(attempt.id, request.factor.value, sent, resend):
            raise ServiceError(ErrorCode.RATE_LIMITED, CODE_SENT_RECENTLY)
        try:
            if request.factor == SecondFactor.SMS:
                await self.sms.send(destination, _login_code_sms(code), now)
            else:
                text = (
                    f"Код для входа в «Сведения об оказанных медицинских услугах»: {code}.\n"
                    "Код действует 5 минут. Если вы не входили, смените пароль."
                )
                await self.mailer.send(destination, "Код для входа", text)
        except DeliveryError as exc:
            log.warning("login code delivery by %s failed: %s", request.factor.value, exc)
            raise ServiceError(
                ErrorCode.SERVICE_UNAVAILABLE, "Не удалось отправить код, выберите другой способ."
            ) from None
        return LoginCodeSent(
            factor=request.factor,
            destination=mask_phone(destination)
            if request.factor == SecondFactor.SMS
            else mask_email(destination),
            expires_at=expires_at,
            resend_after=now + resend,
        )

    async def _code_is_valid(self, attempt: LoginAttempt, account: Account, r: VerifyLogin) -> bool:
        now = self.clock()
        if r.factor == SecondFactor.TOTP:
            if account.totp_secret is None:
                return False
            step = credentials.totp_step(account.totp_secret, r.code, now)
            if step is None:
                return False
            if not await self.repos.accounts.use_totp_step(account.id, step):
                raise ServiceError(ErrorCode.UNAUTHENTICATED, CODE_REUSED)
            return True
        sent = attempt.codes.get(r.factor.value)
        return (
            sent is not None
            and now < sent.expires_at
            and credentials.codes_equal(sent.digest, attempt.id, r.code)
        )

    async def verify(self, request: VerifyLogin) -> SessionTokens:
        address, step = request.client_address, request.factor.value
        attempt, account, phone = await self._live_attempt(request.attempt_id, address, step)
        _refuse_unless_allowed(attempt, request.factor)
        if not await self._code_is_valid(attempt, account, request):
            _login_failed(phone, address, step, "wrong_code")
            failures = await self.repos.attempts.count_failure(attempt.id)
            await self._count_failure(phone, address, account.id, attempt.id)
            raise self._wrong_code(failures)
        # Fails too when a lock started meanwhile: the lock ended this attempt.
        if not await self.repos.attempts.complete(attempt.id, self.settings.code_max_tries):
            raise ServiceError(ErrorCode.UNAUTHENTICATED, ATTEMPT_GONE)
        # The owner's success forgets the failures of this phone at this address only: a
        # guesser spread over other addresses keeps counting towards the phone's lock.
        pair, *_ = self._limits(phone, address)
        await self.repos.failures.clear(pair.key)
        security_event(
            "login_succeeded",
            account_id=str(account.id),
            phone=mask_phone(phone),
            address=mask_ip(address),
            factor=step,
        )
        return await self._open_session(account, request.device, address)

    async def _open_session(self, account: Account, device: str, address: str) -> SessionTokens:
        now = self.clock()
        refresh = credentials.new_refresh_secret()
        session = Session(
            id=uuid4(),
            account_id=account.id,
            device=device,
            client_address=address,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(seconds=self.settings.session_absolute_timeout),
            tokens_expire_by=now + self._ttl,
            refresh_digest=credentials.token_digest(refresh),
        )
        await self.repos.sessions.add(session)
        log.info("session opened")
        return self._tokens(account, session, refresh)

    def _tokens(self, account: Account, session: Session, refresh: str) -> SessionTokens:
        now = self.clock()
        access = self.signer.sign(account, session.id, now, session.expires_at)
        return SessionTokens(
            session_id=session.id,
            access_token=access,
            refresh_token=refresh,
            expires_in=min(self.signer.ttl, int((session.expires_at - now).total_seconds())),
        )

    @property
    def _ttl(self) -> timedelta:
        return timedelta(seconds=self.signer.ttl)

    @property
    def _idle(self) -> timedelta:
        return timedelta(seconds=self.settings.session_idle_timeout)

    async def refresh(self, request: RefreshSession) -> SessionTokens:
        """A refresh is the session's sign of activity (the edge checks tokens by itself)."""
        now, sessions = self.clock(), self.repos.sessions
        old = credentials.token_digest(request.refresh_token)
        new_refresh = credentials.new_refresh_secret()
        new_digest = credentials.token_digest(new_refresh)
        session = await sessions.rotate(old, new_digest, now, self._idle, self._ttl)
        if session is None:
            await self._end_refused_family(old, now)
            raise ServiceError(ErrorCode.UNAUTHENTICATED, BAD_REFRESH)
        account = await self.repos.accounts.get(session.account_id)
        if account is None:
            raise ServiceError(ErrorCode.UNAUTHENTICATED, BAD_REFRESH)
        return self._tokens(account, session, new_refresh)

    async def _end_refused_family(self, digest: str, now: datetime) -> None:
        """End the session of a refused refresh token: reused (a stolen copy may be in use),
        or current but past the idle or absolute timeout."""
        family = await self.repos.sessions.family_of(digest)
        if family is None or family.ended:
            return
        if family.refresh_digest != digest:
            reason = SessionEndReason.REFRESH_REUSED
            log.warning("refresh token reused: its session was ended")
        elif family.expires_at <= now:
            reason = SessionEndReason.ABSOLUTE_TIMEOUT
        else:
            reason = SessionEndReason.IDLE_TIMEOUT
        ended = await self.repos.sessions.end(family.account_id, family.id, now, reason)
        await self.announcer.announce(ended)

    async def jwks(self, request: GetJwks) -> Jwks:
        """The public keys of the tokens, for the edge (and any other verifier)."""
        return self.signer.jwks()

    async def authenticate(self, request: Authenticate) -> Principal:
        """The edge's fallback while it cannot vouch for a token itself (before it has caught
        up with the ended sessions, e.g. after a broker reconnect)."""
        now = self.clock()
        claims = self.signer.verify(request.access_token, now)
        if claims is None:
            raise ServiceError(ErrorCode.UNAUTHENTICATED, TOKEN_INVALID)
        session = await self.repos.sessions.touch(claims.sid, now, self._idle)
        if session is None or session.account_id != claims.sub:
            raise ServiceError(ErrorCode.UNAUTHENTICATED, SESSION_ENDED)
        account = await self.repos.accounts.get(claims.sub)
        if account is None:
            raise ServiceError(ErrorCode.UNAUTHENTICATED, SESSION_ENDED)
        return Principal(
            account_id=account.id,
            session_id=session.id,
            roles=account.roles,
            confirmation_level=account.confirmation_level,
        )

    async def end_sessions(self, request: EndSessions) -> SessionsEnded:
        reason = SessionEndReason.LOGOUT if request.logout else SessionEndReason.REVOKED
        ended = await self.repos.sessions.end(
            request.account_id, request.session_id, self.clock(), reason
        )
        if request.session_id is not None and not ended:
            raise ServiceError(ErrorCode.NOT_FOUND, "Сеанс не найден.")
        await self.announcer.announce(ended)
        return SessionsEnded(ended=len(ended))

    async def list_sessions(self, request: ListSessions) -> SessionsView:
        live = await self.repos.sessions.live(request.account_id, self.clock(), self._idle)
        return SessionsView(
            sessions=tuple(
                SessionView(
                    session_id=s.id,
                    device=s.device,
                    client_address=s.client_address,
                    created_at=s.created_at,
                    last_seen_at=s.last_seen_at,
                    current=s.id == request.current_session_id,
                )
                for s in live
            )
        )


def _login_failed(phone: str, address: str, step: str, reason: str) -> None:
    security_event(
        "login_failed", phone=mask_phone(phone), address=mask_ip(address), step=step, reason=reason
    )


def _login_code_sms(code: str) -> str:
    return f"Код для входа: {code}. Никому его не сообщайте."


def _refuse_unless_allowed(attempt: LoginAttempt, factor: SecondFactor) -> None:
    if not second_factor_allowed(attempt.first_factor, factor):
        raise ServiceError(ErrorCode.FACTOR_NOT_ALLOWED, NOT_AFTER_SMS)

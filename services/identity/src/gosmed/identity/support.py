"""Use cases of support requests: a citizen (logged in or not) files one, operators list and
answer them, and anyone asks where to get help in person."""

import logging
import math
from datetime import datetime, timedelta
from uuid import UUID

from gosmed.contracts.access import AccessContext, Role
from gosmed.contracts.base import utc_now
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.notifications import NOTIFY_QUEUE
from gosmed.contracts.identity.support import (
    HOTLINE,
    AnswerSupportRequest,
    FileSupportRequest,
    GetSupportContacts,
    ListSupportRequests,
    SupportContacts,
    SupportRequestFiled,
    SupportRequestsPage,
    SupportRequestView,
)
from gosmed.identity.service import Clock, Repositories
from gosmed.identity.settings import IdentitySettings
from gosmed.identity.support_repository import SupportRepository
from gosmed.identity.support_rules import (
    SupportRequest,
    limit_key,
    offices_in,
    support_number,
    tied_account,
)
from gosmed.runtime.cursor import decode_cursor, encode_cursor
from gosmed.runtime.outbox import OutboxEntry, Relay

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
TOO_MANY = "Слишком много обращений за час. Повторите позже или позвоните на горячую линию."
OPERATORS_ONLY = "Обращения в поддержку видят только операторы."
NOT_FOUND = "Обращение не найдено."
ALREADY_ANSWERED = "На это обращение уже ответили."


class SupportService:
    def __init__(
        self,
        repos: Repositories,
        support: SupportRepository,
        relay: Relay,
        settings: IdentitySettings,
        clock: Clock = utc_now,
    ) -> None:
        self.repos = repos
        self.support = support
        self.relay = relay
        self.settings = settings
        self.clock = clock
        relay.add(support.outbox)

    async def file(self, request: FileSupportRequest) -> SupportRequestFiled:
        """Store a numbered request, tied to an account or to nobody: the answer is the same
        either way, so it tells a stranger nothing about whose identifiers they typed."""
        existing = await self.support.get(request.message_id)
        if existing is not None:  # a repeated filing: the request it made
            return _filed(existing)
        now = self.clock()
        await self._within_limit(request.account_id, request.client_address, now)
        form = request.form
        matches: list[UUID] = []
        if request.account_id is None:
            matches = await self.repos.accounts.matching(form.snils, form.inn, form.oms_policy)
        sequence = await self.support.next_sequence(now.year)
        filed = SupportRequest(
            id=request.message_id,
            number=support_number(now.year, sequence),
            topic=form.topic,
            full_name=form.full_name,
            snils=form.snils,
            inn=form.inn,
            oms_policy=form.oms_policy,
            text=form.text,
            account_id=tied_account(request.account_id, matches),
            created_at=now,
        )
        await self.support.add(filed)
        log.info("support request %s filed, topic %s", filed.number, filed.topic.value)
        return _filed(filed)

    async def _within_limit(self, account_id: UUID | None, address: str, now: datetime) -> None:
        """At most `support_requests_per_hour` per account, or per client address for
        strangers: the last one allowed locks the counter for an hour."""
        key = limit_key(account_id, address)
        counted = await self.repos.failures.get(key)
        if counted.locked(now) and counted.locked_until is not None:
            wait = math.ceil((counted.locked_until - now).total_seconds())
            raise ServiceError(ErrorCode.RATE_LIMITED, TOO_MANY, retry_after=max(wait, 1))
        limit = self.settings.support_requests_per_hour
        await self.repos.failures.count(key, now, limit, HOUR, HOUR)

    async def list(self, query: ListSupportRequests) -> SupportRequestsPage:
        """Operators: requests of a status, oldest first."""
        await self._operator(query.context)
        after = decode_cursor(query.cursor, datetime.fromisoformat, UUID) if query.cursor else None
        found = await self.support.page(query.status, query.limit + 1, after)
        page = found[: query.limit]
        last = page[-1] if len(found) > query.limit else None
        return SupportRequestsPage(
            items=tuple(r.view() for r in page),
            next_cursor=encode_cursor(last.created_at.isoformat(), str(last.id)) if last else None,
        )

    async def answer(self, command: AnswerSupportRequest) -> SupportRequestView:
        """Operators: answer an open request; its account, if tied to one, gets the answer in
        the inbox and by e-mail (a notice owed by the same write, relayed until sent)."""
        await self._operator(command.context)
        request = await self.support.get(command.request_id)
        if request is None:
            raise ServiceError(ErrorCode.NOT_FOUND, NOT_FOUND)
        now = self.clock()
        notice = request.answer_notice(command.text, now)
        entries = (OutboxEntry.command(NOTIFY_QUEUE, notice),) if notice else ()
        answered = await self.support.answer(request.id, command.text, now, *entries)
        if answered is None:
            raise ServiceError(ErrorCode.CONFLICT, ALREADY_ANSWERED)
        await self.relay.flush(self.support.outbox, str(request.id))
        log.info("support request %s answered", answered.number)
        return answered.view()

    async def contacts(self, query: GetSupportContacts) -> SupportContacts:
        """The hotline and the offices of the caller's city (all of them when it has none);
        a stranger's of `city`, or all."""
        if query.account_id is not None:
            account = await self.repos.accounts.get(query.account_id)
            city = account.city if account else None
            offices = offices_in(city)
            if not offices:
                city, offices = None, offices_in(None)
        else:
            city, offices = query.city, offices_in(query.city)
        return SupportContacts(hotline=HOTLINE, city=city, offices=offices)

    async def _operator(self, context: AccessContext) -> None:
        """Only an account with the operator role, as identity has it on record."""
        actor = await self.repos.accounts.get(context.actor_id)
        if actor is None or Role.OPERATOR not in actor.roles:
            raise ServiceError(ErrorCode.FORBIDDEN, OPERATORS_ONLY)


def _filed(request: SupportRequest) -> SupportRequestFiled:
    return SupportRequestFiled(
        request_id=request.id,
        number=request.number,
        status=request.status,
        created_at=request.created_at,
    )

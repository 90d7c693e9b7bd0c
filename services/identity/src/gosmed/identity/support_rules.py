"""Support requests (no I/O): their numbers, which account a request is tied to, the rate
limit's counter, the answer's notice, and the МФЦ offices shown for a city."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from gosmed.contracts.identity.notifications import NotificationChannel, SendNotification
from gosmed.contracts.identity.support import (
    TOPIC_TITLES,
    MfcOffice,
    SupportRequestStatus,
    SupportRequestView,
    SupportTopic,
)

NUMBER_PREFIX = "SR"
ANSWER_CATEGORY = "support_answer"


def support_number(year: int, sequence: int) -> str:
    """The request's number: `SR-<year>-<six digits of the year's sequence>`."""
    return f"{NUMBER_PREFIX}-{year}-{sequence:06d}"


def tied_account(logged_in: UUID | None, matches: Sequence[UUID]) -> UUID | None:
    """The account a request is tied to: the caller's when logged in; for a stranger the one
    account whose identifiers match, and none when no account or several do."""
    if logged_in is not None:
        return logged_in
    return matches[0] if len(matches) == 1 else None


def limit_key(account_id: UUID | None, client_address: str) -> str:
    """The rate limit's counter: per account when logged in, per client address otherwise."""
    if account_id is not None:
        return f"support:account:{account_id}"
    return f"support:address:{client_address}"


@dataclass(frozen=True)
class SupportRequest:
    id: UUID
    number: str
    topic: SupportTopic
    full_name: str
    snils: str | None
    inn: str | None
    oms_policy: str
    text: str
    account_id: UUID | None
    created_at: datetime
    status: SupportRequestStatus = SupportRequestStatus.OPEN
    answer: str | None = None
    answered_at: datetime | None = None

    def view(self) -> SupportRequestView:
        return SupportRequestView(
            request_id=self.id,
            number=self.number,
            status=self.status,
            topic=self.topic,
            topic_title=TOPIC_TITLES[self.topic],
            full_name=self.full_name,
            snils=self.snils,
            inn=self.inn,
            oms_policy=self.oms_policy,
            text=self.text,
            tied_to_account=self.account_id is not None,
            created_at=self.created_at,
            answer=self.answer,
            answered_at=self.answered_at,
        )

    def answer_notice(self, answer: str, now: datetime) -> SendNotification | None:
        """The answer for the tied account's inbox and e-mail (None: tied to nobody). Its id is
        the request's, so a repeated publish lands once."""
        if self.account_id is None:
            return None
        return SendNotification(
            message_id=self.id,
            occurred_at=now,
            recipient_account_id=self.account_id,
            title=f"Ответ на обращение {self.number}",
            body=f"{TOPIC_TITLES[self.topic]}.\n{answer}",
            channels=frozenset({NotificationChannel.INBOX, NotificationChannel.EMAIL}),
            category=ANSWER_CATEGORY,
        )


MFC_OFFICES: tuple[MfcOffice, ...] = (
    MfcOffice(
        name="МФЦ района Хамовники",
        city="Москва",
        address="Москва, ул. Льва Толстого, д. 7",
        hours="ежедневно 8:00–20:00",
        phone="+7 495 777-77-77",
    ),
    MfcOffice(
        name="МФЦ района Тверской",
        city="Москва",
        address="Москва, ул. Тверская, д. 11",
        hours="ежедневно 8:00–20:00",
        phone="+7 495 777-77-77",
    ),
    MfcOffice(
        name="МФЦ Центрального района",
        city="Санкт-Петербург",
        address="Санкт-Петербург, Невский пр., д. 174",
        hours="ежедневно 9:00–21:00",
        phone="+7 812 573-90-00",
    ),
    MfcOffice(
        name="МФЦ Вахитовского района",
        city="Казань",
        address="Казань, ул. Пушкина, д. 2",
        hours="пн–сб 8:00–20:00",
        phone="+7 843 212-33-33",
    ),
)


def offices_in(city: str | None) -> tuple[MfcOffice, ...]:
    """The offices of `city` (compared without case), all of them when no city is given."""
    if city is None:
        return MFC_OFFICES
    wanted = city.strip().casefold()
    return tuple(o for o in MFC_OFFICES if o.city.casefold() == wanted)

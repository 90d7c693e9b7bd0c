"""Support requests over the embedded store with the demo people: filing (logged in or not,
tied by the one matching account), numbering, the rate limit, the operators' queue and answer,
whose notice is owed by the same write, and the contacts."""

from typing import Any
from uuid import UUID, uuid4

import pytest

from gosmed.contracts import demo
from gosmed.contracts.access import AccessContext
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.notifications import NOTIFY_QUEUE, SendNotification
from gosmed.contracts.identity.support import (
    AnswerSupportRequest,
    FileSupportRequest,
    GetSupportContacts,
    ListSupportRequests,
    SupportRequestForm,
    SupportRequestStatus,
)
from gosmed.identity.demo import account_id
from gosmed.identity.service import Repositories
from gosmed.identity.settings import IdentitySettings
from gosmed.identity.support import SupportService
from gosmed.identity.support_repository import SupportRepository
from gosmed.runtime.outbox import Relay
from gosmed.runtime.testing import FakePublisher

from .support import Clock, refused

PER_HOUR = 3
OPERATOR = AccessContext(actor_id=account_id(demo.OPERATOR))


@pytest.fixture
def published() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
async def support(
    database: Any, repos: Repositories, clock: Clock, published: FakePublisher
) -> SupportService:
    store = SupportRepository(database)
    await store.ensure_indexes()
    settings = IdentitySettings(support_requests_per_hour=PER_HOUR)
    return SupportService(repos, store, Relay(published), settings, clock)


def form(person: demo.DemoPerson = demo.PATIENT, **changes: Any) -> SupportRequestForm:
    fields = {
        "full_name": person.full_name,
        "snils": person.snils,
        "oms_policy": person.oms_policy,
        "topic": "no_services",
        "text": "Нет сведений о приёме.",
        **changes,
    }
    return SupportRequestForm.model_validate(fields)


def filing(
    person: demo.DemoPerson = demo.PATIENT,
    *,
    caller: demo.DemoPerson | None = None,
    address: str = "203.0.113.5",
    **changes: Any,
) -> FileSupportRequest:
    return FileSupportRequest(
        form=form(person, **changes),
        account_id=account_id(caller) if caller else None,
        client_address=address,
    )


async def tied(support: SupportService, request_id: UUID) -> bool:
    page = await support.list(ListSupportRequests(context=OPERATOR))
    return next(r for r in page.items if r.request_id == request_id).tied_to_account


def notices(published: FakePublisher) -> list[SendNotification]:
    return published.messages(NOTIFY_QUEUE, SendNotification)


async def test_a_logged_in_request_is_answered_into_the_callers_inbox(
    support: SupportService, published: FakePublisher
) -> None:
    # The caller is tied even when the form's identifiers are someone else's.
    filed = await support.file(filing(demo.PARENT, caller=demo.PATIENT))
    assert filed.status == SupportRequestStatus.OPEN
    answer = AnswerSupportRequest(context=OPERATOR, request_id=filed.request_id, text="Готово.")
    view = await support.answer(answer)
    assert view.status == SupportRequestStatus.ANSWERED
    assert view.answer == "Готово."
    (notice,) = notices(published)
    assert notice.recipient_account_id == account_id(demo.PATIENT)
    assert filed.number in notice.title
    assert "Готово." in notice.body
    assert await refused(support.answer(answer), ErrorCode.CONFLICT)
    assert len(notices(published)) == 1
    unknown = AnswerSupportRequest(context=OPERATOR, request_id=uuid4(), text="Готово.")
    assert await refused(support.answer(unknown), ErrorCode.NOT_FOUND)


async def test_a_stranger_is_tied_only_by_a_matching_snils_or_inn_and_policy(
    support: SupportService, published: FakePublisher
) -> None:
    by_snils = await support.file(filing())
    by_inn = await support.file(filing(snils=None, inn=demo.PATIENT.inn))
    wrong_policy = await support.file(filing(oms_policy=demo.PARENT.oms_policy, address="b"))
    unknown = await support.file(
        filing(snils="11111111145", oms_policy="7799999999999999", address="c")
    )
    # The same answer whether tied or not: nothing tells a stranger whose data matched.
    assert {
        tuple(f.model_dump(exclude={"request_id", "number", "created_at"}).items())
        for f in (by_snils, by_inn, wrong_policy, unknown)
    } == {(("status", "open"),)}
    assert await tied(support, by_snils.request_id)
    assert await tied(support, by_inn.request_id)
    assert not await tied(support, wrong_policy.request_id)
    assert not await tied(support, unknown.request_id)
    for filed in (by_snils, unknown):
        await support.answer(
            AnswerSupportRequest(context=OPERATOR, request_id=filed.request_id, text="Ответ.")
        )
    (notice,) = notices(published)
    assert notice.recipient_account_id == account_id(demo.PATIENT)


async def test_numbers_follow_each_other_and_a_repeated_filing_stores_one(
    support: SupportService, clock: Clock
) -> None:
    first = filing()
    one = await support.file(first)
    assert one.number == f"SR-{clock().year}-000001"
    assert await support.file(first) == one
    two = await support.file(filing(address="another"))
    assert two.number == f"SR-{clock().year}-000002"


async def test_requests_are_limited_per_address_and_per_account(
    support: SupportService, clock: Clock
) -> None:
    for _ in range(PER_HOUR):
        await support.file(filing())
    with pytest.raises(ServiceError) as caught:
        await support.file(filing())
    assert caught.value.code == ErrorCode.RATE_LIMITED
    assert caught.value.retry_after == 3600
    await support.file(filing(address="198.51.100.7"))  # another address counts apart
    for _ in range(PER_HOUR):
        await support.file(filing(caller=demo.PARENT))  # so does an account, from anywhere
    await refused(support.file(filing(caller=demo.PARENT, address="x")), ErrorCode.RATE_LIMITED)
    clock.advance(1800)
    with pytest.raises(ServiceError) as later:
        await support.file(filing())
    assert later.value.retry_after == 1800
    clock.advance(1800)
    await support.file(filing())


async def test_only_operators_see_and_answer_and_pages_follow_the_cursor(
    support: SupportService, clock: Clock
) -> None:
    citizen = AccessContext(actor_id=account_id(demo.PATIENT))
    await refused(support.list(ListSupportRequests(context=citizen)), ErrorCode.FORBIDDEN)
    filed = []
    for n in range(3):
        filed.append(await support.file(filing(address=f"a{n}")))
        clock.advance(1)
    answer = AnswerSupportRequest(context=citizen, request_id=filed[0].request_id, text="Да.")
    await refused(support.answer(answer), ErrorCode.FORBIDDEN)
    first = await support.list(ListSupportRequests(context=OPERATOR, limit=2))
    assert first.next_cursor is not None
    rest = await support.list(
        ListSupportRequests(context=OPERATOR, limit=2, cursor=first.next_cursor)
    )
    assert rest.next_cursor is None
    assert [r.request_id for r in (*first.items, *rest.items)] == [f.request_id for f in filed]
    await support.answer(answer.model_copy(update={"context": OPERATOR}))
    answered = await support.list(
        ListSupportRequests(context=OPERATOR, status=SupportRequestStatus.ANSWERED)
    )
    assert [r.request_id for r in answered.items] == [filed[0].request_id]
    await refused(
        support.list(ListSupportRequests(context=OPERATOR, cursor="forged")),
        ErrorCode.VALIDATION_FAILED,
    )


async def test_an_answer_whose_notice_the_broker_refused_is_relayed_later(
    support: SupportService, published: FakePublisher
) -> None:
    filed = await support.file(filing(caller=demo.PATIENT))
    published.refuse(1)
    await support.answer(
        AnswerSupportRequest(context=OPERATOR, request_id=filed.request_id, text="Ответ.")
    )
    assert notices(published) == []
    assert await support.relay.relay_pending() == 0
    (notice,) = notices(published)
    assert notice.message_id == filed.request_id


async def test_contacts_of_the_callers_city_or_the_asked_one_or_all(
    support: SupportService,
) -> None:
    mine = await support.contacts(GetSupportContacts(account_id=account_id(demo.PATIENT)))
    assert mine.hotline == "8-800-555-35-35"
    assert mine.city == demo.PATIENT.city
    assert mine.offices
    assert {o.city for o in mine.offices} == {demo.PATIENT.city}
    asked = await support.contacts(GetSupportContacts(city="Казань"))
    assert {o.city for o in asked.offices} == {"Казань"}
    every = await support.contacts(GetSupportContacts())
    assert every.city is None
    assert len({o.city for o in every.offices}) >= 3

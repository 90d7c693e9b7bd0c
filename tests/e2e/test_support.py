"""Support requests through the edge and the broker: a citizen (logged in or a stranger) files
one, an operator answers it, and the answer reaches the inbox and the e-mail of the account it
is tied to, and nobody's when it is tied to none; the rate limit; where to get help."""

import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from gosmed.contracts import demo
from tests.conftest import free_port
from tests.e2e.identity_support import DEMO_ENV, login
from tests.e2e.mail_support import Mailbox, letter_about, serve_mailbox

SMTP_PORT = free_port()
PER_HOUR = 4
REQUESTS = "/api/v1/support/requests"
QUEUE = "/api/v1/operator/support-requests"
T = TypeVar("T")


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    yield from serve_mailbox(SMTP_PORT)


@pytest.fixture(scope="module")
def stack_env(mailbox: Mailbox) -> dict[str, str]:
    return {
        **DEMO_ENV,
        "GOSMED_IDENTITY_SMTP_PORT": str(SMTP_PORT),
        "GOSMED_IDENTITY_DELIVERY_POLL_SECONDS": "0.2",
        "GOSMED_IDENTITY_SUPPORT_REQUESTS_PER_HOUR": str(PER_HOUR),
    }


def eventually(probe: Callable[[], T | None], what: str, within: float = 15.0) -> T:
    """Poll `probe` until it answers something, or fail after `within` seconds."""
    deadline = time.monotonic() + within
    while (found := probe()) is None:
        assert time.monotonic() < deadline, f"not within {within} s: {what}"
        time.sleep(0.1)  # polling with a deadline, not waiting for a guess
    return found


def form(person: demo.DemoPerson | None = None, **changes: Any) -> dict[str, Any]:
    """A request with the identifiers of `person`, or of nobody on record."""
    return {
        "full_name": person.full_name if person else "Незнакомов Пётр Петрович",
        "snils": person.snils if person else "11111111145",
        "oms_policy": person.oms_policy if person else f"7799{uuid.uuid4().int % 10**12:012d}",
        "topic": "no_services",
        "text": f"Нет сведений о приёме {uuid.uuid4().hex[:6]}.",
        **changes,
    }


def file(edge: httpx.Client, body: dict[str, Any], headers: dict[str, str] | None = None) -> str:
    """File a request; its number."""
    response = edge.post(REQUESTS, json=body, headers=headers or {})
    assert response.status_code == 201, response.text
    filed = response.json()
    assert set(filed) == {"request_id", "number", "status", "created_at"}
    assert filed["status"] == "open"
    assert re.fullmatch(r"SR-\d{4}-\d{6}", filed["number"])
    number: str = filed["number"]
    return number


def queued(edge: httpx.Client, number: str, status: str = "open") -> dict[str, Any]:
    """The operator's view of the request `number`, paging through the queue."""
    operator = login(edge, demo.OPERATOR)
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"status": status, "limit": 50}
        if cursor:
            params["cursor"] = cursor
        response = edge.get(QUEUE, params=params, headers=operator)
        assert response.status_code == 200, response.text
        page = response.json()
        for item in page["items"]:
            if item["number"] == number:
                found: dict[str, Any] = item
                return found
        cursor = page["next_cursor"]
        assert cursor, f"{number} is not in the {status} queue"


def answer(edge: httpx.Client, number: str, text: str) -> dict[str, Any]:
    request = queued(edge, number)
    response = edge.post(
        f"{QUEUE}/{request['request_id']}/answer",
        json={"text": text},
        headers=login(edge, demo.OPERATOR),
    )
    assert response.status_code == 200, response.text
    answered: dict[str, Any] = response.json()
    assert answered["status"] == "answered"
    return answered


def inbox_entry(edge: httpx.Client, person: demo.DemoPerson, number: str) -> dict[str, Any] | None:
    response = edge.get("/api/v1/me/notifications", headers=login(edge, person))
    assert response.status_code == 200, response.text
    entries = response.json()["notifications"]
    return next((n for n in entries if number in n["title"]), None)


def test_a_logged_in_request_is_answered_into_the_inbox_and_by_e_mail(
    edge: httpx.Client, mailbox: Mailbox
) -> None:
    patient = login(edge, demo.PATIENT)
    number = file(edge, form(demo.PATIENT, topic="wrong_data"), patient)
    assert queued(edge, number)["tied_to_account"] is True
    answer(edge, number, "Сведения исправлены.")
    entry = eventually(lambda: inbox_entry(edge, demo.PATIENT, number), "the inbox entry")
    assert "Сведения исправлены." in entry["body"]
    assert "Ошибка в данных" in entry["body"]
    letter = letter_about(mailbox, number)
    assert letter["To"] == demo.PATIENT.email
    assert queued(edge, number, "answered")["answer"] == "Сведения исправлены."
    again = edge.post(
        f"{QUEUE}/{queued(edge, number, 'answered')['request_id']}/answer",
        json={"text": "Ещё раз."},
        headers=login(edge, demo.OPERATOR),
    )
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"


def test_a_strangers_request_with_a_citizens_snils_and_policy_reaches_that_inbox(
    edge: httpx.Client, mailbox: Mailbox
) -> None:
    number = file(edge, form(demo.PARENT))
    assert queued(edge, number)["tied_to_account"] is True
    answer(edge, number, "Обратитесь в поликлинику.")
    eventually(lambda: inbox_entry(edge, demo.PARENT, number), "the parent's inbox entry")
    assert letter_about(mailbox, number)["To"] == demo.PARENT.email


def test_a_strangers_request_with_unknown_data_is_answered_into_no_inbox(
    edge: httpx.Client, mailbox: Mailbox
) -> None:
    number = file(edge, form(None))
    assert queued(edge, number)["tied_to_account"] is False
    assert answer(edge, number, "Позвоните на горячую линию.")["tied_to_account"] is False
    # A request answered after it, into a known inbox: once its letter is here, the relay
    # and the deliveries have passed the unknown one's answer.
    later = file(edge, form(demo.CHILD_OVER_15), login(edge, demo.CHILD_OVER_15))
    answer(edge, later, "Готово.")
    letter_about(mailbox, later)
    eventually(lambda: inbox_entry(edge, demo.CHILD_OVER_15, later), "the later inbox entry")
    assert not mailbox.about(number)
    for person in (demo.PATIENT, demo.PARENT, demo.CHILD_OVER_15, demo.OPERATOR):
        assert inbox_entry(edge, person, number) is None


def test_a_request_with_both_or_neither_identifier_is_refused(edge: httpx.Client) -> None:
    both = edge.post(REQUESTS, json=form(demo.PATIENT, inn=demo.PATIENT.inn))
    assert both.status_code == 422
    assert both.headers["content-type"] == "application/problem+json"
    assert {e["code"] for e in both.json()["errors"]} == {"snils_or_inn"}
    bad = edge.post(REQUESTS, json=form(demo.PATIENT, snils="11223344596", topic="x"))
    assert bad.status_code == 422
    assert {e["code"] for e in bad.json()["errors"]} == {"snils_checksum", "enum"}


def test_too_many_requests_of_an_account_are_refused_with_retry_after(
    edge: httpx.Client,
) -> None:
    agent = login(edge, demo.REPRESENTATIVE)
    for _ in range(PER_HOUR):
        file(edge, form(demo.REPRESENTATIVE), agent)
    refused = edge.post(REQUESTS, json=form(demo.REPRESENTATIVE), headers=agent)
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600


def test_only_operators_see_the_queue(edge: httpx.Client) -> None:
    response = edge.get(QUEUE, headers=login(edge, demo.PATIENT))
    assert response.status_code == 403
    assert edge.get(QUEUE).status_code == 401


def test_contacts_of_the_citizens_city_or_the_asked_one(edge: httpx.Client) -> None:
    mine = edge.get("/api/v1/support/contacts", headers=login(edge, demo.PATIENT))
    assert mine.status_code == 200, mine.text
    assert mine.json()["hotline"] == "8-800-555-35-35"
    assert mine.json()["city"] == demo.PATIENT.city
    assert mine.json()["offices"]
    assert {o["city"] for o in mine.json()["offices"]} == {demo.PATIENT.city}
    kazan = edge.get("/api/v1/support/contacts", params={"city": "Казань"}).json()
    assert {o["city"] for o in kazan["offices"]} == {"Казань"}
    every = edge.get("/api/v1/support/contacts").json()
    assert len({o["city"] for o in every["offices"]}) >= 3
    forged = edge.get("/api/v1/support/contacts", headers={"Authorization": "Bearer x.y.z"})
    assert forged.status_code == 401

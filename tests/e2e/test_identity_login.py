"""Login factors, code limits, locks, enumeration and sessions through the edge and the broker.

SMS codes are read from the development gateway's JSON-lines file and e-mail codes from a real
SMTP server (aiosmtpd), as a person reads their phone and mailbox. Limits are lowered through
the stack's environment so the tests need no long waits.
"""

import asyncio
import json
import re
import statistics
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from gosmed.contracts import demo
from gosmed.contracts.demo import DemoPerson
from gosmed.runtime.devstack import DevStack
from tests.conftest import free_port
from tests.e2e.identity_support import DEMO_ENV, bearer, new_session, start_login, totp_code

LOCK_SECONDS = 4
LOCK_AFTER = 6
ADDRESS_LOCK_AFTER = 40
OPEN_ATTEMPTS = 8


class Mailbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[Message] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    handler = Mailbox(free_port())
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture(scope="module")
def sms_outbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sms") / "outbox.jsonl"


@pytest.fixture(scope="module")
def stack_env(mailbox: Mailbox, sms_outbox: Path) -> dict[str, str]:
    return {
        **DEMO_ENV,
        "GOSMED_IDENTITY_SMS_OUTBOX_PATH": str(sms_outbox),
        "GOSMED_IDENTITY_SMTP_PORT": str(mailbox.port),
        "GOSMED_IDENTITY_LOCK_AFTER_FAILURES": str(LOCK_AFTER),
        "GOSMED_IDENTITY_ADDRESS_LOCK_AFTER_FAILURES": str(ADDRESS_LOCK_AFTER),
        "GOSMED_IDENTITY_LOCK_SECONDS": str(LOCK_SECONDS),
        "GOSMED_IDENTITY_SLOWDOWN_SECONDS": "0",
        "GOSMED_IDENTITY_CODE_RESEND_INTERVAL": "1",
        "GOSMED_IDENTITY_MAX_OPEN_LOGIN_ATTEMPTS": str(OPEN_ATTEMPTS),
        # The tests stand in for a proxy: X-Forwarded-For gives a test its own client address.
        "GOSMED_EDGE_TRUSTED_PROXIES": "127.0.0.1/32",
    }


def last_sms_code(outbox: Path, phone: str) -> str:
    """The code in the newest SMS to `phone`, as its owner reads it."""
    texts = [json.loads(line) for line in outbox.read_text().splitlines()]
    newest: str = [t["text"] for t in texts if t["to"] == phone][-1]
    (code,) = re.findall(r"\b\d{6}\b", newest)
    return str(code)


def last_email_code(mailbox: Mailbox, address: str) -> str:
    letter = [m for m in mailbox.messages if m["To"] == address][-1]
    body = letter.get_payload(decode=True)
    assert isinstance(body, bytes)
    (code,) = re.findall(r"\b\d{6}\b", body.decode())
    return str(code)


def send_code(edge: httpx.Client, attempt_id: str, factor: str) -> httpx.Response:
    return edge.post("/api/v1/auth/mfa/code", json={"attempt_id": attempt_id, "factor": factor})


def mfa(edge: httpx.Client, attempt_id: str, factor: str, code: str) -> httpx.Response:
    return edge.post(
        "/api/v1/auth/mfa", json={"attempt_id": attempt_id, "factor": factor, "code": code}
    )


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_login_with_an_sms_code(edge: httpx.Client, sms_outbox: Path, stack: DevStack) -> None:
    attempt_id = start_login(edge, demo.PARENT)
    sent = send_code(edge, attempt_id, "sms")
    assert sent.status_code == 200, sent.text
    assert sent.json()["destination"] == "+7***0002"
    code = last_sms_code(sms_outbox, demo.PARENT.phone or "")
    response = mfa(edge, attempt_id, "sms", code)
    assert response.status_code == 200, response.text
    tokens = response.json()
    me = edge.get("/api/v1/me", headers=bearer(tokens))
    assert me.json()["snils"] == demo.PARENT.snils

    assert stack.log_dir is not None
    logs = "".join(log.read_text() for log in stack.log_dir.glob("*.log"))
    assert "session opened" in logs  # the logs are there, and hold no secret
    for secret in (
        code,
        demo.PARENT.password or "",
        tokens["access_token"],
        tokens["refresh_token"],
    ):
        assert secret not in logs


def test_login_with_an_email_code(edge: httpx.Client, mailbox: Mailbox) -> None:
    attempt_id = start_login(edge, demo.PARENT)
    sent = send_code(edge, attempt_id, "email")
    assert sent.status_code == 200, sent.text
    assert sent.json()["destination"] == "s***@example.ru"
    code = last_email_code(mailbox, demo.PARENT.email or "")
    response = mfa(edge, attempt_id, "email", code)
    assert response.status_code == 200, response.text
    assert edge.get("/api/v1/me", headers=bearer(response.json())).status_code == 200


def test_codes_are_not_resent_at_once_and_only_the_newest_counts(
    edge: httpx.Client, sms_outbox: Path
) -> None:
    attempt_id = start_login(edge, demo.PARENT)
    assert send_code(edge, attempt_id, "sms").status_code == 200
    first = last_sms_code(sms_outbox, demo.PARENT.phone or "")
    again = send_code(edge, attempt_id, "sms")
    assert again.status_code == 429
    assert again.json()["code"] == "rate_limited"
    time.sleep(1.1)
    assert send_code(edge, attempt_id, "sms").status_code == 200
    newest = last_sms_code(sms_outbox, demo.PARENT.phone or "")
    if newest != first:
        assert mfa(edge, attempt_id, "sms", first).status_code == 401
    assert mfa(edge, attempt_id, "sms", newest).status_code == 200


async def test_an_sms_code_opens_one_session_even_when_sent_concurrently(
    stack: DevStack, sms_outbox: Path
) -> None:
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=10) as client:
        login = await client.post(
            "/api/v1/auth/login",
            json={"phone": demo.PARENT.phone, "password": demo.PARENT.password},
        )
        attempt_id = login.json()["attempt_id"]
        await client.post("/api/v1/auth/mfa/code", json={"attempt_id": attempt_id, "factor": "sms"})
        code = last_sms_code(sms_outbox, demo.PARENT.phone or "")
        body = {"attempt_id": attempt_id, "factor": "sms", "code": code}
        answers = await asyncio.gather(
            *(client.post("/api/v1/auth/mfa", json=body) for _ in range(8))
        )
    assert sorted(a.status_code for a in answers) == [200] + [401] * 7


def test_a_used_totp_code_is_rejected(edge: httpx.Client) -> None:
    code = totp_code(edge, demo.CHILD_OVER_15)
    first = mfa(edge, start_login(edge, demo.CHILD_OVER_15), "totp", code)
    assert first.status_code == 200, first.text
    replay = mfa(edge, start_login(edge, demo.CHILD_OVER_15), "totp", code)
    assert replay.status_code == 401
    assert "уже использован" in replay.json()["detail"]


async def test_one_totp_code_sent_concurrently_opens_one_session(stack: DevStack) -> None:
    person = demo.CHILD_OVER_15
    with httpx.Client(base_url=stack.base_url, timeout=10) as edge:
        attempts = [start_login(edge, person) for _ in range(6)]
        code = totp_code(edge, person)
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=10) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    "/api/v1/auth/mfa",
                    json={"attempt_id": a, "factor": "totp", "code": code},
                )
                for a in attempts
            )
        )
    assert sorted(a.status_code for a in answers) == [200] + [401] * 5


def test_the_sixth_code_is_refused_even_when_right(edge: httpx.Client) -> None:
    attempt_id = start_login(edge, demo.PATIENT)
    right = totp_code(edge, demo.PATIENT)
    details = [mfa(edge, attempt_id, "totp", wrong_code(right)).json()["detail"] for _ in range(5)]
    assert details[0].endswith("Осталось попыток: 4.")
    assert details[4] == "Превышено число попыток ввода кода. Начните вход заново."
    sixth = mfa(edge, attempt_id, "totp", right)
    assert sixth.status_code == 401
    assert sixth.json()["detail"] == "Превышено число попыток ввода кода. Начните вход заново."


def login_status(edge: httpx.Client, phone: str, password: str) -> httpx.Response:
    return edge.post("/api/v1/auth/login", json={"phone": phone, "password": password})


def lock(edge: httpx.Client, phone: str) -> float:
    """Fail until the phone is locked; when the lock began (time.monotonic())."""
    answers = [login_status(edge, phone, "wrong").status_code for _ in range(LOCK_AFTER)]
    assert answers == [401] * (LOCK_AFTER - 1) + [429]
    return time.monotonic()


def without_request_id(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    return body | {"request_id": None}


def test_repeated_failures_lock_the_phone_known_or_not(edge: httpx.Client) -> None:
    person, unknown = demo.OPERATOR, "+79160000099"
    locked_at = lock(edge, person.phone or "")
    locked = login_status(edge, person.phone or "", person.password or "")
    assert locked.status_code == 429
    lock(edge, unknown)
    assert without_request_id(locked) == without_request_id(login_status(edge, unknown, "x"))
    time.sleep(max(0.0, locked_at + LOCK_SECONDS + 0.2 - time.monotonic()))
    assert login_status(edge, person.phone or "", person.password or "").status_code == 200


def test_unknown_phone_takes_as_long_as_a_wrong_password(edge: httpx.Client) -> None:
    known: list[float] = []
    unknown: list[float] = []
    for sample in range(LOCK_AFTER - 2):
        for phone, times in (
            (demo.INSPECTOR.phone or "", known),
            (f"+7916000{sample:04d}", unknown),
        ):
            started = time.perf_counter()
            assert login_status(edge, phone, "wrong").status_code == 401
            times.append(time.perf_counter() - started)
    known_median, unknown_median = statistics.median(known), statistics.median(unknown)
    print(
        f"wrong password {known_median * 1000:.1f} ms, unknown phone {unknown_median * 1000:.1f} ms"
    )
    assert 0.5 < known_median / unknown_median < 2


def refresh(edge: httpx.Client, tokens: dict[str, Any]) -> httpx.Response:
    return edge.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})


def test_refresh_rotates_and_a_reused_token_ends_the_session(edge: httpx.Client) -> None:
    first = new_session(edge, demo.REPRESENTATIVE)
    rotated = refresh(edge, first)
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["session_id"] == first["session_id"]
    assert edge.get("/api/v1/me", headers=bearer(second)).status_code == 200

    reused = refresh(edge, first)
    assert reused.status_code == 401
    # the whole family ends: the newest refresh token and the access tokens die too
    assert refresh(edge, second).status_code == 401
    assert edge.get("/api/v1/me", headers=bearer(second)).status_code == 401
    assert edge.get("/api/v1/me", headers=bearer(first)).status_code == 401


def test_sessions_are_listed_and_one_can_be_revoked(edge: httpx.Client) -> None:
    person: DemoPerson = demo.INSURER
    mine, other = new_session(edge, person), new_session(edge, person)
    listed = edge.get("/api/v1/me/sessions", headers=bearer(mine))
    assert listed.status_code == 200
    sessions = {s["session_id"]: s for s in listed.json()["sessions"]}
    assert {mine["session_id"], other["session_id"]} <= set(sessions)
    assert sessions[mine["session_id"]]["current"] is True
    assert sessions[other["session_id"]]["device"].startswith("python-httpx")

    strangers = new_session(edge, demo.PATIENT)
    not_mine = edge.delete(f"/api/v1/me/sessions/{strangers['session_id']}", headers=bearer(mine))
    assert not_mine.status_code == 404
    assert edge.get("/api/v1/me", headers=bearer(strangers)).status_code == 200

    revoked = edge.delete(f"/api/v1/me/sessions/{other['session_id']}", headers=bearer(mine))
    assert revoked.status_code == 204
    assert edge.get("/api/v1/me", headers=bearer(other)).status_code == 401
    assert edge.get("/api/v1/me", headers=bearer(mine)).status_code == 200
    assert edge.delete("/api/v1/me/sessions", headers=bearer(mine)).status_code == 204
    assert edge.get("/api/v1/me", headers=bearer(mine)).status_code == 401


def forwarded_for(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def login_from(edge: httpx.Client, address: str, phone: str, password: str) -> httpx.Response:
    body = {"phone": phone, "password": password}
    return edge.post("/api/v1/auth/login", json=body, headers=forwarded_for(address))


def test_a_locked_phone_refuses_the_right_code_of_an_attempt_opened_before(
    edge: httpx.Client, sms_outbox: Path
) -> None:
    """Issue 10 (H1): with a stolen password, attempts opened before a lock kept their code
    tries, and a right code opened a session on a locked phone."""
    person, attacker, owner = demo.UNCONFIRMED, "198.51.100.66", "192.0.2.44"
    phone, password = person.phone or "", person.password or ""
    opened = [login_from(edge, attacker, phone, password) for _ in range(OPEN_ATTEMPTS + 1)]
    assert [r.status_code for r in opened] == [200] * OPEN_ATTEMPTS + [429]
    assert opened[-1].json()["code"] == "rate_limited"
    attempts = [r.json()["attempt_id"] for r in opened[:-1]]
    body = {"attempt_id": attempts[0], "factor": "sms"}
    sent = edge.post("/api/v1/auth/mfa/code", json=body, headers=forwarded_for(attacker))
    assert sent.status_code == 200, sent.text
    code = last_sms_code(sms_outbox, phone)

    failures = [login_from(edge, attacker, phone, "wrong").status_code for _ in range(LOCK_AFTER)]
    assert failures == [401] * (LOCK_AFTER - 1) + [429]
    right = {"attempt_id": attempts[0], "factor": "sms", "code": code}
    refused = edge.post("/api/v1/auth/mfa", json=right, headers=forwarded_for(attacker))
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    # The lock ended the open attempts: not even from another address do they open a session.
    elsewhere = edge.post("/api/v1/auth/mfa", json=right, headers=forwarded_for(owner))
    assert elsewhere.status_code == 401
    # The owner, elsewhere, is not locked out by the guesses.
    assert login_from(edge, owner, phone, password).status_code == 200


def test_failures_through_one_proxy_address_do_not_lock_its_other_clients(
    edge: httpx.Client,
) -> None:
    """Issue 10 (H2): behind one proxy every client had its address, so failures of some
    locked all. The forwarded address is the client's now; spraying one address still locks."""
    sprayer, neighbour = "198.51.100.20", "198.51.100.21"
    answers = [
        login_from(edge, sprayer, f"+7916777{n:04d}", "wrong").status_code
        for n in range(ADDRESS_LOCK_AFTER)
    ]
    assert answers == [401] * (ADDRESS_LOCK_AFTER - 1) + [429]
    person = demo.INSPECTOR
    phone, password = person.phone or "", person.password or ""
    assert login_from(edge, sprayer, phone, password).status_code == 429
    assert login_from(edge, neighbour, phone, password).status_code == 200


def test_repeated_failures_from_one_address_lock_it(edge: httpx.Client) -> None:
    answers = [
        login_status(edge, f"+7916555{n:04d}", "wrong").status_code
        for n in range(ADDRESS_LOCK_AFTER)
    ]
    assert 429 in answers
    person = demo.PATIENT
    assert login_status(edge, person.phone or "", person.password or "").status_code == 429
    time.sleep(LOCK_SECONDS + 0.2)
    assert login_status(edge, person.phone or "", person.password or "").status_code == 200


def sms_login(edge: httpx.Client, phone: str, address: str) -> httpx.Response:
    return edge.post(
        "/api/v1/auth/login/sms", json={"phone": phone}, headers=forwarded_for(address)
    )


def sms_verify(edge: httpx.Client, challenge_id: str, code: str, address: str) -> httpx.Response:
    body = {"challenge_id": challenge_id, "code": code}
    return edge.post("/api/v1/auth/login/sms/verify", json=body, headers=forwarded_for(address))


def sms_first_step(
    edge: httpx.Client, sms_outbox: Path, person: DemoPerson, address: str
) -> dict[str, Any]:
    """An SMS code asked for and passed: the login challenge of the second step."""
    started = sms_login(edge, person.phone or "", address)
    assert started.status_code == 202, started.text
    code = last_sms_code(sms_outbox, person.phone or "")
    passed = sms_verify(edge, started.json()["challenge_id"], code, address)
    assert passed.status_code == 200, passed.text
    challenge: dict[str, Any] = passed.json()
    return challenge


def second_factor(
    edge: httpx.Client, attempt_id: str, factor: str, code: str, address: str
) -> httpx.Response:
    body = {"attempt_id": attempt_id, "factor": factor, "code": code}
    return edge.post("/api/v1/auth/mfa", json=body, headers=forwarded_for(address))


def test_an_sms_code_then_the_app_opens_a_session(
    edge: httpx.Client, sms_outbox: Path, stack: DevStack
) -> None:
    person, address = demo.CLINIC_STAFF, "192.0.2.101"
    challenge = sms_first_step(edge, sms_outbox, person, address)
    assert challenge["factors"] == ["totp", "email"]
    sms_code = last_sms_code(sms_outbox, person.phone or "")
    tokens = second_factor(edge, challenge["attempt_id"], "totp", totp_code(edge, person), address)
    assert tokens.status_code == 200, tokens.text
    me = edge.get("/api/v1/me", headers=bearer(tokens.json()))
    assert me.json()["snils"] == person.snils
    assert stack.log_dir is not None
    logs = "".join(log.read_text() for log in stack.log_dir.glob("*.log"))
    assert "login_succeeded" in logs
    assert sms_code not in logs
    assert (person.phone or "") not in logs


def test_an_sms_code_then_an_email_code_opens_a_session(
    edge: httpx.Client, sms_outbox: Path, mailbox: Mailbox
) -> None:
    person, address = demo.DOCTOR, "192.0.2.102"
    challenge = sms_first_step(edge, sms_outbox, person, address)
    body = {"attempt_id": challenge["attempt_id"], "factor": "email"}
    sent = edge.post("/api/v1/auth/mfa/code", json=body, headers=forwarded_for(address))
    assert sent.status_code == 200, sent.text
    code = last_email_code(mailbox, person.email or "")
    tokens = second_factor(edge, challenge["attempt_id"], "email", code, address)
    assert tokens.status_code == 200, tokens.text
    assert edge.get("/api/v1/me", headers=bearer(tokens.json())).status_code == 200


def test_an_sms_second_factor_after_an_sms_code_is_refused(
    edge: httpx.Client, sms_outbox: Path
) -> None:
    person, address = demo.REPRESENTATIVE, "192.0.2.103"
    challenge = sms_first_step(edge, sms_outbox, person, address)
    first_code = last_sms_code(sms_outbox, person.phone or "")
    body = {"attempt_id": challenge["attempt_id"], "factor": "sms"}
    sent = edge.post("/api/v1/auth/mfa/code", json=body, headers=forwarded_for(address))
    refused = second_factor(edge, challenge["attempt_id"], "sms", first_code, address)
    for response in (sent, refused):
        assert response.status_code == 409, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "factor_not_allowed"
        assert "приложением-аутентификатором" in response.json()["detail"]
    assert last_sms_code(sms_outbox, person.phone or "") == first_code  # no second SMS


def test_five_wrong_sms_codes_end_the_challenge_and_count_towards_the_lock(
    edge: httpx.Client, sms_outbox: Path
) -> None:
    person, address = demo.INSURER, "192.0.2.104"
    phone = person.phone or ""
    started = sms_login(edge, phone, address)
    challenge_id = started.json()["challenge_id"]
    right = last_sms_code(sms_outbox, phone)
    answers = [sms_verify(edge, challenge_id, wrong_code(right), address) for _ in range(5)]
    assert [a.status_code for a in answers] == [401] * 5
    assert answers[0].json()["detail"].endswith("Осталось попыток: 4.")
    exhausted = "Превышено число попыток ввода кода. Начните вход заново."
    assert answers[4].json()["detail"] == exhausted
    late = sms_verify(edge, challenge_id, right, address)
    assert (late.status_code, late.json()["detail"]) == (401, exhausted)
    # The sixth failure of this phone from this address, a wrong password, locks them.
    assert login_from(edge, address, phone, "wrong").status_code == 429
    assert login_from(edge, address, phone, person.password or "").status_code == 429
    locked = sms_login(edge, phone, address)
    assert locked.status_code == 429
    assert locked.json()["code"] == "rate_limited"


def test_a_new_sms_code_too_soon_is_429_known_phone_or_not(edge: httpx.Client) -> None:
    address, unknown = "192.0.2.105", "+79160000123"
    for phone in (demo.PARENT.phone or "", unknown):
        assert sms_login(edge, phone, address).status_code == 202
    again = [sms_login(edge, phone, address) for phone in (demo.PARENT.phone or "", unknown)]
    assert [a.status_code for a in again] == [429, 429]
    assert again[0].json()["code"] == "rate_limited"
    assert without_request_id(again[0]) == without_request_id(again[1])


def test_an_unknown_phone_gets_the_same_answer_and_no_sms(
    edge: httpx.Client, sms_outbox: Path
) -> None:
    address, unknown = "192.0.2.106", "+79160000124"
    known = sms_login(edge, demo.INSPECTOR.phone or "", address)
    stranger = sms_login(edge, unknown, address)
    assert (known.status_code, stranger.status_code) == (202, 202)
    assert (
        known.json().keys()
        == stranger.json().keys()
        == {
            "challenge_id",
            "expires_at",
            "resend_after",
        }
    )
    texts = [json.loads(line) for line in sms_outbox.read_text().splitlines()]
    assert unknown not in {t["to"] for t in texts}
    guess = wrong_code(last_sms_code(sms_outbox, demo.INSPECTOR.phone or ""))
    answers = [
        sms_verify(edge, started.json()["challenge_id"], guess, address)
        for started in (known, stranger)
    ]
    assert [a.status_code for a in answers] == [401, 401]
    assert without_request_id(answers[0]) == without_request_id(answers[1])


def test_an_sms_code_for_an_unknown_phone_takes_as_long_as_for_a_known_one(
    edge: httpx.Client,
) -> None:
    address = "192.0.2.107"
    people = (demo.PATIENT, demo.OPERATOR, demo.UNCONFIRMED, demo.CHILD_OVER_15)
    known: list[float] = []
    unknown: list[float] = []
    for sample, person in enumerate(people):
        for phone, times in ((person.phone or "", known), (f"+7916444{sample:04d}", unknown)):
            started = time.perf_counter()
            assert sms_login(edge, phone, address).status_code == 202
            times.append(time.perf_counter() - started)
    known_median, unknown_median = statistics.median(known), statistics.median(unknown)
    print(f"known phone {known_median * 1000:.1f} ms, unknown {unknown_median * 1000:.1f} ms")
    assert 0.5 < known_median / unknown_median < 2

"""Powers of attorney, a teenager's consent and TOTP enrolment through the edge and the broker;
a revocation acts on the agent's very next request."""

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pyotp
import pytest

from gosmed.contracts import demo
from gosmed.contracts.access import AccessContext
from gosmed.contracts.identity.access import AUTHORIZE, Action, Authorize
from gosmed.identity.demo import account_id
from gosmed.runtime.rpc import RpcClient
from gosmed.runtime.testing import eventually
from tests.e2e.identity_support import (
    DEMO_ENV,
    bearer,
    login,
    new_session,
    start_login,
    totp_code,
)

PROBLEM_JSON = "application/problem+json"


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    return DEMO_ENV


@pytest.fixture
async def rpc(amqp_url: str) -> AsyncIterator[RpcClient]:
    client = RpcClient(amqp_url)
    await client.connect()
    yield client
    await client.close()


def patients_of(edge: httpx.Client, person: demo.DemoPerson) -> dict[tuple[str, str], Any]:
    response = edge.get("/api/v1/patients", headers=login(edge, person))
    assert response.status_code == 200, response.text
    return {(p["patient"]["snils"], p["basis"]): p for p in response.json()["patients"]}


def give(edge: httpx.Client, principal: demo.DemoPerson, **body: Any) -> httpx.Response:
    today = date.today()
    payload = {
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=30)).isoformat(),
        **body,
    }
    return edge.post("/api/v1/delegations", json=payload, headers=login(edge, principal))


def test_a_notarized_power_of_attorney_waits_for_an_operator(edge: httpx.Client) -> None:
    created = give(
        edge,
        demo.PATIENT,
        agent_snils=demo.PARENT.snils,
        basis="notarized",
        scopes=["read_lab_results"],
        register_number="77 АБ 7654321",
    )
    assert created.status_code == 201, created.text
    delegation = created.json()
    assert delegation["status"] == "awaiting_agent"
    assert delegation["my_role"] == "principal"
    assert delegation["agent_name"] == ""
    path = f"/api/v1/delegations/{delegation['delegation_id']}"
    accepted = edge.post(f"{path}/accept", headers=login(edge, demo.PARENT))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "pending_verification"
    assert accepted.json()["agent_name"] == demo.PARENT.full_name
    assert (demo.PATIENT.snils, "power_of_attorney") not in patients_of(edge, demo.PARENT)

    by_agent = edge.post(f"{path}/verify", headers=login(edge, demo.PARENT))
    assert by_agent.status_code == 403
    assert by_agent.headers["content-type"] == PROBLEM_JSON
    assert edge.get(path, headers=login(edge, demo.INSPECTOR)).status_code == 404

    verified = edge.post(f"{path}/verify", headers=login(edge, demo.OPERATOR))
    assert verified.status_code == 200, verified.text
    assert verified.json()["status"] == "active"
    again = edge.post(f"{path}/verify", headers=login(edge, demo.OPERATOR))
    assert again.status_code == 409

    granted = patients_of(edge, demo.PARENT)[(demo.PATIENT.snils, "power_of_attorney")]
    assert granted["scopes"] == ["read_lab_results"]
    assert "77 АБ 7654321" in granted["basis_label"]
    as_agent = edge.get(path, headers=login(edge, demo.PARENT)).json()
    assert as_agent["my_role"] == "agent"
    listed = edge.get("/api/v1/delegations", headers=login(edge, demo.PARENT)).json()
    assert delegation["delegation_id"] in {d["delegation_id"] for d in listed["delegations"]}


def test_a_teenager_lets_her_parent_see_her_data_and_takes_it_back(edge: httpx.Client) -> None:
    teen_key = (demo.CHILD_OVER_15.snils, "power_of_attorney")
    assert teen_key not in patients_of(edge, demo.PARENT)
    consent = give(
        edge,
        demo.CHILD_OVER_15,
        agent_snils=demo.PARENT.snils,
        basis="minor_consent",
        scopes=["read_services", "read_lab_results"],
    )
    assert consent.status_code == 201, consent.text
    assert consent.json()["status"] == "active"
    granted = patients_of(edge, demo.PARENT)[teen_key]
    assert "согласие" in granted["basis_label"]

    delegation_id = consent.json()["delegation_id"]
    revoked = edge.delete(
        f"/api/v1/delegations/{delegation_id}", headers=login(edge, demo.CHILD_OVER_15)
    )
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    assert teen_key not in patients_of(edge, demo.PARENT)


def test_only_a_teenager_gives_a_parent_consent(edge: httpx.Client) -> None:
    refused = give(
        edge,
        demo.PATIENT,
        agent_snils=demo.PARENT.snils,
        basis="minor_consent",
        scopes=["read_services"],
    )
    assert refused.status_code == 409
    assert refused.json()["detail"] == "Согласие для родителя даёт пациент от 15 до 18 лет."


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {
                "agent_snils": "12345678965",
                "basis": "qualified_signature",
                "scopes": ["read_services"],
            },
            422,
            "snils_checksum",
        ),
        (
            {"agent_snils": demo.PARENT.snils, "basis": "notarized", "scopes": ["read_services"]},
            422,
            "value_error",
        ),
        (
            {"agent_snils": demo.PARENT.snils, "basis": "qualified_signature", "scopes": []},
            422,
            "too_short",
        ),
        (
            {"agent_snils": demo.PARENT.snils, "basis": "qualified_signature", "scopes": ["fly"]},
            422,
            "enum",
        ),
        (
            {
                "agent_snils": demo.PARENT.snils,
                "basis": "qualified_signature",
                "scopes": ["read_services"],
                "owner": "me",
            },
            422,
            "extra_forbidden",
        ),
        (
            {
                "agent_snils": demo.PARENT.snils,
                "basis": "qualified_signature",
                "scopes": ["read_services"],
                "valid_until": "2000-01-01",
            },
            422,
            "value_error",
        ),
    ],
)
def test_bad_delegations_get_problem_json(
    edge: httpx.Client, body: dict[str, Any], status: int, code: str | None
) -> None:
    response = give(edge, demo.PATIENT, **body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    if code is not None:
        assert code in {e["code"] for e in response.json()["errors"]}


def test_malformed_delegation_ids_and_unknown_ones(edge: httpx.Client) -> None:
    headers = login(edge, demo.PATIENT)
    assert edge.get("/api/v1/delegations/no%20such", headers=headers).status_code == 422
    assert edge.get("/api/v1/delegations/unknown-id", headers=headers).status_code == 404


def test_an_unconfirmed_account_gives_no_signed_power_of_attorney(edge: httpx.Client) -> None:
    """It used to be in force at once; now refused, and a confirmed patient's waits for the
    agent and an operator."""
    body = {"agent_snils": demo.PARENT.snils, "basis": "qualified_signature"}
    refused = give(edge, demo.UNCONFIRMED, scopes=["read_services"], **body)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == PROBLEM_JSON
    assert refused.json()["code"] == "forbidden"
    assert [e["code"] for e in refused.json()["errors"]] == ["account_not_confirmed"]
    assert "подтверждённой" in refused.json()["detail"]
    assert (demo.UNCONFIRMED.snils, "power_of_attorney") not in patients_of(edge, demo.PARENT)

    signed = give(edge, demo.PATIENT, scopes=["read_services"], **body)
    assert signed.status_code == 201, signed.text
    assert signed.json()["status"] == "awaiting_agent"
    nobody = give(
        edge,
        demo.PATIENT,
        scopes=["read_services"],
        agent_snils="00000000000",
        basis="qualified_signature",
    )
    assert nobody.status_code == 201, nobody.text
    differ = {"delegation_id", "agent_snils"}
    assert {k: v for k, v in nobody.json().items() if k not in differ} == {
        k: v for k, v in signed.json().items() if k not in differ
    }
    path = f"/api/v1/delegations/{signed.json()['delegation_id']}"
    accepted = edge.post(f"{path}/accept", headers=login(edge, demo.PARENT))
    assert accepted.json()["status"] == "pending_verification"  # signed: an operator checks it
    bases = {p["basis_document_id"] for p in patients_of(edge, demo.PARENT).values()}
    assert signed.json()["delegation_id"] not in bases
    assert edge.delete(path, headers=login(edge, demo.PATIENT)).status_code == 200


def test_replacing_the_authenticator_app_needs_the_password_and_the_current_code(
    edge: httpx.Client,
) -> None:
    person = demo.INSURER
    headers = login(edge, person)
    other_tokens = new_session(edge, person)
    other = bearer(other_tokens)
    assert edge.get("/api/v1/me", headers=other).status_code == 200
    bare = edge.post("/api/v1/me/totp", headers=headers)
    assert bare.status_code == 422
    no_code = edge.post("/api/v1/me/totp", json={"password": person.password}, headers=headers)
    assert no_code.status_code == 403
    assert [e["code"] for e in no_code.json()["errors"]] == ["current_code_required"]
    wrong = edge.post(
        "/api/v1/me/totp",
        json={"password": "not-the-password", "code": "000000"},
        headers=headers,
    )
    assert wrong.status_code == 403
    assert [e["code"] for e in wrong.json()["errors"]] == ["wrong_password"]

    enrolment = edge.post(
        "/api/v1/me/totp",
        json={"password": person.password, "code": totp_code(edge, person)},
        headers=headers,
    )
    assert enrolment.status_code == 200, enrolment.text
    body = enrolment.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert f"secret={body['secret']}" in body["otpauth_uri"]
    assert body["qr_svg"].startswith("<svg")
    totp = pyotp.TOTP(body["secret"])
    wrong_code = f"{(int(totp.now()) + 1) % 1_000_000:06d}"
    refused = edge.post("/api/v1/me/totp/confirm", json={"code": wrong_code}, headers=headers)
    assert refused.status_code == 422
    step = totp.timecode(time.time())
    confirm = edge.post(
        "/api/v1/me/totp/confirm", json={"code": totp.generate_otp(step)}, headers=headers
    )
    assert confirm.status_code == 204, confirm.text

    # the other session ends at the edge, this one goes on; the holder is told
    refresh = {"refresh_token": other_tokens["refresh_token"]}
    assert edge.post("/api/v1/auth/refresh", json=refresh).status_code == 401
    dropped = eventually(
        lambda: edge.get("/api/v1/me", headers=other).status_code == 401,
        "the other session is dropped at the edge (SessionEnded)",
    )
    asyncio.run(dropped)
    assert edge.get("/api/v1/me", headers=headers).status_code == 200
    inbox = edge.get("/api/v1/me/notifications", headers=headers).json()
    assert "Приложение-аутентификатор изменено" in {n["title"] for n in inbox["notifications"]}

    def mfa(code: str) -> httpx.Response:
        body = {"attempt_id": start_login(edge, person), "factor": "totp", "code": code}
        return edge.post("/api/v1/auth/mfa", json=body)

    assert mfa(totp.generate_otp(step)).status_code == 401  # the confirming code is used
    old_app = pyotp.TOTP(person.totp_secret or "").generate_otp(step + 1)
    assert mfa(old_app).status_code == 401
    assert mfa(totp.generate_otp(step + 1)).status_code == 200


def test_an_insurer_reads_only_with_a_consent_and_a_confirmed_request(edge: httpx.Client) -> None:
    key = (demo.PARENT.snils, "insurer_consent")
    future = (date.today() + timedelta(days=60)).isoformat()
    body = {
        "insurer_snils": demo.INSURER.snils,
        "contract_number": "ДМС-2026/0777",
        "contract_valid_until": future,
        "consent_valid_until": future,
        "scopes": ["read_services"],
    }
    parent, insurer = login(edge, demo.PARENT), login(edge, demo.INSURER)
    writes = edge.post(
        "/api/v1/insurer-consents", json={**body, "scopes": ["write_reviews"]}, headers=parent
    )
    assert writes.status_code == 422
    created = edge.post("/api/v1/insurer-consents", json=body, headers=parent)
    assert created.status_code == 201, created.text
    consent = created.json()
    assert consent["request_status"] == "none"
    path = f"/api/v1/insurer-consents/{consent['consent_id']}"
    assert key not in patients_of(edge, demo.INSURER)

    assert edge.post(f"{path}/confirm", headers=parent).status_code == 409  # nothing asked yet
    asked = edge.post(f"{path}/request", headers=insurer)
    assert asked.status_code == 200
    assert asked.json()["request_status"] == "requested"
    assert key not in patients_of(edge, demo.INSURER)
    assert edge.post(f"{path}/confirm", headers=insurer).status_code == 403
    confirmed = edge.post(f"{path}/confirm", headers=parent)
    assert confirmed.status_code == 200
    assert confirmed.json()["request_status"] == "confirmed"
    granted = patients_of(edge, demo.INSURER)[key]
    assert granted["scopes"] == ["read_services"]
    assert "ДМС-2026/0777" in granted["basis_label"]
    assert edge.get(path, headers=login(edge, demo.REPRESENTATIVE)).status_code == 404

    assert edge.delete(path, headers=insurer).status_code == 403
    assert edge.delete(path, headers=parent).json()["revoked"] is True
    assert key not in patients_of(edge, demo.INSURER)
    listed = edge.get("/api/v1/insurer-consents", headers=parent).json()["consents"]
    assert [c["revoked"] for c in listed if c["consent_id"] == consent["consent_id"]] == [True]


def test_an_operator_registers_and_revokes_an_inspectors_order(edge: httpx.Client) -> None:
    key = (demo.CHILD_OVER_15.snils, "inspector_order")
    today = date.today()
    body = {
        "inspector_snils": demo.INSPECTOR.snils,
        "number": "П-77/2026",
        "order_date": today.isoformat(),
        "patient_snils": [demo.CHILD_OVER_15.snils],
        "scopes": ["read_services", "book_appointments"],
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=10)).isoformat(),
    }
    by_inspector = edge.post(
        "/api/v1/inspector-orders", json=body, headers=login(edge, demo.INSPECTOR)
    )
    assert by_inspector.status_code == 403
    created = edge.post("/api/v1/inspector-orders", json=body, headers=login(edge, demo.OPERATOR))
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["scopes"] == ["read_services"]  # an inspector only reads
    granted = patients_of(edge, demo.INSPECTOR)[key]
    assert granted["basis_document_id"] == "П-77/2026"
    own = edge.get("/api/v1/inspector-orders", headers=login(edge, demo.INSPECTOR)).json()
    assert order["order_id"] in {o["order_id"] for o in own["orders"]}

    path = f"/api/v1/inspector-orders/{order['order_id']}"
    assert edge.delete(path, headers=login(edge, demo.INSPECTOR)).status_code == 403
    assert edge.get(path, headers=login(edge, demo.PATIENT)).status_code == 404
    revoked = edge.delete(path, headers=login(edge, demo.OPERATOR))
    assert revoked.status_code == 200
    assert revoked.json()["revoked"] is True
    assert key not in patients_of(edge, demo.INSPECTOR)


async def test_revoking_a_power_of_attorney_acts_on_the_next_request(
    edge: httpx.Client, rpc: RpcClient
) -> None:
    assert (demo.PATIENT.snils, "power_of_attorney") in patients_of(edge, demo.REPRESENTATIVE)
    context = AccessContext(
        actor_id=account_id(demo.REPRESENTATIVE), patient_id=account_id(demo.PATIENT)
    )
    ask = Authorize(context=context, action=Action.READ_SERVICES)
    assert (await rpc.call(AUTHORIZE, ask)).allowed

    revoked = revoke(edge, "demo-poa-active", demo.PATIENT)
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"

    assert (demo.PATIENT.snils, "power_of_attorney") not in patients_of(edge, demo.REPRESENTATIVE)
    decision = await rpc.call(AUTHORIZE, ask)
    assert not decision.allowed
    assert decision.patient is None
    # the agent's own session is untouched
    assert (demo.REPRESENTATIVE.snils, "own_account") in patients_of(edge, demo.REPRESENTATIVE)
    assert revoke(edge, "demo-poa-active", demo.PATIENT).status_code == 409


def revoke(edge: httpx.Client, delegation_id: str, person: demo.DemoPerson) -> httpx.Response:
    return edge.delete(f"/api/v1/delegations/{delegation_id}", headers=login(edge, person))

"""Login, profile, patients and access decisions through the edge and the broker, as the demo
people of `gosmed.contracts.demo`."""

import asyncio
import itertools
from collections.abc import AsyncIterator

import httpx
import pytest

from gosmed.contracts import demo
from gosmed.contracts.access import AccessContext, LegalBasis
from gosmed.contracts.identity.access import AUTHORIZE, AccessDecision, Action, Authorize
from gosmed.identity.demo import account_id
from gosmed.runtime.rpc import RpcClient
from tests.e2e.identity_support import DEMO_ENV, bearer, login, new_session

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


def test_login_with_totp_then_me(edge: httpx.Client) -> None:
    response = edge.get("/api/v1/me", headers=login(edge, demo.PATIENT))
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["account_id"] == str(account_id(demo.PATIENT))
    assert me["snils"] == demo.PATIENT.snils
    assert me["full_name"] == demo.PATIENT.full_name
    assert me["confirmation_level"] == "confirmed"
    assert me["totp_enabled"] is True
    assert "message_id" not in me


def test_login_offers_the_factors_of_the_account(edge: httpx.Client) -> None:
    response = edge.post(
        "/api/v1/auth/login",
        json={"phone": demo.PARENT.phone, "password": demo.PARENT.password},
    )
    assert response.status_code == 200
    assert response.json()["factors"] == ["totp", "sms", "email"]


def test_wrong_password_and_unknown_phone_get_the_same_answer(edge: httpx.Client) -> None:
    wrong = edge.post(
        "/api/v1/auth/login", json={"phone": demo.OPERATOR.phone, "password": "not-it"}
    )
    unknown = edge.post("/api/v1/auth/login", json={"phone": "+79169998877", "password": "not-it"})
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()["code"] == "unauthenticated"
    assert (
        wrong.json()["detail"] == unknown.json()["detail"] == "Неверный номер телефона или пароль."
    )


def test_requests_without_a_live_token_are_refused(edge: httpx.Client) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-jwt"}):
        response = edge.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM_JSON


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "12345", "password": "x"}, "phone"),
        ({"phone": "+74951234567", "password": "x"}, "phone"),  # a landline
        ({"phone": demo.PATIENT.phone, "password": "x", "admin": True}, "admin"),
        ({"phone": demo.PATIENT.phone}, "password"),
    ],
)
def test_bad_login_input_gets_problem_json(
    edge: httpx.Client, body: dict[str, object], field: str
) -> None:
    response = edge.post("/api/v1/auth/login", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert any(error["field"].endswith(field) for error in problem["errors"])


def test_huge_login_body_gets_413(edge: httpx.Client) -> None:
    response = edge.post(
        "/api/v1/auth/login", json={"phone": demo.PATIENT.phone, "password": "x" * 2_000_000}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON


def test_patients_of_the_parent_are_self_and_the_child_under_15(edge: httpx.Client) -> None:
    response = edge.get("/api/v1/patients", headers=login(edge, demo.PARENT))
    assert response.status_code == 200
    listed = {(p["patient"]["snils"], p["basis"]) for p in response.json()["patients"]}
    assert listed == {
        (demo.PARENT.snils, "own_account"),
        (demo.CHILD_UNDER_15.snils, "parent_of_minor"),
    }


def test_patients_of_the_representative_carry_the_power_of_attorney(edge: httpx.Client) -> None:
    response = edge.get("/api/v1/patients", headers=login(edge, demo.REPRESENTATIVE))
    assert response.status_code == 200
    by_basis = {p["basis"]: p for p in response.json()["patients"]}
    assert set(by_basis) == {"own_account", "power_of_attorney"}
    delegated = by_basis["power_of_attorney"]
    assert delegated["patient"]["snils"] == demo.PATIENT.snils
    assert delegated["scopes"] == ["download_documents", "read_services"]
    assert "77 АА 1234567" in delegated["basis_label"]


def expected_basis(
    actor: demo.DemoPerson, patient: demo.DemoPerson, action: Action
) -> LegalBasis | None:
    """The whole access matrix of the demo data, written out independently of the service."""
    read_only = {Action.READ_SERVICES, Action.DOWNLOAD_DOCUMENTS, Action.READ_LAB_RESULTS}
    if not actor.confirmed:
        return None  # medical data is open to confirmed accounts only, even one's own
    if actor == patient:
        return LegalBasis.OWN_ACCOUNT
    if actor == demo.PARENT and patient == demo.CHILD_UNDER_15:
        return LegalBasis.PARENT_OF_MINOR
    if actor == demo.REPRESENTATIVE and patient == demo.PATIENT:
        allowed = {Action.READ_SERVICES, Action.DOWNLOAD_DOCUMENTS}  # expired, revoked: no
        return LegalBasis.POWER_OF_ATTORNEY if action in allowed else None
    if actor == demo.INSURER and patient == demo.PATIENT:
        allowed = {Action.READ_SERVICES, Action.DOWNLOAD_DOCUMENTS}
        return LegalBasis.INSURER_CONSENT if action in allowed else None
    if actor == demo.INSPECTOR and patient == demo.PATIENT:
        return LegalBasis.INSPECTOR_ORDER if action in read_only else None
    return None


async def test_access_matrix_of_every_person_for_every_patient_has_no_leaks(
    edge: httpx.Client, rpc: RpcClient
) -> None:
    login(edge, demo.PATIENT)  # the stack is up and seeded
    cases = list(itertools.product(demo.PEOPLE, demo.PEOPLE, Action))
    in_flight = asyncio.Semaphore(32)  # each call's timeout measures identity, not a queue

    async def ask(
        actor: demo.DemoPerson, patient: demo.DemoPerson, action: Action
    ) -> AccessDecision:
        context = AccessContext(actor_id=account_id(actor), patient_id=account_id(patient))
        async with in_flight:
            return await rpc.call(AUTHORIZE, Authorize(context=context, action=action))

    decisions = await asyncio.gather(*(ask(*case) for case in cases))
    mismatches = []
    for (actor, patient, action), decision in zip(cases, decisions, strict=True):
        expected = expected_basis(actor, patient, action)
        if decision.allowed != (expected is not None) or decision.basis != expected:
            mismatches.append((actor.key, patient.key, action.value, decision.basis))
        if decision.allowed:
            assert decision.patient is not None
            assert decision.patient.snils == patient.snils
        else:
            assert decision.patient is None
            assert decision.reason
    assert mismatches == []
    # own account (10 confirmed people) and the parent: every action; then the other bases
    assert sum(d.allowed for d in decisions) == 10 * len(Action) + len(Action) + 2 + 2 + 3


async def test_authorize_names_the_document_of_the_basis(
    rpc: RpcClient, edge: httpx.Client
) -> None:
    login(edge, demo.PATIENT)
    cases = {
        demo.REPRESENTATIVE: ("demo-poa-active", "77 АА 1234567"),
        demo.INSURER: ("demo-insurer-consent", "ДМС-2026/0147"),
        demo.INSPECTOR: ("П-42/2026", "П-42/2026"),
    }
    for actor, (document_id, label_part) in cases.items():
        context = AccessContext(actor_id=account_id(actor), patient_id=account_id(demo.PATIENT))
        ask = Authorize(context=context, action=Action.READ_SERVICES)
        decision = await rpc.call(AUTHORIZE, ask)
        assert decision.allowed
        assert decision.basis_document_id == document_id
        assert label_part in decision.basis_label
        assert decision.sees_restricted_categories is False


def test_an_unconfirmed_account_logs_in_but_is_told_how_to_open_medical_data(
    edge: httpx.Client,
) -> None:
    headers = login(edge, demo.UNCONFIRMED)
    me = edge.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["confirmation_level"] == "standard"
    for path in ("/api/v1/patients/me/services", "/api/v1/patients/me/access-log"):
        refused = edge.get(path, headers=headers)
        assert refused.status_code == 403, path
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "forbidden"
        assert "подтверждённой учётной записью" in refused.json()["detail"]


def test_logout_kills_the_access_token_at_once(edge: httpx.Client) -> None:
    tokens = new_session(edge, demo.REPRESENTATIVE)
    headers = bearer(tokens)
    assert edge.get("/api/v1/me", headers=headers).status_code == 200
    assert edge.post("/api/v1/auth/logout", headers=headers).status_code == 204
    after = edge.get("/api/v1/me", headers=headers)
    assert after.status_code == 401
    assert after.json()["detail"] == "Сеанс завершён или истёк. Войдите снова."
    refreshed = edge.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401

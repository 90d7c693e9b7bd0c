"""Edge routes on a fake RPC caller: what each route sends, and how answers and failures map
to HTTP. No broker: the services' side is covered by the end-to-end tests."""

from datetime import date
from uuid import uuid4

import httpx

from gosmed.contracts.access import Role
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import (
    AUTHENTICATE,
    ConfirmationLevel,
)
from gosmed.contracts.identity.auth import GET_PROFILE, Profile
from gosmed.contracts.records.queries import LIST_SERVICES, RenderedServicesPage
from gosmed.contracts.registry.organizations import GET_ORGANIZATIONS, OrganizationsView
from gosmed.runtime.testing import FakeRpc

from .support import BEARER, PATIENT, PRINCIPAL


async def test_list_page_asks_records_for_the_callers_own_services(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    rpc.reply(LIST_SERVICES, RenderedServicesPage(patient=PATIENT, items=()))
    response = await client.get("/api/v1/patients/me/services?limit=50&q=анализ", headers=BEARER)
    assert response.status_code == 200
    assert response.json()["items"] == []
    assert "message_id" not in response.json()  # replies carry no broker envelope
    [sent] = rpc.sent(LIST_SERVICES)
    assert sent.context.actor_id == sent.context.patient_id == PRINCIPAL.account_id
    assert sent.context.session_id == PRINCIPAL.session_id
    assert (sent.limit, sent.text) == (50, "анализ")
    [token] = rpc.sent(AUTHENTICATE)
    assert token.access_token == "token-of-the-test"


async def test_a_date_that_is_a_number_is_422_without_asking_records(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    """Found by Schemathesis: pydantic read «-2e-244» as a Unix time, so the filter passed."""
    response = await client.get(
        "/api/v1/patients/me/services?from=-2.0944004344172438e-244", headers=BEARER
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "ГГГГ-ММ-ДД" in response.text
    assert rpc.sent(LIST_SERVICES) == []


async def test_a_service_error_becomes_problem_json_with_its_code(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    rpc.fail(LIST_SERVICES, ServiceError(ErrorCode.FORBIDDEN, "Нет доступа к данным пациента."))
    response = await client.get(f"/api/v1/patients/{uuid4()}/services", headers=BEARER)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "forbidden"
    assert response.json()["detail"] == "Нет доступа к данным пациента."


async def test_a_service_that_is_down_is_503_not_500(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    response = await client.get("/api/v1/me", headers=BEARER)  # GET_PROFILE is not answered
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert rpc.sent(GET_PROFILE)


async def test_no_token_or_an_oversized_one_is_401_without_asking_identity(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    for headers in ({}, {"Authorization": "Bearer " + "x" * 5000}):
        response = await client.get("/api/v1/patients/me/services", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "unauthenticated"
    assert rpc.sent(AUTHENTICATE) == []


async def test_a_patient_id_that_is_not_a_uuid_is_404_without_asking_records(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    response = await client.get("/api/v1/patients/someone/services", headers=BEARER)
    assert response.status_code == 404
    assert rpc.sent(LIST_SERVICES) == []


async def test_profile_is_the_callers_own(client: httpx.AsyncClient, rpc: FakeRpc) -> None:
    profile = Profile(
        account_id=PRINCIPAL.account_id,
        full_name="Иванова Мария Петровна",
        birth_date=date(1985, 3, 14),
        snils="112-233-445 95",
        oms_policy=None,
        phone="+79161234567",
        email=None,
        confirmation_level=ConfirmationLevel.CONFIRMED,
        roles=frozenset({Role.CITIZEN}),
        totp_enabled=True,
    )
    rpc.reply(GET_PROFILE, profile)
    response = await client.get("/api/v1/me", headers=BEARER)
    assert response.status_code == 200
    assert response.json()["full_name"] == "Иванова Мария Петровна"
    assert [r.account_id for r in rpc.sent(GET_PROFILE)] == [PRINCIPAL.account_id]


async def test_unknown_organization_is_404(client: httpx.AsyncClient, rpc: FakeRpc) -> None:
    rpc.reply(GET_ORGANIZATIONS, OrganizationsView(items=(), missing=()))
    response = await client.get(f"/api/v1/organizations/{uuid4()}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"

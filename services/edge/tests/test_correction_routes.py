"""Correction routes on a fake RPC caller: what each route sends and how answers map to HTTP."""

from datetime import UTC, date, datetime
from uuid import uuid4

import httpx
import pytest

from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.records.corrections import (
    FILE_CORRECTION,
    GET_CORRECTION,
    GET_CORRECTION_STATS,
    LIST_CORRECTIONS,
    LIST_OPERATOR_CORRECTIONS,
    WITHDRAW_CORRECTION,
    ChangeView,
    CorrectionsPage,
    CorrectionStats,
    CorrectionStatus,
    CorrectionView,
    OperatorFilter,
)
from gosmed.runtime.testing import FakeRpc

from .support import BEARER, PRINCIPAL

RECORD = uuid4()
PATH = f"/api/v1/patients/me/services/{RECORD}/corrections"


def view(status: CorrectionStatus = CorrectionStatus.SENT) -> CorrectionView:
    return CorrectionView(
        id=uuid4(),
        number="И-20251029-ABCDEF",
        record_id=RECORD,
        organization_id=uuid4(),
        status=status,
        changes=(ChangeView(field="rendered_on", current="2025-10-02", proposed="2025-10-01"),),
        filed_at=datetime(2025, 10, 29, 9, tzinfo=UTC),
        due_on=date(2025, 11, 6),
        overdue=False,
    )


async def test_filing_sends_the_changes_for_the_caller_and_answers_201(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    rpc.reply(FILE_CORRECTION, view())
    body = {"changes": {"rendered_on": "2025-10-01"}, "comment": "Был в другой день"}
    response = await client.post(PATH, json=body, headers=BEARER)
    assert response.status_code == 201, response.text
    assert response.json()["due_on"] == "2025-11-06"
    assert response.json()["changes"][0]["current"] == "2025-10-02"
    [sent] = rpc.sent(FILE_CORRECTION)
    assert sent.context.actor_id == sent.context.patient_id == PRINCIPAL.account_id
    assert (sent.record_id, sent.changes.rendered_on, sent.comment) == (
        RECORD,
        date(2025, 10, 1),
        "Был в другой день",
    )


@pytest.mark.parametrize(
    "body",
    [
        {},  # neither a change nor a comment
        {"changes": {}, "comment": "  "},
        {"changes": {"unknown_field": 1}},
        {"changes": {"rendered_on": "вчера"}},
        {"changes": {"diagnosis": {"code": "не код", "text": "x"}}},
        {"changes": {"start_time": "10:00", "end_time": "09:00"}},
    ],
)
async def test_an_empty_or_invalid_request_is_422(
    client: httpx.AsyncClient, rpc: FakeRpc, body: dict[str, object]
) -> None:
    response = await client.post(PATH, json=body, headers=BEARER)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_failed"
    assert rpc.sent(FILE_CORRECTION) == []


async def test_a_second_open_request_is_409_and_a_stranger_404(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    body = {"comment": "Не было такой услуги"}
    rpc.fail(FILE_CORRECTION, ServiceError(ErrorCode.CONFLICT, "Уже есть открытое заявление."))
    response = await client.post(PATH, json=body, headers=BEARER)
    assert (response.status_code, response.json()["code"]) == (409, "conflict")
    rpc.fail(FILE_CORRECTION, ServiceError(ErrorCode.NOT_FOUND, "Пациент не найден."))
    response = await client.post(PATH, json=body, headers=BEARER)
    assert response.status_code == 404


async def test_list_get_and_withdraw(client: httpx.AsyncClient, rpc: FakeRpc) -> None:
    filed = view()
    rpc.reply(LIST_CORRECTIONS, CorrectionsPage(items=(filed,)))
    rpc.reply(GET_CORRECTION, filed)
    rpc.reply(WITHDRAW_CORRECTION, view(CorrectionStatus.WITHDRAWN))
    base = "/api/v1/patients/me/corrections"

    listed = await client.get(base, headers=BEARER)
    one = await client.get(f"{base}/{filed.id}", headers=BEARER)
    withdrawn = await client.post(f"{base}/{filed.id}/withdraw", headers=BEARER)

    assert [i["id"] for i in listed.json()["items"]] == [str(filed.id)]
    assert one.json()["number"] == filed.number
    assert withdrawn.json()["status"] == "withdrawn"
    assert rpc.sent(GET_CORRECTION)[0].correction_id == filed.id
    assert rpc.sent(WITHDRAW_CORRECTION)[0].correction_id == filed.id
    assert rpc.sent(LIST_CORRECTIONS)[0].context.patient_id == PRINCIPAL.account_id


async def test_filing_needs_a_login(client: httpx.AsyncClient) -> None:
    response = await client.post(PATH, json={"comment": "x"})
    assert response.status_code == 401


async def test_operator_routes_pass_the_callers_roles(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    organization_id = uuid4()
    rpc.reply(LIST_OPERATOR_CORRECTIONS, CorrectionsPage(items=(view(),)))
    rpc.reply(
        GET_CORRECTION_STATS,
        CorrectionStats(
            organization_id=organization_id,
            requests=3,
            open=1,
            accepted=1,
            rejected=1,
            withdrawn=0,
            overdue=1,
            answered_late=0,
            median_answer_working_days=2.5,
        ),
    )
    listed = await client.get(
        "/api/v1/operator/corrections",
        params={"status": "overdue", "organization_id": str(organization_id)},
        headers=BEARER,
    )
    stats = await client.get(
        f"/api/v1/operator/organizations/{organization_id}/corrections-stats", headers=BEARER
    )
    assert listed.status_code == 200, listed.text
    assert stats.json()["median_answer_working_days"] == 2.5
    [sent] = rpc.sent(LIST_OPERATOR_CORRECTIONS)
    assert (sent.status, sent.organization_id, sent.context.roles) == (
        OperatorFilter.OVERDUE,
        organization_id,
        PRINCIPAL.roles,
    )
    assert rpc.sent(GET_CORRECTION_STATS)[0].organization_id == organization_id
    rpc.fail(LIST_OPERATOR_CORRECTIONS, ServiceError(ErrorCode.FORBIDDEN, "Только операторам."))
    refused = await client.get("/api/v1/operator/corrections", headers=BEARER)
    assert refused.status_code == 403
    wrong = await client.get("/api/v1/operator/corrections?status=all", headers=BEARER)
    assert wrong.status_code == 422

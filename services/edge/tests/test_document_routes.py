"""POST /patients/{patient_id}/documents on a fake documents service: what reaches it."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest

from gosmed.contracts.documents.requests import (
    REQUEST_DOCUMENT,
    DocumentFormat,
    DocumentKind,
    DocumentStatus,
    DocumentView,
)
from gosmed.contracts.errors import ErrorCode, ErrorDetail, ServiceError
from gosmed.contracts.types import DateRange
from gosmed.runtime.testing import FakeRpc

from .support import BEARER

PATH = "/api/v1/patients/me/documents"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def pending() -> DocumentView:
    return DocumentView(
        document_id=uuid4(),
        number="СМУ-20260301-000001",
        kind=DocumentKind.DYNAMICS,
        format=DocumentFormat.PDF,
        status=DocumentStatus.PENDING,
        created_at=NOW,
        expires_at=NOW + timedelta(days=7),
    )


async def test_a_dynamics_report_takes_its_period_from_from_and_to_and_its_analytes(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    rpc.reply(REQUEST_DOCUMENT, pending())
    response = await client.post(
        PATH,
        headers=BEARER,
        json={"kind": "dynamics", "from": "2025-01-01", "to": "2025-12-31", "analytes": ["GLU"]},
    )

    assert response.status_code == 202, response.text
    [sent] = rpc.sent(REQUEST_DOCUMENT)
    assert sent.kind == DocumentKind.DYNAMICS
    assert sent.period == DateRange(start=date(2025, 1, 1), end=date(2025, 12, 31))
    assert sent.analytes == {"GLU"}


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "dynamics", "from": "2025-01-01"},
        {"kind": "dynamics", "from": "2025-12-31", "to": "2025-01-01"},
        {
            "kind": "dynamics",
            "from": "2025-01-01",
            "to": "2025-12-31",
            "period": {"start": "2025-01-01", "end": "2025-12-31"},
        },
        {"kind": "dynamics", "format": "xlsx"},
        {"kind": "statement", "analytes": ["GLU"]},
    ],
    ids=["from-alone", "to-before-from", "two-periods", "xlsx", "analytes-of-a-statement"],
)
async def test_a_request_that_cannot_be_a_document_is_422_without_asking_documents(
    client: httpx.AsyncClient, rpc: FakeRpc, body: dict[str, Any]
) -> None:
    response = await client.post(PATH, headers=BEARER, json=body)

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_failed"
    assert rpc.sent(REQUEST_DOCUMENT) == []


async def test_no_lab_values_is_422_with_each_analyte(
    client: httpx.AsyncClient, rpc: FakeRpc
) -> None:
    detail = ErrorDetail(field="analytes", code="no_lab_values", message="нет значений K")
    rpc.fail(REQUEST_DOCUMENT, ServiceError(ErrorCode.NO_LAB_VALUES, "Нет значений: K.", (detail,)))

    response = await client.post(PATH, headers=BEARER, json={"kind": "dynamics", "analytes": ["K"]})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "no_lab_values"
    assert response.json()["detail"] == "Нет значений: K."
    assert response.json()["errors"][0]["field"] == "analytes"

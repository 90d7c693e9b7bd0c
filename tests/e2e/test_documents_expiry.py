"""A document past its lifetime answers 410, through the real edge, on a stack whose documents
live a few seconds (the other document tests use a lifetime no loaded machine can outrun)."""

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gosmed.contracts import demo
from tests.e2e.identity_support import DEMO_ENV, login

TTL_SECONDS = 3
WITHIN = 60.0


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    return {**DEMO_ENV, "GOSMED_DOCUMENTS_DOCUMENT_TTL_SECONDS": str(TTL_SECONDS)}


@pytest.fixture(scope="module")
def edge_module(stack: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        yield client


def test_expired_document_answers_410(edge_module: httpx.Client) -> None:
    headers = login(edge_module, demo.PATIENT)
    requested = edge_module.post(
        "/api/v1/patients/me/documents", json={"kind": "statement"}, headers=headers
    )
    assert requested.status_code == 202, requested.text
    document_id = requested.json()["document_id"]
    deadline = time.monotonic() + WITHIN
    while (
        answer := edge_module.get(f"/api/v1/documents/{document_id}", headers=headers)
    ).status_code != 410:
        assert answer.status_code == 200, answer.text
        assert time.monotonic() < deadline, f"not expired within {WITHIN:g} s: {answer.text}"
        time.sleep(0.2)

    for path in ("", "/file"):
        response = edge_module.get(
            f"/api/v1/documents/{document_id}{path}", headers=login(edge_module, demo.PATIENT)
        )
        assert response.status_code == 410
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["code"] == "document_expired"
        assert "Срок хранения документа истёк" in problem["detail"]

"""The OpenAPI document says what the edge answers: every error with its problem+json body,
the security of every operation, and formats that the values sent keep."""

import re
from collections.abc import AsyncIterator
from datetime import time
from typing import Any

import httpx
import jsonschema_rs
import pytest

from gosmed.contracts.registry.organizations import WeekdayHours
from gosmed.edge.main import API_PREFIX, create_app
from gosmed.edge.openapi_tables import LINKS, OPTIONAL_AUTH, SPECIAL_ANSWERS
from gosmed.edge.problems import PROBLEM_JSON
from gosmed.edge.settings import EdgeSettings

PUBLIC = {
    ("post", "/auth/login"),
    ("post", "/auth/mfa/code"),
    ("post", "/auth/mfa"),
    ("post", "/auth/refresh"),
    ("get", "/organizations"),
    ("get", "/organizations/{organization_id}"),
    ("get", "/specialists/{specialist_id}"),
    ("get", "/catalog/services"),
    ("get", "/catalog/services/{code}/tariff"),
    ("get", "/verify/{document_id}"),
    ("post", "/verify/{document_id}"),
    ("get", "/reviews"),
    ("get", "/organizations/{organization_id}/rating"),
    ("get", "/specialists/{specialist_id}/rating"),
    ("get", "/ratings/compare"),
}
PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
AN_ID = "00000000-0000-4000-8000-000000000000"

Document = dict[str, Any]


@pytest.fixture
def document(edge_settings: EdgeSettings) -> Document:
    return create_app(edge_settings).openapi()


@pytest.fixture
async def edge(edge_settings: EdgeSettings) -> AsyncIterator[httpx.AsyncClient]:
    """The edge alone, not connected to any broker: what it answers before calling a service."""
    transport = httpx.ASGITransport(app=create_app(edge_settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
        yield client


def operations(document: Document) -> list[tuple[str, str, Document]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def schema_validator(document: Document, name: str) -> jsonschema_rs.Validator:
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)


def url(path: str) -> str:
    return API_PREFIX + re.sub(r"\{[^}]+\}", AN_ID, path)


def test_public_operations_declare_no_security_and_the_others_the_bearer(
    document: Document,
) -> None:
    for method, path, operation in operations(document):
        expected: list[Document] = [] if (method, path) in PUBLIC else [{"HTTPBearer": []}]
        if (method, path) in OPTIONAL_AUTH:
            expected = [{}, {"HTTPBearer": []}]
        assert operation.get("security") == expected, (method, path)
    assert document["servers"] == [{"url": API_PREFIX, "description": "This host"}]


def test_every_error_answer_is_declared_as_problem_json(document: Document) -> None:
    for method, path, operation in operations(document):
        errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
        assert any(status.startswith("4") for status in errors), (method, path)
        assert {"503", "504"} <= set(errors), (method, path)
        for status, response in errors.items():
            assert response["content"] == PROBLEM_CONTENT, (method, path, status)
    assert "HTTPValidationError" not in document["components"]["schemas"]


async def test_protected_operations_answer_a_declared_401(
    document: Document, edge: httpx.AsyncClient
) -> None:
    problem = schema_validator(document, "ProblemDetails")
    for method, path, operation in operations(document):
        if (method, path) in PUBLIC | OPTIONAL_AUTH:
            continue
        response = await edge.request(method.upper(), url(path))
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.headers["www-authenticate"] == "Bearer"
        problem.validate(response.json())
        declared = operation["responses"]["401"]
        assert declared["headers"]["WWW-Authenticate"]["required"], (method, path)


async def test_bodies_over_the_limit_answer_a_declared_413(
    document: Document, edge: httpx.AsyncClient
) -> None:
    problem = schema_validator(document, "ProblemDetails")
    bodied = [(m, p, o) for m, p, o in operations(document) if m in ("post", "put")]
    assert bodied
    for method, path, operation in bodied:
        response = await edge.request(method.upper(), url(path), content=b"x" * 5000)
        assert response.status_code == 413, (method, path)
        problem.validate(response.json())
        assert "413" in operation["responses"], (method, path)


async def test_a_body_that_is_not_json_answers_a_declared_400(
    document: Document, edge: httpx.AsyncClient
) -> None:
    response = await edge.post(
        url("/auth/login"), content=b"\x80{", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "Тело запроса не удалось разобрать."
    assert "400" in document["paths"]["/auth/login"]["post"]["responses"]


async def test_wrong_method_names_every_method_of_the_path(edge: httpx.AsyncClient) -> None:
    response = await edge.request("PATCH", url("/delegations/{delegation_id}"))
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, DELETE"


def test_local_times_keep_their_declared_format(document: Document) -> None:
    hours = WeekdayHours(weekday=1, opens=time(0), closes=time(23, 59, 59))
    schema_validator(document, "WeekdayHours").validate(hours.model_dump(mode="json"))


def test_special_answers_and_links_name_operations_that_exist(document: Document) -> None:
    declared = {(method, path) for method, path, _ in operations(document)}
    assert set(SPECIAL_ANSWERS) <= declared
    assert set(LINKS) <= declared
    for (method, path), answers in SPECIAL_ANSWERS.items():
        responses = document["paths"][path][method]["responses"]
        assert {str(status) for status in answers} <= set(responses)

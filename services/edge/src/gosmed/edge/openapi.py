"""The edge's OpenAPI document: every answer an operation gives, its errors included.

FastAPI documents a route's parameters, body and success answer. This adds what it cannot see:
the problem+json answers, derived from the route (a bearer dependency gives 401 and 403, a path
parameter 404, parameters or a body 422, a JSON or multipart body 400, a POST or PUT 413 from
the body limit, every route 503 and 504 because a service answers it) plus a small table of the
answers only some services give (409, 410, 415, 429); `security: []` on public operations
(`{}` beside the bearer on those open to everyone that use a token when given); the
server; and links from the operations that answer an id to those that take it.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from gosmed.edge.openapi_tables import LINKS, OPTIONAL_AUTH, SPECIAL_ANSWERS
from gosmed.edge.problems import PROBLEM_JSON, ProblemDetails

JsonObject = dict[str, Any]

LICENSE = {"name": "Proprietary: all rights reserved", "identifier": "LicenseRef-Proprietary"}
DESCRIPTION = (
    "Every error answer is `application/problem+json` (RFC 9457) with a stable `code` and a "
    "Russian `detail`. Protected operations take the access token of `POST /auth/mfa` as "
    "`Authorization: Bearer`. The probes `GET /healthz` and `GET /readyz` are outside this "
    "API (at the root of the host, for orchestrators). The keys that verify access tokens are "
    "the JWK Set (RFC 7517) at `GET /api/v1/.well-known/jwks.json`, a standard document "
    "rather than an operation of this API. Every answer carries `Cache-Control: no-store` "
    "(tokens, medical and personal data must not be kept by browsers or proxies), except the "
    "JWK Set, which is public and cacheable."
)

REASONS: dict[int, str] = {
    400: "The body could not be parsed (not JSON, or not a multipart form).",
    401: "No access token, or it is invalid or expired, or its session has ended.",
    403: "The caller's account or legal basis does not allow this.",
    404: "No such object, or the caller may not see it.",
    409: "The object's current state does not allow this.",
    410: "The document is no longer available.",
    413: "The body is larger than the edge accepts.",
    415: "The file's type is not accepted.",
    422: "A parameter or the body failed validation; `errors` names each field.",
    429: "Too many attempts; try again later.",
    503: "A service behind the edge is unavailable; try again later.",
    504: "A service behind the edge did not answer in time; try again later.",
}

PARAMETER_DESCRIPTIONS = {
    "cursor": "Opaque page cursor: the `next_cursor` of the previous page, unchanged; "
    "any other value answers 422.",
}


def install_openapi(app: FastAPI, prefix: str) -> None:
    """Serve the document of the routes under `prefix`, built once on the first request."""

    def openapi() -> JsonObject:
        if app.openapi_schema is None:
            app.openapi_schema = build_document(app, prefix)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def build_document(app: FastAPI, prefix: str) -> JsonObject:
    document = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=DESCRIPTION,
        routes=app.routes,
        servers=[{"url": app.root_path.rstrip("/") + prefix, "description": "This host"}],
        license_info=LICENSE,
        separate_input_output_schemas=app.separate_input_output_schemas,
    )
    schemas = document["components"]["schemas"]
    for replaced in ("HTTPValidationError", "ValidationError"):
        schemas.pop(replaced, None)
    schemas.update(_problem_schemas())
    _drop_unique_items(schemas)
    document["paths"] = {
        path.removeprefix(prefix): item
        for path, item in document["paths"].items()
        if path.startswith(prefix + "/")
    }
    operation_ids = _operation_ids(document["paths"])
    for path, item in document["paths"].items():
        for method, operation in item.items():
            _complete(method, path, operation, operation_ids)
    return document


def _drop_unique_items(node: Any) -> None:
    """Sets take a repeated item and merge it, so a request with one is not refused: no schema
    says `uniqueItems` (pydantic writes it for every set)."""
    if isinstance(node, dict):
        node.pop("uniqueItems", None)
        node = list(node.values())
    if isinstance(node, list):
        for child in node:
            _drop_unique_items(child)


def _problem_schemas() -> JsonObject:
    schema = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions: JsonObject = schema.pop("$defs")
    return {**definitions, "ProblemDetails": schema}


def _operation_ids(paths: JsonObject) -> dict[tuple[str, str], str]:
    return {
        (method, path): operation["operationId"]
        for path, item in paths.items()
        for method, operation in item.items()
    }


def _complete(
    method: str, path: str, operation: JsonObject, operation_ids: dict[tuple[str, str], str]
) -> None:
    operation.setdefault("security", [])
    if (method, path) in OPTIONAL_AUTH:
        operation["security"] = [{}, *operation["security"]]
    for parameter in operation.get("parameters", []):
        if parameter["name"] in PARAMETER_DESCRIPTIONS:
            parameter["description"] = PARAMETER_DESCRIPTIONS[parameter["name"]]
    responses: JsonObject = operation["responses"]
    responses.pop("422", None)
    errors = error_statuses(method, operation)
    errors.update(SPECIAL_ANSWERS.get((method, path), {}))
    for status, reason in sorted(errors.items()):
        responses[str(status)] = _problem_response(status, reason)
    links = LINKS.get((method, path))
    if links:
        success = next(answer for status, answer in responses.items() if status.startswith("2"))
        success["links"] = {
            name: {"operationId": operation_ids[(verb, target)], "parameters": parameters}
            for name, (verb, target, parameters) in links.items()
        }


def error_statuses(method: str, operation: JsonObject) -> dict[int, str]:
    """The error answers of an operation that follow from its route, with their reasons."""
    parameters = operation.get("parameters", [])
    statuses = [503, 504]  # a service answers every operation
    if operation["security"]:
        statuses += [401, 403]
    if any(p["in"] == "path" for p in parameters):
        statuses.append(404)
    if parameters or "requestBody" in operation:
        statuses.append(422)
    if {"application/json", "multipart/form-data"} & set(
        operation.get("requestBody", {}).get("content", {})
    ):
        statuses.append(400)
    if method in ("post", "put", "patch"):  # the body limit reads these bodies
        statuses.append(413)
    return {status: REASONS[status] for status in statuses}


def _problem_response(status: int, reason: str) -> JsonObject:
    response: JsonObject = {
        "description": reason,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
    }
    if status == 401:
        response["headers"] = {
            "WWW-Authenticate": {
                "description": "`Bearer`: the scheme to authenticate with.",
                "required": True,
                "schema": {"type": "string"},
            }
        }
    if status == 429:
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds until a retry may succeed, when the limit knows it.",
                "required": False,
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    return response

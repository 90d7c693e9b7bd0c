"""The edge's OpenAPI document: every answer an operation gives, its errors included.

FastAPI documents a route's parameters, body and success answer. This adds what it cannot see:
the problem+json answers, derived from the route (a bearer dependency gives 401 and 403, a path
parameter 404, parameters or a body 422, a JSON body 400, a POST or PUT 413 from the body limit,
every route 503 and 504 because a service answers it) plus a small table of the answers only
some services give (409, 410, 429); `security: []` on public operations; the server; links
from the operations that answer an id to those that take it; and it leaves the broker envelope
(`message_id`, `occurred_at`) out of the answers' schemas, as the routes do.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from gosmed.edge.deps import MESSAGE_FIELDS
from gosmed.edge.problems import PROBLEM_JSON, ProblemDetails

JsonObject = dict[str, Any]

LICENSE = {"name": "Proprietary: all rights reserved", "identifier": "LicenseRef-Proprietary"}
DESCRIPTION = (
    "Every error answer is `application/problem+json` (RFC 9457) with a stable `code` and a "
    "Russian `detail`. Protected operations take the access token of `POST /auth/mfa` as "
    "`Authorization: Bearer`. The probes `GET /healthz` and `GET /readyz` are outside this "
    "API (at the root of the host, for orchestrators)."
)

REASONS: dict[int, str] = {
    400: "The body could not be parsed (not JSON).",
    401: "No access token, or it is invalid or expired, or its session has ended.",
    403: "The caller's account or legal basis does not allow this.",
    404: "No such object, or the caller may not see it.",
    409: "The object's current state does not allow this.",
    410: "The document is no longer available.",
    413: "The body is larger than the edge accepts.",
    422: "A parameter or the body failed validation; `errors` names each field.",
    429: "Too many attempts; try again later.",
    503: "A service behind the edge is unavailable; try again later.",
    504: "A service behind the edge did not answer in time; try again later.",
}

SPECIAL_ANSWERS: dict[tuple[str, str], dict[int, str]] = {
    ("post", "/auth/login"): {
        401: "Wrong phone or password.",
        429: "Too many failed logins of this phone or from this address: locked for a while.",
    },
    ("post", "/auth/mfa/code"): {
        401: "The login attempt is unknown, finished, expired or out of tries.",
        409: "The account has no such factor (e.g. no e-mail).",
        429: "A code was sent a moment ago; `resend_after` of that answer says when to retry.",
        503: "The code could not be delivered; choose another factor.",
    },
    ("post", "/auth/mfa"): {
        401: "Wrong or reused code, or the login attempt is unknown, expired or out of tries.",
        429: "Too many failed logins: locked for a while.",
    },
    ("post", "/auth/refresh"): {
        401: "Unknown or reused refresh token (reuse ends the session), or the session ended.",
    },
    ("post", "/me/totp/confirm"): {
        409: "The enrolment is already confirmed or was replaced.",
        422: "Wrong code, or no enrolment was started.",
    },
    ("post", "/delegations"): {
        404: "No account has the agent's SNILS.",
        409: "The delegation is refused (e.g. to oneself).",
    },
    ("delete", "/delegations/{delegation_id}"): {409: "The delegation is already revoked."},
    ("post", "/delegations/{delegation_id}/verify"): {
        409: "The delegation is not waiting for verification.",
    },
    ("post", "/insurer-consents"): {404: "No insurer's representative has this SNILS."},
    ("delete", "/insurer-consents/{consent_id}"): {409: "The consent is already revoked."},
    ("post", "/insurer-consents/{consent_id}/request"): {409: "The consent is revoked."},
    ("post", "/insurer-consents/{consent_id}/confirm"): {
        409: "No request of the insurer is waiting for confirmation.",
    },
    ("post", "/inspector-orders"): {
        404: "No inspector has this SNILS, or a patient of the order is not found.",
    },
    ("delete", "/inspector-orders/{order_id}"): {409: "The order is already revoked."},
    ("get", "/documents/{document_id}"): {410: "The document has expired."},
    ("get", "/documents/{document_id}/file"): {
        409: "The document is still being prepared, or preparing it failed.",
        410: "The document has expired or was revoked.",
    },
    ("post", "/documents/{document_id}/email"): {
        409: "The document is not ready, or the account has no confirmed e-mail.",
    },
}
"""Answers only some operations give, from the services behind them (their `ServiceError`s)."""

PARAMETER_DESCRIPTIONS = {
    "cursor": "Opaque page cursor: the `next_cursor` of the previous page, unchanged; "
    "any other value answers 422.",
}

Target = tuple[str, str, dict[str, str]]
LINKS: dict[tuple[str, str], dict[str, Target]] = {
    ("get", "/patients"): {
        "ListServices": (
            "get",
            "/patients/{patient_id}/services",
            {"patient_id": "$response.body#/patients/0/patient/account_id"},
        ),
    },
    ("get", "/patients/{patient_id}/services"): {
        "GetService": (
            "get",
            "/patients/{patient_id}/services/{record_id}",
            {"patient_id": "$request.path.patient_id", "record_id": "$response.body#/items/0/id"},
        ),
        "GetOrganization": (
            "get",
            "/organizations/{organization_id}",
            {"organization_id": "$response.body#/items/0/organization_id"},
        ),
        "GetSpecialist": (
            "get",
            "/specialists/{specialist_id}",
            {"specialist_id": "$response.body#/items/0/specialist_id"},
        ),
    },
    ("get", "/organizations"): {
        "GetOrganization": (
            "get",
            "/organizations/{organization_id}",
            {"organization_id": "$response.body#/items/0/id"},
        ),
    },
    ("get", "/catalog/services"): {
        "GetTariff": (
            "get",
            "/catalog/services/{code}/tariff",
            {"code": "$response.body#/items/0/code"},
        ),
    },
    ("get", "/me/notifications"): {
        "MarkRead": (
            "post",
            "/me/notifications/{notification_id}/read",
            {"notification_id": "$response.body#/notifications/0/notification_id"},
        ),
    },
    ("get", "/delegations"): {
        "GetDelegation": (
            "get",
            "/delegations/{delegation_id}",
            {"delegation_id": "$response.body#/delegations/0/delegation_id"},
        ),
    },
    ("post", "/delegations"): {
        "GetDelegation": (
            "get",
            "/delegations/{delegation_id}",
            {"delegation_id": "$response.body#/delegation_id"},
        ),
        "RevokeDelegation": (
            "delete",
            "/delegations/{delegation_id}",
            {"delegation_id": "$response.body#/delegation_id"},
        ),
        "VerifyDelegation": (
            "post",
            "/delegations/{delegation_id}/verify",
            {"delegation_id": "$response.body#/delegation_id"},
        ),
    },
    ("get", "/insurer-consents"): {
        "GetInsurerConsent": (
            "get",
            "/insurer-consents/{consent_id}",
            {"consent_id": "$response.body#/consents/0/consent_id"},
        ),
    },
    ("post", "/insurer-consents"): {
        "GetInsurerConsent": (
            "get",
            "/insurer-consents/{consent_id}",
            {"consent_id": "$response.body#/consent_id"},
        ),
        "RevokeInsurerConsent": (
            "delete",
            "/insurer-consents/{consent_id}",
            {"consent_id": "$response.body#/consent_id"},
        ),
        "RequestInsurerAccess": (
            "post",
            "/insurer-consents/{consent_id}/request",
            {"consent_id": "$response.body#/consent_id"},
        ),
        "ConfirmInsurerRequest": (
            "post",
            "/insurer-consents/{consent_id}/confirm",
            {"consent_id": "$response.body#/consent_id"},
        ),
    },
    ("get", "/inspector-orders"): {
        "GetInspectorOrder": (
            "get",
            "/inspector-orders/{order_id}",
            {"order_id": "$response.body#/orders/0/order_id"},
        ),
    },
    ("post", "/inspector-orders"): {
        "GetInspectorOrder": (
            "get",
            "/inspector-orders/{order_id}",
            {"order_id": "$response.body#/order_id"},
        ),
        "RevokeInspectorOrder": (
            "delete",
            "/inspector-orders/{order_id}",
            {"order_id": "$response.body#/order_id"},
        ),
    },
    ("post", "/patients/{patient_id}/documents"): {
        "GetDocument": (
            "get",
            "/documents/{document_id}",
            {"document_id": "$response.body#/document_id"},
        ),
        "GetDocumentFile": (
            "get",
            "/documents/{document_id}/file",
            {"document_id": "$response.body#/document_id"},
        ),
        "EmailDocument": (
            "post",
            "/documents/{document_id}/email",
            {"document_id": "$response.body#/document_id"},
        ),
        "RevokeDocument": (
            "post",
            "/documents/{document_id}/revoke",
            {"document_id": "$response.body#/document_id"},
        ),
        "VerifyDocument": (
            "get",
            "/verify/{document_id}",
            {"document_id": "$response.body#/document_id"},
        ),
        "VerifyDocumentFile": (
            "post",
            "/verify/{document_id}",
            {"document_id": "$response.body#/document_id"},
        ),
    },
}
"""Where the ids an operation answers can be used: OpenAPI links, e.g. for clients and tests."""


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
    for schema in schemas.values():  # the routes leave the broker envelope out of answers
        for field in MESSAGE_FIELDS - set(schema.get("required", ())):
            schema.get("properties", {}).pop(field, None)
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
    if "application/json" in operation.get("requestBody", {}).get("content", {}):
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
    return response

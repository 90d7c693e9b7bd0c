"""The request body limit: 1 MiB by default, but `POST /verify/{id}` takes a document file as
large as the largest document the documents service issues."""

import json

import httpx
from starlette.types import Receive, Scope, Send

from gosmed.contracts.documents.requests import MAX_FILE_BYTES
from gosmed.edge.main import VERIFY_FILE_PREFIX
from gosmed.edge.middleware import BodyLimitMiddleware
from gosmed.edge.settings import EdgeSettings


def test_the_edge_takes_files_as_large_as_the_documents_issued() -> None:
    # the documents service issues files up to its `max_file_bytes`, at most MAX_FILE_BYTES
    assert EdgeSettings().max_file_body_bytes == MAX_FILE_BYTES
    assert EdgeSettings().max_body_bytes < MAX_FILE_BYTES  # other bodies stay small


async def echo_size(scope: Scope, receive: Receive, send: Send) -> None:
    size, more = 0, True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    body = json.dumps({"size": size}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def test_the_largest_document_file_passes_only_to_verification() -> None:
    settings = EdgeSettings()
    app = BodyLimitMiddleware(
        echo_size,
        max_bytes=settings.max_body_bytes,
        larger={VERIFY_FILE_PREFIX: settings.max_file_body_bytes},
    )
    largest = b"%PDF" + b"\0" * (MAX_FILE_BYTES - 4)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
        verified = await client.post(f"{VERIFY_FILE_PREFIX}some-id", content=largest)
        assert verified.status_code == 200
        assert verified.json() == {"size": MAX_FILE_BYTES}

        over = await client.post(f"{VERIFY_FILE_PREFIX}some-id", content=largest + b"\0")
        assert over.status_code == 413
        assert over.json()["code"] == "payload_too_large"
        assert str(MAX_FILE_BYTES) in over.json()["detail"]

        elsewhere = await client.post("/api/v1/patients/me/documents", content=largest)
        assert elsewhere.status_code == 413
        assert str(settings.max_body_bytes) in elsewhere.json()["detail"]

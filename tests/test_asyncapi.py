"""The AsyncAPI document for clinics is generated from the code and kept up to date."""

import json
from pathlib import Path

from gosmed.contracts.system import ping
from gosmed.contracts.topology import Service
from gosmed.runtime.asyncapi import build_document

COMMITTED = Path(__file__).parents[1] / "docs" / "asyncapi.json"


def test_document_describes_every_service_queue() -> None:
    document = build_document()
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert {ping(service).queue for service in Service} <= addresses
    assert document["info"]["title"] == "gosmed"


def test_committed_document_is_current() -> None:
    document = build_document()
    committed = json.loads(COMMITTED.read_text())
    for part in ("channels", "operations", "components"):
        assert committed[part] == document[part], "docs/asyncapi.json is stale: run `make asyncapi`"

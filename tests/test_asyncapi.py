"""The AsyncAPI documents are generated from the code and kept up to date: the clinics' one
lists only what a clinic's broker user can reach, the internal one every service's queues."""

import json
from pathlib import Path
from typing import Any

import pytest

from gosmed.contracts import topology
from gosmed.contracts.system import ping
from gosmed.contracts.topology import Service
from gosmed.runtime.asyncapi import build_document, build_internal_document

DOCS = Path(__file__).parents[1] / "docs"
CLINICS = DOCS / "asyncapi.json"
INTERNAL = DOCS / "asyncapi-internal.json"


def addresses(document: dict[str, Any]) -> set[str]:
    return {channel["address"] for channel in document["channels"].values()}


def test_clinics_document_lists_only_the_clinic_facing_channels() -> None:
    document = build_document()
    assert addresses(document) == {
        "records.rendered-services",
        "records.lab-results",
        "feedback.answer-review",
        "clinic.{organization_id}.replies",
        "clinic.{organization_id}.sync-requests",
        "scheduling.publish-schedule",
        "clinic.{organization_id}.appointments",
        "clinic.{organization_id}.corrections",
        "records.correction-answers",
        "records.correction-attachments",
        "records.prescriptions",
        "records.referrals",
    }
    text = json.dumps(document)
    assert topology.CLINIC_INTAKE_EXCHANGE in text
    assert ".rpc." not in text
    assert {
        "ReportRenderedServices",
        "ReportAccepted",
        "ErrorReply",
        "RequestClinicSync",
        "AnswerReview",
        "AnswerAccepted",
        "PublishSchedule",
        "ScheduleAccepted",
        "AppointmentBooked",
        "AppointmentCancelled",
        "CorrectionRequested",
        "AnswerCorrection",
        "CorrectionAnswered",
        "ReportLabResults",
        "LabResultsAccepted",
    } <= set(document["components"]["schemas"])


def test_internal_document_describes_every_service_queue() -> None:
    document = build_internal_document()
    assert {ping(service).queue for service in Service} <= addresses(document)
    assert document["info"]["title"] == "gosmed (internal)"


@pytest.mark.parametrize(
    ("committed", "build"), [(CLINICS, build_document), (INTERNAL, build_internal_document)]
)
def test_committed_document_is_current(committed: Path, build: Any) -> None:
    document = build()
    stored = json.loads(committed.read_text())
    for part in ("channels", "operations", "components"):
        assert stored[part] == document[part], f"{committed.name} is stale: run `make asyncapi`"

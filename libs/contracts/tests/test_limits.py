"""Free texts and numbers that reach a store have bounds, and crossing one is reported with
the field and a Russian message, as every other validation failure."""

import json
from datetime import date, time
from typing import Any
from uuid import UUID

import annotated_types
import pytest
from pydantic import BaseModel, ValidationError

from gosmed.contracts import topology
from gosmed.contracts.documents.requests import MAX_FILE_BYTES, VERIFY_DOCUMENT, VerifyDocument
from gosmed.contracts.errors import ErrorDetail, validation_details
from gosmed.contracts.limits import (
    DEFAULT_MESSAGE_BYTES,
    MIB,
    REPORT_MESSAGE_BYTES,
    max_message_bytes,
)
from gosmed.contracts.records.intake import (
    MAX_BATCH,
    MAX_PROCEDURE_LENGTH,
    MAX_VERSION,
    RENDERED_SERVICES,
    Diagnosis,
    RecordStatus,
    ReportedService,
    ReportRenderedServices,
)
from gosmed.contracts.records.views import Cost, CostKind, Coverage, CoverageKind
from gosmed.contracts.registry.catalog import ServiceCategory
from gosmed.contracts.registry.organizations import MAX_ACTIVITY_LENGTH, License, WorkingHours

SERVICE: dict[str, Any] = {
    "clinic_record_id": "GP7-1",
    "patient_snils": "11223344595",
    "patient_oms_policy": "7700000000000001",
    "service_code": "B01.047.001",
    "service_name": "Прием врача-терапевта первичный",
    "category": "outpatient_visit",
    "rendered_on": "2026-11-20",
    "procedures": ["Сбор анамнеза"],
    "cost": {"kind": "free"},
    "coverage": {"kind": "oms"},
}
ORGANIZATION = "6525844a-f8ea-5b3e-9a24-69beea9ae5e8"


def problems(model: type[BaseModel], data: dict[str, Any]) -> tuple[ErrorDetail, ...]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate_json(json.dumps(data))
    return validation_details(caught.value.errors(include_url=False))


def too_long(field: str) -> ErrorDetail:
    return ErrorDetail(field=field, code="string_too_long", message="строка слишком длинная")


def report(**changes: Any) -> dict[str, Any]:
    return {"organization_id": ORGANIZATION, "services": [{**SERVICE, **changes}]}


def test_a_procedure_at_the_limit_is_accepted_one_longer_is_refused() -> None:
    longest = "ж" * MAX_PROCEDURE_LENGTH
    accepted = ReportRenderedServices.model_validate_json(json.dumps(report(procedures=[longest])))
    assert accepted.services[0].procedures == (longest,)

    found = problems(ReportRenderedServices, report(procedures=["ok", longest + "ж"]))
    assert too_long("services.0.procedures.1") in found


def test_a_version_beyond_a_64_bit_integer_is_refused() -> None:
    found = problems(ReportRenderedServices, report(version=2**63))
    too_big = ErrorDetail(
        field="services.0.version", code="less_than_equal", message="значение слишком велико"
    )
    assert too_big in found


def test_a_licensed_activity_has_a_bounded_length() -> None:
    data = {"number": "Л041-1", "issued_on": "2020-01-01", "activities": ["ж" * 600]}
    assert too_long("activities.0") in problems(License, data)
    longest = "ж" * MAX_ACTIVITY_LENGTH
    assert License.model_validate({**data, "activities": [longest]}).activities == (longest,)


def test_a_time_zone_name_has_a_bounded_length() -> None:
    found = problems(WorkingHours, {"timezone": "Europe/" + "x" * 100, "weekly": []})
    assert found == (too_long("timezone"),)


def max_length(model: type[BaseModel], field: str) -> int:
    (limit,) = [
        m.max_length
        for m in model.model_fields[field].metadata
        if isinstance(m, annotated_types.MaxLen)
    ]
    return limit


def longest(model: type[BaseModel], field: str) -> str:
    """The longest Russian text `field` accepts: two bytes a letter in UTF-8."""
    return "ж" * max_length(model, field)


def largest_report() -> ReportRenderedServices:
    """A full batch with every field at its largest."""
    late = time(23, 59, 59, 999_999)
    service = ReportedService(
        clinic_record_id=longest(ReportedService, "clinic_record_id"),
        version=MAX_VERSION,
        patient_snils="11223344595",
        patient_oms_policy="7700000000000001",
        department_id=UUID(int=2**128 - 1),
        department_name=longest(ReportedService, "department_name"),
        specialist_id=UUID(int=2**128 - 1),
        service_code=longest(ReportedService, "service_code"),
        service_name=longest(ReportedService, "service_name"),
        category=max(ServiceCategory, key=len),
        rendered_on=date(2026, 11, 20),
        start_time=late,
        end_time=late,
        diagnosis=Diagnosis(code="J06.91", text=longest(Diagnosis, "text")),
        procedures=("ж" * MAX_PROCEDURE_LENGTH,) * max_length(ReportedService, "procedures"),
        outcome=longest(ReportedService, "outcome"),
        cost=Cost(kind=CostKind.NEGOTIABLE, comment=longest(Cost, "comment")),
        coverage=Coverage(
            kind=CoverageKind.VOLUNTARY_INSURANCE, insurer_name=longest(Coverage, "insurer_name")
        ),
        status=max(RecordStatus, key=len),
    )
    return ReportRenderedServices(
        organization_id=UUID(ORGANIZATION),
        sync_queue=longest(ReportRenderedServices, "sync_queue"),
        services=(service,) * MAX_BATCH,
    )


def test_the_largest_valid_report_fits_its_queue_and_the_limit_is_computed_from_it() -> None:
    size = len(largest_report().model_dump_json().encode())
    queue = topology.command_queue(topology.Service.RECORDS, RENDERED_SERVICES)
    assert max_message_bytes(queue) == REPORT_MESSAGE_BYTES
    assert REPORT_MESSAGE_BYTES - MIB < size <= REPORT_MESSAGE_BYTES


def test_a_document_file_of_the_largest_size_fits_the_verification_queue() -> None:
    query = VerifyDocument(document_id=UUID(int=0), content=b"\xff" * MAX_FILE_BYTES)
    queue = VERIFY_DOCUMENT.queue
    assert len(query.model_dump_json().encode()) <= max_message_bytes(queue)


def test_other_queues_take_the_default() -> None:
    assert max_message_bytes("registry.upsert-organization") == DEFAULT_MESSAGE_BYTES == MIB

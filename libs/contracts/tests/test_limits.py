"""Free texts and numbers that reach a store have bounds, and crossing one is reported with
the field and a Russian message, as every other validation failure."""

import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from gosmed.contracts.errors import ErrorDetail, validation_details
from gosmed.contracts.records.intake import MAX_PROCEDURE_LENGTH, ReportRenderedServices
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

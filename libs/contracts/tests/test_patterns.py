"""Patterns of ASCII-only fields: Python's and pydantic's `\\d` also match other scripts'
digits (Arabic-Indic «٣», Devanagari «३», full-width «３»), so every such pattern says [0-9]."""

import uuid

import pytest
from pydantic import BaseModel, ValidationError

from gosmed.contracts.identity.auth import VerifyLogin
from gosmed.contracts.records.intake import Diagnosis
from gosmed.contracts.registry.values import Kpp, NomenclatureCode

LOOK_ALIKES = ("٣", "३", "３")


@pytest.mark.parametrize("code", ["F32", "F32.1", "j06.9", "B20", "Z21"])
def test_icd10_accepts_ascii_codes(code: str) -> None:
    assert Diagnosis(code=code, text="диагноз").code == code.upper()


@pytest.mark.parametrize("digit", LOOK_ALIKES)
@pytest.mark.parametrize("code", ["F{d}2", "F3{d}", "F32.{d}"])
def test_icd10_refuses_digits_of_other_scripts(code: str, digit: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Diagnosis(code=code.format(d=digit), text="диагноз")
    assert caught.value.errors()[0]["type"] == "icd10_format"


class Registry(BaseModel):
    kpp: Kpp | None = None
    service: NomenclatureCode | None = None


@pytest.mark.parametrize("digit", LOOK_ALIKES)
def test_registry_codes_and_login_codes_refuse_digits_of_other_scripts(digit: str) -> None:
    assert Registry(kpp="770701001", service="B01.047.001")
    for fields in ({"kpp": f"77070100{digit}"}, {"service": f"B01.047.00{digit}"}):
        with pytest.raises(ValidationError):
            Registry.model_validate(fields)
    login = {"attempt_id": str(uuid.uuid4()), "factor": "sms", "client_address": "203.0.113.1"}
    assert VerifyLogin.model_validate({**login, "code": "123456"})
    with pytest.raises(ValidationError) as caught:
        VerifyLogin.model_validate({**login, "code": f"12345{digit}"})
    assert [e["loc"] for e in caught.value.errors()] == [("code",)]

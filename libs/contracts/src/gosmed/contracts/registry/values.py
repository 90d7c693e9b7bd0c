"""Validated values of the registry's cards: KPP, contact phone, e-mail, web address, codes."""

import re
from typing import Annotated, Any

import phonenumbers
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

# Since 2019 the reason part (5th and 6th characters) may hold capital Latin letters.
_KPP = re.compile(r"^[0-9]{4}[0-9A-Z]{2}[0-9]{3}$")


def _validate_kpp(value: str) -> str:
    text = value.strip().upper()
    if len(text) != 9:
        raise PydanticCustomError(
            "kpp_length", f"КПП должен содержать 9 символов, а содержит {len(text)}"
        )
    if not _KPP.match(text):
        raise PydanticCustomError(
            "kpp_format",
            "КПП: 4 цифры кода налогового органа, 2 цифры или латинские буквы причины "
            "постановки на учёт, 3 цифры порядкового номера",
        )
    return text


def _validate_contact_phone(value: Any) -> str:
    try:
        number = phonenumbers.parse(str(value), "RU")
    except phonenumbers.NumberParseException:
        raise PydanticCustomError("phone_format", "номер телефона не распознан") from None
    if not phonenumbers.is_valid_number(number) or number.country_code != 7:
        raise PydanticCustomError("phone_invalid", "это не действующий российский номер")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


Kpp = Annotated[
    str,
    Field(description="КПП: 9 characters, e.g. 770101001.", examples=["770101001"]),
    AfterValidator(_validate_kpp),
]
ContactPhone = Annotated[
    str,
    Field(max_length=32, description="Russian phone (landline or mobile), stored in E.164."),
    AfterValidator(_validate_contact_phone),
]
Email = Annotated[
    str,
    Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="E-mail address."),
]
WebUrl = Annotated[
    str, Field(max_length=500, pattern=r"^https?://\S+$", description="http(s) address.")
]
NOMENCLATURE_CODE_PATTERN = r"^[AB][0-9]{2}\.[0-9]{2,3}\.[0-9]{3}(\.[0-9]{3})?$"
NomenclatureCode = Annotated[
    str,
    Field(
        pattern=NOMENCLATURE_CODE_PATTERN,
        description="Code in the national nomenclature of medical services, e.g. B01.047.001.",
        examples=["B01.047.001", "A09.05.023"],
    ),
]
RegionCode = Annotated[
    str, Field(pattern=r"^[0-9]{2}$", description="Two-digit code of a subject of the RF.")
]
Cursor = Annotated[
    str,
    Field(max_length=200, description="Opaque cursor of the next page, from the previous answer."),
]

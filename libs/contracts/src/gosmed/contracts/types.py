"""Validated identifiers and values used by several services.

Each invalid value fails with its own stable code and a Russian message that says what is wrong,
so a clinic reading a dead-letter reason or a citizen reading a form error knows what to fix.
"""

import re
from datetime import date, time
from typing import Annotated, Any

import phonenumbers
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    GetPydanticSchema,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError, core_schema
from stdnum import exceptions as stdnum_errors
from stdnum.ru import inn as stdnum_inn
from stdnum.ru import ogrn as stdnum_ogrn

from gosmed.contracts.base import Contract

_SEPARATORS = re.compile(r"[\s\-]")


def _digits(value: Any, *, code: str, name: str, lengths: tuple[int, ...]) -> str:
    if not isinstance(value, str | int):
        raise PydanticCustomError(f"{code}_type", f"{name} должен быть строкой из цифр")
    text = _SEPARATORS.sub("", str(value))
    if not (text.isascii() and text.isdigit()):  # str.isdigit() takes «١٢٣» and «²» too
        raise PydanticCustomError(f"{code}_format", f"{name} должен состоять только из цифр")
    if len(text) not in lengths:
        expected = " или ".join(str(n) for n in lengths)
        raise PydanticCustomError(
            f"{code}_length",
            f"{name} должен содержать {expected} цифр, а содержит {len(text)}",
        )
    return text


def snils_check_digits(first_nine: str) -> str:
    """The two control digits of a SNILS (Pension Fund rules; python-stdnum has no SNILS)."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(9, 0, -1), strict=True))
    while total > 101:
        total %= 101
    return "00" if total in (100, 101) else f"{total:02d}"


def _validate_snils(value: Any) -> str:
    text = _digits(value, code="snils", name="СНИЛС", lengths=(11,))
    # Numbers up to 001-001-998 were issued before check digits existed.
    if int(text[:9]) > 1001998 and text[9:] != snils_check_digits(text[:9]):
        raise PydanticCustomError("snils_checksum", "контрольное число СНИЛС не совпадает")
    return text


def _validate_inn(value: Any) -> str:
    text = _digits(value, code="inn", name="ИНН", lengths=(10, 12))
    try:
        stdnum_inn.validate(text)
    except stdnum_errors.InvalidChecksum:
        raise PydanticCustomError("inn_checksum", "контрольное число ИНН не совпадает") from None
    return text


def _validate_ogrn(value: Any) -> str:
    text = _digits(value, code="ogrn", name="ОГРН", lengths=(13, 15))
    try:
        stdnum_ogrn.validate(text)
    except stdnum_errors.InvalidComponent:
        raise PydanticCustomError(
            "ogrn_kind",
            "ОГРН (13 цифр) не может начинаться с 0, ОГРНИП (15 цифр) начинается с 3 или 4",
        ) from None
    except stdnum_errors.InvalidChecksum:
        raise PydanticCustomError("ogrn_checksum", "контрольное число ОГРН не совпадает") from None
    return text


def _validate_oms_policy(value: Any) -> str:
    return _digits(value, code="oms_policy", name="Номер полиса ОМС", lengths=(16,))


def _validate_mobile_phone(value: Any) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("phone_type", "номер телефона должен быть строкой")
    try:
        number = phonenumbers.parse(value, "RU")
    except phonenumbers.NumberParseException:
        raise PydanticCustomError("phone_format", "номер телефона не распознан") from None
    if not phonenumbers.is_valid_number(number) or number.country_code != 7:
        raise PydanticCustomError("phone_invalid", "это не действующий российский номер")
    if phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE:
        raise PydanticCustomError("phone_not_mobile", "нужен номер мобильного телефона")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _string_schema(pattern: str, description: str) -> GetPydanticSchema:
    """Keep the JSON schema a plain, documented string while the validator does the real work."""

    def json_schema(_: Any, handler: Any) -> dict[str, Any]:
        return {"type": "string", "pattern": pattern, "description": description}

    return GetPydanticSchema(
        lambda _, handler: core_schema.no_info_plain_validator_function(
            lambda v: v, serialization=core_schema.to_string_ser_schema()
        ),
        json_schema,
    )


Snils = Annotated[
    str,
    _string_schema(r"^[0-9]{11}$", "СНИЛС, 11 digits, checksum verified."),
    AfterValidator(_validate_snils),
]
Inn = Annotated[
    str,
    _string_schema(r"^([0-9]{10}|[0-9]{12})$", "ИНН: 10 digits (organization) or 12 (person)."),
    AfterValidator(_validate_inn),
]
Ogrn = Annotated[
    str,
    _string_schema(r"^([0-9]{13}|[0-9]{15})$", "ОГРН (13 digits) or ОГРНИП (15 digits)."),
    AfterValidator(_validate_ogrn),
]
OmsPolicy = Annotated[
    str,
    _string_schema(r"^[0-9]{16}$", "Unified OMS policy number, 16 digits."),
    AfterValidator(_validate_oms_policy),
]
MobilePhone = Annotated[
    str,
    _string_schema(r"^\+79[0-9]{9}$", "Russian mobile phone in E.164."),
    AfterValidator(_validate_mobile_phone),
]
LocalTime = Annotated[
    time,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$",
            "description": "Time of day on the local clock of the place, e.g. 08:00:00 "
            "(not `format: time`, which demands an offset).",
        }
    ),
]
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date_text(value: Any) -> Any:
    """A calendar date is written ГГГГ-ММ-ДД: not a number (pydantic would read a Unix time)."""
    if isinstance(value, date):
        return value
    if not (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        raise PydanticCustomError("date_format", "дата должна иметь вид ГГГГ-ММ-ДД")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]
"""A date given as text (query parameters, request bodies): ГГГГ-ММ-ДД only."""

Kopecks = Annotated[
    int,
    Field(strict=True, ge=0, le=10**13, description="An amount in RUB kopecks (100 = 1 RUB)."),
]


class DateRange(Contract):
    """An inclusive range of calendar dates."""

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> "DateRange":
        if self.end < self.start:
            raise PydanticCustomError(
                "date_range_order", "дата окончания периода раньше даты начала"
            )
        return self

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

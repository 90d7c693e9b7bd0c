from datetime import date

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from gosmed.contracts.types import (
    DateRange,
    Inn,
    IsoDate,
    Kopecks,
    MobilePhone,
    Ogrn,
    OmsPolicy,
    Snils,
    snils_check_digits,
)


class Person(BaseModel):
    snils: Snils | None = None
    inn: Inn | None = None
    ogrn: Ogrn | None = None
    oms: OmsPolicy | None = None
    phone: MobilePhone | None = None
    amount: Kopecks | None = None


def error_of(**fields: object) -> tuple[str, str]:
    with pytest.raises(ValidationError) as caught:
        Person(**fields)
    (error,) = caught.value.errors()
    return error["type"], error["msg"]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("112-233-445 95", "11223344595"),
        ("11223344595", "11223344595"),
        ("001-001-998 00", "00100199800"),
    ],
)
def test_snils_accepts_valid_numbers_and_normalizes(raw: str, clean: str) -> None:
    assert Person(snils=raw).snils == clean


def test_snils_check_digits_follow_the_pension_fund_rule() -> None:
    assert snils_check_digits("112233445") == "95"
    # weighted sums: 9*9 + 2*8 + d9*1 = 97 + d9
    assert snils_check_digits("920000002") == "99"
    assert snils_check_digits("920000003") == "00"  # 100
    assert snils_check_digits("920000004") == "00"  # 101
    assert snils_check_digits("920000005") == "01"  # 102 mod 101


@pytest.mark.parametrize(
    ("raw", "code", "fragment"),
    [
        ("112-233-445 96", "snils_checksum", "контрольное число СНИЛС"),
        ("1122334459", "snils_length", "11 цифр, а содержит 10"),
        ("1122334459x", "snils_format", "только из цифр"),
    ],
)
def test_snils_errors_say_what_is_wrong(raw: str, code: str, fragment: str) -> None:
    kind, message = error_of(snils=raw)
    assert kind == code
    assert fragment in message


@pytest.mark.parametrize("raw", ["7707083893", "500100732259"])
def test_inn_accepts_valid_10_and_12_digit_numbers(raw: str) -> None:
    assert Person(inn=raw).inn == raw


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        ("7707083894", "inn_checksum", "контрольное число ИНН не совпадает"),
        ("500100732258", "inn_checksum", "контрольное число ИНН не совпадает"),
        ("77070838", "inn_length", "ИНН должен содержать 10 или 12 цифр, а содержит 8"),
    ],
)
def test_inn_errors_are_precise(raw: str, code: str, message: str) -> None:
    assert error_of(inn=raw) == (code, message)


@pytest.mark.parametrize("raw", ["1027700132195", "385768585948949"])
def test_ogrn_and_ogrnip_accept_valid_numbers(raw: str) -> None:
    assert Person(ogrn=raw).ogrn == raw


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("1027700132196", "ogrn_checksum"),
        ("0027700132195", "ogrn_kind"),
        ("585768585948949", "ogrn_kind"),
        ("12345", "ogrn_length"),
    ],
)
def test_ogrn_errors_are_precise(raw: str, code: str) -> None:
    assert error_of(ogrn=raw)[0] == code


def test_oms_policy_needs_16_digits() -> None:
    assert Person(oms="7700 0000 0000 0001").oms == "7700000000000001"
    assert error_of(oms="770000000000001")[0] == "oms_policy_length"


@pytest.mark.parametrize("raw", ["+7 912 345-67-89", "8 (912) 345-67-89", "89123456789"])
def test_mobile_phone_is_normalized_to_e164(raw: str) -> None:
    assert Person(phone=raw).phone == "+79123456789"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("+7 495 123-45-67", "phone_not_mobile"),
        ("+1 202 555 0143", "phone_invalid"),
        ("call me", "phone_format"),
    ],
)
def test_mobile_phone_rejects_landlines_foreign_and_garbage(raw: str, code: str) -> None:
    assert error_of(phone=raw)[0] == code


def test_kopecks_are_exact_non_negative_integers() -> None:
    assert Person(amount=150_050).amount == 150_050
    assert error_of(amount=-1)[0] == "greater_than_equal"
    assert error_of(amount=10.5)[0] == "int_type"
    assert error_of(amount="100")[0] == "int_type"


def test_date_range_is_inclusive_and_ordered() -> None:
    period = DateRange(start=date(2026, 1, 1), end=date(2026, 1, 31))
    assert date(2026, 1, 31) in period
    assert date(2026, 2, 1) not in period
    with pytest.raises(ValidationError, match="дата окончания периода раньше даты начала"):
        DateRange(start=date(2026, 2, 1), end=date(2026, 1, 1))


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize(
    ("field", "ascii_value", "code"),
    [
        ("snils", "11223344595", "snils_format"),
        ("inn", "7707083893", "inn_format"),
        ("ogrn", "1027700132195", "ogrn_format"),
        ("oms", "7700000000000001", "oms_policy_format"),
    ],
)
def test_identifiers_take_ascii_digits_only(field: str, ascii_value: str, code: str) -> None:
    """`str.isdigit()` is true of «١٢٣» (Arabic-Indic) and «²»: such look-alikes are refused."""
    assert getattr(Person(**{field: ascii_value}), field) == ascii_value
    assert error_of(**{field: ascii_value.translate(ARABIC_INDIC)})[0] == code
    assert error_of(**{field: ascii_value[:-1] + "²"})[0] == code


def test_a_phone_in_other_digits_is_stored_in_ascii() -> None:
    assert Person(phone="+7 ٩١٢ ٣٤٥-٦٧-٨٩").phone == "+79123456789"


def test_iso_date_takes_text_in_calendar_form_only() -> None:
    """Pydantic alone reads a number as a Unix time («from=-2e-244» was a date)."""
    dates = TypeAdapter(IsoDate)
    assert dates.validate_python("2026-12-01") == date(2026, 12, 1)
    assert dates.validate_python(date(2026, 12, 1)) == date(2026, 12, 1)
    for wrong in (
        "-2.0944004344172438e-244",
        "0",
        0,
        "2026-12-1",
        "2026-12-01T00:00",
        "٢٠٢٦-12-01",
    ):
        with pytest.raises(ValidationError) as caught:
            dates.validate_python(wrong)
        assert caught.value.errors()[0]["type"] == "date_format"

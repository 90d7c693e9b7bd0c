"""The rules of support requests without I/O: the form's validation, numbers, the tie rule,
the rate limit's counter, the answer's notice and the offices of a city."""

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from gosmed.contracts import demo
from gosmed.contracts.identity.notifications import NotificationChannel
from gosmed.contracts.identity.support import SupportRequestForm, SupportTopic
from gosmed.identity.support_rules import (
    SupportRequest,
    limit_key,
    offices_in,
    support_number,
    tied_account,
)

VALID: dict[str, Any] = {
    "full_name": "Иванова Анна Сергеевна",
    "snils": demo.PATIENT.snils,
    "oms_policy": demo.PATIENT.oms_policy,
    "topic": "no_services",
    "text": "Нет сведений о приёме в марте.",
}


def error_codes(**changes: Any) -> set[str]:
    fields = {k: v for k, v in {**VALID, **changes}.items() if v is not ...}
    with pytest.raises(ValidationError) as caught:
        SupportRequestForm.model_validate(fields)
    return {str(e["type"]) for e in caught.value.errors()}


def test_a_form_with_a_snils_or_an_inn_and_a_policy_is_valid() -> None:
    assert SupportRequestForm.model_validate(VALID).snils == demo.PATIENT.snils
    with_inn = SupportRequestForm.model_validate({**VALID, "snils": None, "inn": "770123456703"})
    assert with_inn.inn == "770123456703"


def test_exactly_one_of_snils_and_inn() -> None:
    assert error_codes(inn="770123456703") == {"snils_or_inn"}
    assert error_codes(snils=...) == {"snils_or_inn"}


def test_identifiers_are_checked_by_their_checksums_and_lengths() -> None:
    assert error_codes(snils="11223344596") == {"snils_checksum"}
    assert error_codes(snils=..., inn="770123456704") == {"inn_checksum"}
    assert error_codes(oms_policy="770000000000000") == {"oms_policy_length"}


def test_topic_from_the_list_and_text_of_1_to_4000_characters() -> None:
    assert error_codes(topic="complaint") == {"enum"}
    assert error_codes(text="") == {"string_too_short"}
    assert error_codes(text="а" * 4001) == {"string_too_long"}
    assert SupportRequestForm.model_validate({**VALID, "text": "а" * 4000}).text


def test_numbers_carry_the_year_and_six_digits() -> None:
    assert support_number(2026, 123) == "SR-2026-000123"
    assert support_number(2027, 1) == "SR-2027-000001"


def test_the_caller_is_tied_and_a_stranger_only_to_a_single_match() -> None:
    caller, one, other = uuid4(), uuid4(), uuid4()
    assert tied_account(caller, []) == caller
    assert tied_account(None, [one]) == one
    assert tied_account(None, []) is None
    assert tied_account(None, [one, other]) is None


def test_the_limit_counts_per_account_or_per_address() -> None:
    account = uuid4()
    assert limit_key(account, "10.0.0.1") == limit_key(account, "10.0.0.2")
    assert limit_key(None, "10.0.0.1") != limit_key(None, "10.0.0.2")


def request(account_id: Any) -> SupportRequest:
    return SupportRequest(
        id=uuid4(),
        number="SR-2026-000007",
        topic=SupportTopic.WRONG_DATA,
        full_name="Иванова Анна Сергеевна",
        snils=demo.PATIENT.snils,
        inn=None,
        oms_policy=demo.PATIENT.oms_policy,
        text="Ошибка в дате приёма.",
        account_id=account_id,
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
    )


def test_the_answer_goes_to_the_tied_account_by_inbox_and_e_mail_only() -> None:
    account = uuid4()
    tied = request(account)
    notice = tied.answer_notice("Исправили.", datetime(2026, 12, 2, tzinfo=UTC))
    assert notice is not None
    assert notice.recipient_account_id == account
    assert notice.message_id == tied.id
    assert "SR-2026-000007" in notice.title
    assert "Исправили." in notice.body
    assert notice.channels == {NotificationChannel.INBOX, NotificationChannel.EMAIL}
    assert request(None).answer_notice("Исправили.", datetime.now(UTC)) is None
    assert tied.view().tied_to_account
    assert not request(None).view().tied_to_account


def test_offices_of_a_city_or_all() -> None:
    moscow = offices_in(demo.PATIENT.city)
    assert moscow
    assert all(o.city == "Москва" for o in moscow)
    assert offices_in(" москва ") == moscow
    assert len({o.city for o in offices_in(None)}) >= 3
    assert offices_in("Урюпинск") == ()

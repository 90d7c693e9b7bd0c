"""Personal data shown in part, and free text (log lines) masked by the same rules."""

import pytest

from gosmed.runtime.masking import mask_email, mask_name, mask_phone, mask_snils, mask_text


def test_masks_keep_enough_to_recognise() -> None:
    assert mask_phone("+79161000001") == "+7***0001"
    assert mask_email("anna.ivanova@example.ru") == "a***@example.ru"
    assert mask_snils("11223344595") == "***-***-445 95"
    assert mask_snils("112-233-445 95") == "***-***-445 95"
    assert mask_name("Иванова Анна Сергеевна") == "И****** А. С."


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("login +7 912 345-67-89 ok", "345-67"),
        ("phone 89123456789", "9123456"),
        ("snils 112-233-445 95", "112-233"),
        ("snils 11223344595", "11223344595"),
        ("policy 7700000000000001", "7700000000000001"),
        ("code 483920 sent", "483920"),
        ("mail ivan.petrov@example.ru", "ivan.petrov"),
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("token eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl", "eyJzdWIiOi"),
    ],
)
def test_text_loses_personal_data_and_secrets(text: str, secret: str) -> None:
    assert secret not in mask_text(text)


def test_text_shows_what_the_api_shows() -> None:
    masked = mask_text("code for +7 (916) 100-00-01 and anna.ivanova@example.ru")
    assert masked == "code for +7***0001 and a***@example.ru"


def test_text_keeps_ordinary_words_and_ids() -> None:
    assert mask_text("records 42 stored in 12 ms") == "records 42 stored in 12 ms"
    uuid = "4954c877-96ce-42d4-928b-125465123456"
    assert mask_text(f"document {uuid} ready") == f"document {uuid} ready"

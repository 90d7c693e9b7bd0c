"""Personal data shown or logged only in part: enough for the person to recognise, not to reuse.
Free text (log lines) is masked with the same rules plus codes, tokens and long numbers."""

import re
from typing import Final


def mask_phone(phone: str) -> str:
    """«+79161000001» -> «+7***0001»."""
    digits = re.sub(r"\D", "", phone)
    return f"+7***{digits[-4:]}"


def mask_email(address: str) -> str:
    """«anna.ivanova@example.ru» -> «a***@example.ru»."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_snils(snils: str) -> str:
    """«112-233-445 95» or «11223344595» -> «***-***-445 95»."""
    digits = re.sub(r"\D", "", snils)
    return f"***-***-{digits[6:9]} {digits[9:]}"


def mask_name(full_name: str) -> str:
    """«Иванова Анна Сергеевна» -> «И****** А. С.»."""
    surname, *given = full_name.split()
    return " ".join([surname[0] + "*" * (len(surname) - 1), *(f"{n[0]}." for n in given)])


_IN_TEXT: Final = (
    # JWTs and bearer tokens
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+"), lambda _: "<jwt>"),
    (re.compile(r"(?i)(bearer\s+)\S+"), lambda m: f"{m[1]}<token>"),
    (re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b"), lambda m: mask_email(m[0])),
    # phones: +7 or 8 followed by 10 digits with optional separators
    (
        re.compile(r"(?<!\d)(?:\+7|8)[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?!\d)"),
        lambda m: mask_phone(m[0]),
    ),
    (re.compile(r"(?<!\d)\d{3}-\d{3}-\d{3}[ -]\d{2}(?!\d)"), lambda m: mask_snils(m[0])),
    # long digit runs: OMS policies (16), SNILS (11), INN of a person (12), one-time codes (6)
    # (not inside ids such as UUIDs, whose groups can be all digits)
    (re.compile(r"(?<![\w-])(?:\d{16}|\d{12}|\d{11}|\d{6})(?![\w-])"), lambda _: "<number>"),
)


def mask_text(text: str) -> str:
    """Replace personal identifiers, secrets and codes in free text."""
    for pattern, replace in _IN_TEXT:
        text = pattern.sub(replace, text)
    return text

"""Registry rules free of I/O: search terms of Russian names, opening hours."""

import re
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from gosmed.contracts.registry.organizations import WorkingHours

_WORD = re.compile(r"[0-9a-zа-я]+")
# Inflectional endings of Russian nouns and adjectives, longest first; stripping one from a
# query word leaves a stem that prefixes every form of the word a catalogue name uses.
_ENDINGS = tuple(
    sorted(
        [
            *("иями", "ями", "ами", "ого", "его", "ому", "ему", "ыми", "ими", "ых", "их"),
            *("ая", "яя", "ое", "ее", "ые", "ие", "ой", "ей", "ий", "ый", "ом", "ем", "ам"),
            *("ям", "ах", "ях", "ов", "ев", "ью", "а", "я", "о", "е", "у", "ю", "ы", "и"),
            *("ь", "й"),
        ],
        key=len,
        reverse=True,
    )
)
MIN_STEM = 4
MIN_TERM = 2
# A code query: a nomenclature code or its beginning (Cyrillic А/В typed for Latin A/B).
_CODE_QUERY = re.compile(r"^[AB][0-9]{0,2}(\.[0-9.]*)?$|^[AB]$")
_CYRILLIC_LOOKALIKES = str.maketrans({"А": "A", "В": "B"})


def words(text: str) -> list[str]:
    """Lower-case words of `text`, «ё» read as «е», hyphenated parts apart."""
    return _WORD.findall(text.lower().replace("ё", "е"))


def index_terms(*texts: str) -> list[str]:
    """Every prefix (from two letters) of every word: what a query stem is matched against."""
    terms = {
        word[:end]
        for text in texts
        for word in words(text)
        for end in range(MIN_TERM, len(word) + 1)
    }
    return sorted(terms)


def stem(word: str) -> str:
    """Strip one inflectional ending, keeping at least `MIN_STEM` letters."""
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM:
            return word[: -len(ending)]
    return word


def query_terms(query: str) -> list[str]:
    """The stems every matching name must contain as word prefixes (any order)."""
    return sorted({stem(word) for word in words(query) if len(word) >= MIN_TERM})


def code_prefix(query: str) -> str | None:
    """The query as a nomenclature code prefix («b01.047», «В01»), or None for words."""
    text = query.strip().upper().translate(_CYRILLIC_LOOKALIKES)
    return text if _CODE_QUERY.match(text) else None


def city_key(city: str) -> str:
    """A city compared by its words: «г. Москва», «Москва» and «город москва» are one."""
    return " ".join(w for w in words(city) if w not in {"г", "город", "пгт", "пос", "поселок", "с"})


@cache
def _russian_holidays() -> holidays.HolidayBase:
    return holidays.country_holidays("RU")


def is_open(hours: WorkingHours, at: datetime) -> bool:
    """Open at the instant `at`: an exception day decides first, then public holidays of
    Russia (closed unless the organization works on them), then the weekday's hours."""
    local = at.astimezone(ZoneInfo(hours.timezone))
    day, now = local.date(), local.time().replace(tzinfo=None)
    for exception in hours.exceptions:
        if exception.day == day:
            return (
                exception.hours is not None
                and exception.hours.opens <= now < exception.hours.closes
            )
    if not hours.works_on_public_holidays and day in _russian_holidays():
        return False
    for weekday in hours.weekly:
        if weekday.weekday == day.isoweekday():
            return weekday.opens <= now < weekday.closes
    return False

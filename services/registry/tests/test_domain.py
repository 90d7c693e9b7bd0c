"""Search terms and opening hours: the registry's rules without I/O."""

from datetime import UTC, date, datetime, time

import pytest

from gosmed.contracts.registry.organizations import (
    ExceptionDay,
    OpeningHours,
    WeekdayHours,
    WorkingHours,
)
from gosmed.registry.domain import (
    city_key,
    code_prefix,
    index_terms,
    is_open,
    query_terms,
    stem,
)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("терапевт", "терапевт"),
        ("терапевта", "терапевт"),
        ("терапевтом", "терапевт"),
        ("медицинские", "медицинск"),
        ("услуги", "услуг"),
        ("крови", "кров"),
        ("прием", "прием"),
    ],
)
def test_stem_strips_one_ending_and_keeps_four_letters(word: str, expected: str) -> None:
    assert stem(word) == expected


@pytest.mark.parametrize(
    "query",
    ["терапевт", "Терапевта", "врачом-терапевтом", "ТЕРАПЕВТА ВРАЧА", "прием терапевта"],
)
def test_every_word_form_of_a_query_matches_the_catalogue_name(query: str) -> None:
    terms = set(index_terms("Прием (осмотр, консультация) врача-терапевта первичный"))
    assert set(query_terms(query)) <= terms


def test_a_word_the_name_lacks_does_not_match() -> None:
    terms = set(index_terms("Прием (осмотр, консультация) врача-терапевта первичный"))
    assert not set(query_terms("хирурга")) <= terms


def test_yo_is_read_as_ye_and_one_letter_words_are_ignored() -> None:
    assert query_terms("приём в стационаре") == sorted({"прием", "стационар"})


@pytest.mark.parametrize(
    ("query", "prefix"),
    [("B01.047", "B01.047"), ("b01", "B01"), ("в01.047.001", "B01.047.001"), ("A", "A")],
)
def test_code_queries_are_recognised(query: str, prefix: str) -> None:
    assert code_prefix(query) == prefix


@pytest.mark.parametrize("query", ["терапевт", "анализ B01", "01.047"])
def test_word_queries_are_not_codes(query: str) -> None:
    assert code_prefix(query) is None


def test_city_key_ignores_the_settlement_kind() -> None:
    assert city_key("г. Москва") == city_key("москва") == city_key("Город Москва") == "москва"


POLYCLINIC = WorkingHours(
    timezone="Asia/Yekaterinburg",
    weekly=(
        WeekdayHours(weekday=1, opens=time(8), closes=time(20)),
        WeekdayHours(weekday=6, opens=time(9), closes=time(15)),
    ),
    exceptions=(
        ExceptionDay(day=date(2026, 1, 5), hours=OpeningHours(opens=time(9), closes=time(14))),
        ExceptionDay(day=date(2026, 3, 2), hours=None, note="Санитарный день"),
    ),
)


@pytest.mark.parametrize(
    ("instant", "open_"),
    [
        # Monday 2026-03-16, 10:00 in Yekaterinburg is 05:00 UTC
        (datetime(2026, 3, 16, 5, 0, tzinfo=UTC), True),
        # the same Monday at 20:00 local time: closed
        (datetime(2026, 3, 16, 15, 0, tzinfo=UTC), False),
        # 07:30 local time: 02:30 UTC, still closed
        (datetime(2026, 3, 16, 2, 30, tzinfo=UTC), False),
        # a Tuesday: not a working weekday
        (datetime(2026, 3, 17, 5, 0, tzinfo=UTC), False),
        # Monday 2026-02-23 is Defender of the Fatherland Day: closed
        (datetime(2026, 2, 23, 5, 0, tzinfo=UTC), False),
        # Monday 2026-01-05 is a public holiday, but an exception day opens 09:00-14:00
        (datetime(2026, 1, 5, 5, 0, tzinfo=UTC), True),
        # Monday 2026-03-02 is closed by an exception day
        (datetime(2026, 3, 2, 5, 0, tzinfo=UTC), False),
    ],
)
def test_is_open_applies_exceptions_holidays_weekdays_in_local_time(
    instant: datetime, open_: bool
) -> None:
    assert is_open(POLYCLINIC, instant) is open_


def test_organizations_working_on_holidays_are_open_on_them() -> None:
    hospital = POLYCLINIC.model_copy(update={"works_on_public_holidays": True})
    assert is_open(hospital, datetime(2026, 2, 23, 5, 0, tzinfo=UTC))

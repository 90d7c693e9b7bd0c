"""Obscene language in its derived forms: roots and prefixes derived from glin-profanity's
Russian dictionary with the Snowball stemmer; ordinary words that share letters pass."""

import pytest

from gosmed.feedback.obscenity import Lexicon, build_lexicon, lexicon, obscene

MUST_CATCH = [
    # forms the library's whole-word matching lets through
    "пиздец",
    "охуенный",
    "нахуй",
    "заебал",
    "наебали",
    "проебал",
    "распиздяй",
    "отпиздить",
    "ебаный",
    "хуйня",
    "хуево",
    "похуй",
    "хуесос",
    "мудак",
    "выебывается",
    "дрочит",
    # inflections of dictionary words
    "блядью",
    "говна",
    "жопой",
    "пизда",
    # spellings that hide a word: ё, Latin look-alikes, repeated letters, capitals
    "охуённый",
    "xуй",  # Latin x
    "пиzдец",
    "пиииииздец",
    "ПИЗДЕЦ",
]

MUST_PASS = [
    "команда",
    "командировка",
    "рекомендую",
    "застрахуй",
    "страхуется",
    "страхами",
    "похуже",
    "скипидар",
    "мандарин",
    "мандраж",
    "оскорблять",
    "употреблять",
    "корабля",
    "колеблется",
    "хлеба",
    "себя",
    "небольшой",
    "ребята",
    "гребля",
    "хулиган",
    "худой",
    "художник",
    "хуже",
    "мудрый",
    "премудрость",
    "изумрудный",
    "сравнить",
    "просрочен",
    "рассадить",
    "сосиски",
    "хохолок",
    "можно",
    # medical words
    "психиатр",
    "гинеколог",
    "уролог",
    "проктолог",
    "невролог",
    "дерматолог",
    "мазок",
    "анализ",
    "ЭКГ",
    "бронхоскопия",
    "колоноскопия",
    "половой",
    "мочеиспускание",
    "геморрой",
    "эндоскопия",
]


@pytest.mark.parametrize("word", MUST_CATCH)
def test_derived_and_disguised_forms_are_caught(word: str) -> None:
    assert obscene(f"Врач {word}, больше не приду."), word


@pytest.mark.parametrize("word", MUST_PASS)
def test_ordinary_and_medical_words_pass(word: str) -> None:
    assert not obscene(f"Врач сказал: {word}."), word


def test_the_roots_and_prefixes_come_from_the_dictionary() -> None:
    derived = lexicon()
    assert {"пизд", "бляд", "хуй", "хуе", "еба"} <= derived.roots
    assert "ху" not in derived.roots  # too short: «худой»
    assert {"на", "о", "за", "про", "рас", "от"} <= derived.prefixes
    assert "траха" not in derived.roots  # NOT_OBSCENE entries are no roots


def test_a_lexicon_is_derived_from_any_dictionary() -> None:
    small: Lexicon = build_lexicon(["жопа", "спиздить", "во пизду", "хуй", "хуёвый"])
    assert small.roots == {"жоп", "пизд", "хуй", "хуе"}
    assert small.prefixes == {"с", "во"}
    assert small.obscene_word("вопиздень")
    assert not small.obscene_word("напиздел")  # «на» is no prefix of this dictionary

"""Obscene language (мат) in Russian texts, derived forms included.

glin-profanity's Russian dictionary matches whole dictionary words only: «пиздец», «охуенный»,
«нахуй», «заебал» pass it. This module derives from that same dictionary, with the Snowball
Russian stemmer, what its entries have in common, and matches every form built on it:

- roots: the stems of the dictionary's words (e.g. «блядь» → «бляд», «пизду» → «пизд»), less
  those another root already covers («спиздить» is «с» + «пизд»); a root shorter than three
  letters is lengthened by the letters that follow it in the dictionary («хуй», «хуево»,
  «хуиня», «хую», «хуя» → «хуй», «хуе», «хуи», «хую», «хуя»), so «худой» stays clean;
- prefixes: what stands before a root in the dictionary («с»-пизд, «на»-еба, «о»-хуеть,
  «на хуй», «ни хуя», and the transliterated entries: «от»-пиздить, «рас»-пиздатый, «про»-ебать).

A word (lower case, «ё» as «е», Latin look-alike letters of a Cyrillic word as Cyrillic, a letter
repeated three times or more as one) is obscene when, after at most two such prefixes, it
begins with a root: «пиздец», «охуенный», «нахуй», «заебал», «мудак» are caught; «команда»,
«скипидар», «оскорблять», «застрахуй», «хлеба», «колеблется» are not (a root counts only at the
start of the word or after a prefix of the dictionary). Ordinary words that begin with a root
are listed in `ORDINARY` (each with why); entries of the dictionary that are not мат in a review
of a medical service (`NOT_OBSCENE`) are no roots at all.
"""

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from itertools import pairwise

import snowballstemmer
from glin_profanity import Filter

# Entries of the library's Russian dictionary that are not obscene (мат) but plain words a
# review of a medical service may need; they never stop a review on their own.
NOT_OBSCENE = frozenset(
    {
        "бардак",
        "бугор",
        "голый",
        "обнаженный",
        "половое сношение",
        "секс",
        "мент",
        "хрен",
        "на фиг",
        "фига",
        "офигеть",
        "какая разница",
        "хапать",
        "другой дразнится",
        "сиски",  # грубое, но не мат; и корень «сосисок»
        "трахать",  # грубое, но не мат; и корень «страхами»
    }
)
# Ordinary words that begin with a root derived from the dictionary (normalized beginnings).
ORDINARY = (
    "мудр",  # мудрый, мудрость (root «муд» of «мудила»)
    "мандарин",  # root «манд»
    "мандат",
    "мандраж",  # волнение
    "мандолин",
    "хохолок",  # root «хохол» (an ethnic slur the dictionary lists)
)
MIN_ROOT = 3
MAX_PREFIX = 3
MAX_PREFIXES = 2
# Latin letters that look like Cyrillic ones, as spelled inside a Cyrillic word to pass a filter.
LOOK_ALIKES = str.maketrans("aceopxykmthbz", "асеорхукмтнвз")
# The dictionary's transliterated entries (e.g. «otpizdit»), read as Cyrillic: digraphs first.
TRANSLITERATION = (
    ("sch", "щ"),
    ("kh", "х"),
    ("zh", "ж"),
    ("ch", "ч"),
    ("sh", "ш"),
    ("tc", "ц"),
    ("ts", "ц"),
    ("yo", "е"),
    ("yu", "ю"),
    ("ya", "я"),
    ("ja", "я"),
    ("ye", "е"),
    *zip("abvgdezijklmnoprstufhcy", "абвгдезийклмнопрстуфхцы", strict=True),
)
_WORD = re.compile(r"[a-zа-яё]+")
_CYRILLIC = re.compile(r"[а-я]")
_REPEATS = re.compile(r"(.)\1{2,}")


def normalize_word(word: str) -> str:
    word = word.lower().replace("ё", "е")
    if _CYRILLIC.search(word):
        word = word.translate(LOOK_ALIKES)
    return _REPEATS.sub(r"\1", word)


def words_of(text: str) -> list[str]:
    return [normalize_word(w) for w in _WORD.findall(text.lower().replace("ё", "е"))]


def _transliterated(entry: str) -> str:
    text = entry.lower().replace("'", "").replace("`", "")
    for latin, cyrillic in TRANSLITERATION:
        text = text.replace(latin, cyrillic)
    return text


@dataclass(frozen=True)
class Lexicon:
    roots: frozenset[str]
    prefixes: frozenset[str]

    def obscene_word(self, word: str) -> bool:
        if word.startswith(ORDINARY):
            return False
        return self._from(word, MAX_PREFIXES)

    def _from(self, rest: str, prefixes_left: int) -> bool:
        if any(rest.startswith(root) for root in self.roots) and not rest.startswith(ORDINARY):
            return True
        if prefixes_left == 0:
            return False
        return any(
            self._from(rest[len(p) :], prefixes_left - 1)
            for p in self.prefixes
            if rest.startswith(p) and len(rest) > len(p)
        )


def build_lexicon(entries: list[str]) -> Lexicon:
    """Roots and prefixes of obscene words, from a dictionary of words and phrases."""
    stem = snowballstemmer.stemmer("russian").stemWord
    kept = [e for e in entries if normalize_word(e) not in NOT_OBSCENE]
    cyrillic = [normalize_word(e) for e in kept if re.fullmatch(r"[а-яёa-z \-]+", e.lower())]
    cyrillic = [e for e in cyrillic if _CYRILLIC.search(e)]
    single = [e for e in cyrillic if " " not in e and "-" not in e]
    phrases = [re.split(r"[ -]", e) for e in cyrillic if e not in single]
    stems = {stem(w) for w in single}
    # A word of a phrase is obscene when its stem is one of the words', or inside one of them.
    for phrase in phrases:
        for word in phrase:
            s = stem(word)
            if len(s) >= MIN_ROOT and any(s in t for t in stems):
                stems.add(s)
    every_word = single + [w for phrase in phrases for w in phrase]
    candidates: set[str] = set()
    for s in stems:
        if len(s) >= MIN_ROOT:
            candidates.add(s)
        else:  # lengthened by the letters that follow it in the dictionary
            candidates |= {w[:MIN_ROOT] for w in every_word if w.startswith(s) and len(w) > len(s)}
    roots = {r for r in candidates if not any(t != r and t in r for t in candidates)}
    prefixes: set[str] = set()
    words = [_transliterated(e) for e in kept if not _CYRILLIC.search(e.lower())]
    for word in [w for e in words for w in re.split(r"[ -]", e)] + single:
        for root in roots:
            at = word.find(root)
            if 0 < at <= MAX_PREFIX:
                prefixes.add(word[:at])
    for phrase in [*phrases, *(re.split(r"[ -]", e) for e in words)]:
        for before, word in pairwise(phrase):
            if len(before) <= MAX_PREFIX and any(word.startswith(r) for r in roots):
                prefixes.add(before)
    return Lexicon(frozenset(roots), frozenset(p for p in prefixes if _CYRILLIC.fullmatch(p[0])))


@cache
def _dictionary() -> list[str]:
    source = files("glin_profanity").joinpath("data/dictionaries/russian.json")
    words: list[str] = json.loads(source.read_text(encoding="utf-8"))["words"]
    return words


@cache
def lexicon() -> Lexicon:
    return build_lexicon(_dictionary())


@cache
def _obscenity_filter() -> Filter:
    """glin-profanity's maintained Russian dictionary, whole words and phrases."""
    return Filter({"languages": ["russian"]})


def _is_cyrillic(word: str) -> bool:
    return bool(re.fullmatch(r"[а-яё \-]+", word))


def obscene(text: str) -> bool:
    found = _obscenity_filter().check_profanity(text)
    if found.get("contains_profanity"):
        words = {w.lower() for w in found.get("profane_words", [])}
        # The library reports each hit with its look-alike spellings; a real word is Cyrillic.
        if any(_is_cyrillic(w) and w not in NOT_OBSCENE for w in words):
            return True
    known = lexicon()
    return any(known.obscene_word(word) for word in words_of(text))

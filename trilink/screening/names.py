"""Names across scripts and romanisations, reduced to comparable tokens.

A name becomes a list of :class:`Token`: English words (translated from Hangul or kanji
through a glossary of organisation words, see ``trilink/data/screening/glossary.yaml``)
and *folded* romanisations of what the glossary does not cover. Folding maps the
romanisation systems onto one key — Revised Romanization, McCune–Reischauer without
diacritics, Hepburn and Kunrei — so 김정은 ("gimjeongeun"), KIM JONG UN and Kim Jong-un
give the same letters: the key is for matching only, never shown.

Words that name a state (North Korea, DPRK, 朝鮮民主主義人民共和国, 한국 …) become a
country marker, not a token: "South Korea" and "North Korea" share every other letter,
and must never match.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources

import yaml
from korean_romanizer.romanizer import Romanizer

_HANGUL = re.compile(r"[\uac00-\ud7a3]+")
_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]+")
# Legal forms and filler: dropped before comparing.
LEGAL = frozenset({"co", "company", "corp", "corporation", "ltd", "limited", "inc", "llc",
                   "plc", "sa", "ag", "gmbh", "the", "of", "and", "kk", "kabushiki", "kaisha",
                   "jsc", "pjsc", "group", "grp"})
# Abbreviations lists and documents use for the same words.
ABBREVIATIONS = {"devt": "development", "dev": "development", "intl": "international",
                 "natl": "national", "mfg": "manufacturing", "tdg": "trading",
                 "bk": "bank", "mgmt": "management", "svcs": "services", "gen": "general"}
# Words common to many organisation names: they never decide a match alone.
GENERIC = frozenset({"korea", "korean", "bank", "banking", "trading", "trade", "general",
                     "national", "development", "commercial", "industry", "industries",
                     "industrial", "international", "ocean", "maritime", "shipping",
                     "management", "credit", "insurance", "electric", "electronics",
                     "power", "heavy", "chemical", "technology", "foreign",
                     "bureau", "team", "unit", "office", "cooperation", "external",
                     "democratic", "peoples", "people", "republic", "company",
                     "corporation", "army", "services"})
_COUNTRY_PHRASES = (
    ("democratic peoples republic of korea", "KP"), ("democratic people s republic of korea",
                                                     "KP"),
    ("north korea", "KP"), ("korea north", "KP"), ("dprk", "KP"), ("dprkn", "KP"),
    ("republic of korea", "KR"), ("south korea", "KR"), ("korea south", "KR"), ("rok", "KR"),
)


@dataclass(frozen=True)
class Token:
    text: str  # folded
    generic: bool


@dataclass(frozen=True)
class Name:
    """A name ready to compare: its tokens and the countries it names."""

    original: str
    tokens: tuple[Token, ...]
    countries: frozenset[str]

    @property
    def key(self) -> str:
        return " ".join(t.text for t in self.tokens)

    @property
    def distinctive(self) -> tuple[Token, ...]:
        return tuple(t for t in self.tokens if not t.generic)


@functools.cache
def _glossary() -> dict[str, dict[str, dict[str, object]]]:
    path = resources.files("trilink") / "data" / "screening" / "glossary.yaml"
    data: dict[str, dict[str, dict[str, object]]] = yaml.safe_load(
        path.read_text(encoding="utf-8"))
    return data


def fold(word: str) -> str:
    """One key for a word's romanisations (see the module docstring)."""
    w = unicodedata.normalize("NFKD", word.lower())
    w = "".join(c for c in w if c.isascii() and c.isalnum())
    for a, b in (("yeo", "yo"), ("eo", "o"), ("eu", "u"), ("ae", "e"), ("oe", "e"),
                 ("ou", "o"), ("oo", "o"), ("uu", "u"), ("shi", "si"), ("sh", "s"),
                 ("tsu", "tu"), ("chi", "ti"), ("ch", "t"), ("j", "t"), ("ng", "n"),
                 ("g", "k"), ("d", "t"), ("b", "p"), ("r", "l"), ("f", "h"), ("z", "s")):
        w = w.replace(a, b)
    return re.sub(r"([a-z])\1+", r"\1", w)  # doubled letters: kk → k (not digits)


def _translate(run: str, table: dict[str, dict[str, object]], romanise: object,
               first: bool) -> tuple[list[str], set[str]]:
    """A run of Hangul or CJK: glossary words (longest first), the rest romanised."""
    words: list[str] = []
    countries: set[str] = set()
    keys = sorted(table, key=len, reverse=True)
    i, pending = 0, ""
    while i < len(run):
        hit = next((k for k in keys if run.startswith(k, i)
                    and (not table[k].get("leading_only") or (first and i == 0))), None)
        if hit is None:
            pending += run[i]
            i += 1
            continue
        if pending:
            words.append(romanise(pending))  # type: ignore[operator]
            pending = ""
        entry = table[hit]
        if "country" in entry:
            countries.add(str(entry["country"]))
        # A state's name is a marker only; "Korea" (조선, 한국) also stays a word.
        if "country" not in entry or entry.get("en") == "korea":
            words.extend(str(entry.get("en", "")).split())
        i += len(hit)
    if pending:
        words.append(romanise(pending))  # type: ignore[operator]
    return words, countries


def _romanise_hangul(text: str) -> str:
    return str(Romanizer(text).romanize())


@functools.cache
def _kakasi() -> object:
    import pykakasi

    return pykakasi.kakasi()  # type: ignore[no-untyped-call]


def _romanise_japanese(text: str) -> str:
    parts = _kakasi().convert(text)  # type: ignore[attr-defined]
    return "".join(str(p["hepburn"]) for p in parts)


def parse_name(text: str) -> Name:
    """Tokens and country markers of a name in any of the supported scripts."""
    gloss = _glossary()
    words: list[str] = []
    countries: set[str] = set()
    pieces = re.split(r"([\uac00-\ud7a3]+|[\u3040-\u30ff\u4e00-\u9fff]+)", text)
    for n, piece in enumerate(pieces):
        if not piece:
            continue
        first = not any(p.strip() for p in pieces[:n])
        if _HANGUL.fullmatch(piece):
            found, c = _translate(piece, gloss["hangul"], _romanise_hangul, first)
        elif _CJK.fullmatch(piece):
            found, c = _translate(piece, gloss["kanji"], _romanise_japanese, first)
        else:
            found, c = _latin(piece)
        words += found
        countries |= c
    tokens = []
    for raw in words:
        w = ABBREVIATIONS.get(raw, raw)
        if not w or w in LEGAL or _misspelt_legal_form(w):
            continue
        tokens.append(Token(fold(w), w in GENERIC))
    return Name(text, tuple(t for t in tokens if t.text), frozenset(countries))


def _misspelt_legal_form(word: str) -> bool:
    """"COROPRATION", "aORPORATION": a long legal-form word with one slip is still one."""
    from rapidfuzz import fuzz

    return len(word) >= 7 and any(fuzz.ratio(word, f) >= 85 for f in
                                  ("corporation", "company", "limited", "incorporated"))


def _latin(piece: str) -> tuple[list[str], set[str]]:
    text = unicodedata.normalize("NFKC", piece).lower()
    text = re.sub(r"[’'`]", "", text)
    text = re.sub(r"[^a-z0-9]+", " ", text)
    countries: set[str] = set()
    padded = f" {text} "
    for phrase, code in _COUNTRY_PHRASES:
        if f" {phrase} " in padded:
            countries.add(code)
            padded = padded.replace(f" {phrase} ", " ")
    return padded.split(), countries

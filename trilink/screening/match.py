"""Fuzzy screening of a party's name (and country) against listed parties.

A listed name matches when, after :func:`~trilink.screening.names.parse_name`:

1. the countries do not contradict (a party in KR never matches one listed in KP, and
   "South Korea …" never matches "North Korea …");
2. an acronym alias (one short token, e.g. KOMID) matches only exactly;
3. every distinctive word of the listed name is found in the query (fuzzily, across
   romanisations) — "Korea Development Bank" lacks "mining" and never matches KOMID;
4. the similarity of the two names (rapidfuzz, token order free, spaces free) reaches the
   threshold, chosen on the development half of the labelled corpus
   (``bench/bench_screening.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from trilink.screening.lists import ListedParty
from trilink.screening.names import Name, parse_name

THRESHOLD = 92.0  # chosen on the corpus's development half (bench/bench_screening.py)
WORD_MATCH = 80.0


@dataclass(frozen=True)
class Match:
    party: ListedParty
    listed_name: str
    score: float
    why: str


def _concat(n: Name) -> str:
    return "".join(t.text for t in n.tokens)


def similarity(query: Name, listed: Name) -> tuple[float, str]:
    """0–100 and why; 0 when a rule refuses the pair."""
    if not listed.tokens:
        return 0.0, "nothing to compare"
    if len(listed.tokens) == 1:
        # One word (KOMID, ZINC, LAZARUS): the query must be that word and nothing else,
        # or "Korea Zinc" would be the Lazarus Group.
        only = [t.text for t in query.tokens]
        word = listed.tokens[0].text
        if only == [word] or "".join(only) == word:
            return 100.0, "the listed single-word name"
        near = fuzz.ratio("".join(only), word)
        if len(word) >= 6 and near >= 90:
            return float(near), "near spelling of the listed single-word name"
        return 0.0, "single-word name differs"
    q = _concat(query)
    for t in listed.distinctive:
        if fuzz.partial_ratio(t.text, q) < WORD_MATCH:
            return 0.0, f"no {t.text!r} in the query"
    score = max(fuzz.token_sort_ratio(query.key, listed.key),
                fuzz.ratio(q, _concat(listed)))
    listed_words = {t.text for t in listed.tokens}
    extra = [t for t in query.tokens if t.text not in listed_words]
    if listed_words <= {t.text for t in query.tokens} and all(t.generic for t in extra):
        score = max(score, 100.0 - 2.0 * len(extra))  # the listed name, plus generic words
    if not listed.distinctive:  # generic words only: every one must be there
        score = min(score, fuzz.token_set_ratio(query.key, listed.key))
    return float(score), "similar"


class Screener:
    """Screens names against a set of listed parties (names parsed once)."""

    def __init__(self, parties: list[ListedParty], threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        self._index = [(p, n, parse_name(n)) for p in parties for n in p.names]

    def screen(self, name: str, country: str | None = None) -> list[Match]:
        query = parse_name(name)
        q_countries = set(query.countries) | ({country.upper()} if country else set())
        best: dict[tuple[str, str], Match] = {}
        for party, text, listed in self._index:
            l_countries = set(listed.countries) | set(party.countries)
            if q_countries and l_countries and not q_countries & l_countries:
                continue
            if query.countries and listed.countries and not query.countries & listed.countries:
                continue
            score, why = similarity(query, listed)
            if score < self.threshold:
                continue
            key = (party.list_name, party.uid)
            if key not in best or score > best[key].score:
                best[key] = Match(party, text, round(score, 1), why)
        return sorted(best.values(), key=lambda m: (-m.score, m.party.uid))

"""Precision and recall of a screener on the labelled corpus
(``trilink/data/screening/corpus.csv``, made by ``tools/make_screening_corpus.py``).

A positive row is found when the screener returns its listed party; a returned party
that is not the row's is a false positive (so is any match of a negative row). The
corpus is split in two halves by a stable hash of the query: thresholds are chosen on
the development half and figures reported on the test half.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Row:
    query: str
    country: str | None
    uid: str | None
    kind: str

    @property
    def half(self) -> str:
        h = hashlib.sha256(self.query.encode()).digest()[0]
        return "dev" if h % 2 == 0 else "test"


@dataclass(frozen=True)
class Figures:
    rows: int
    positives: int
    true_positives: int
    false_positives: int
    false_negatives: int
    misses: tuple[str, ...]
    false_alarms: tuple[str, ...]

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.positives if self.positives else 1.0


def load_corpus() -> list[Row]:
    path = resources.files("trilink") / "data" / "screening" / "corpus.csv"
    with path.open(encoding="utf-8") as f:
        lines = [line for line in f if not line.startswith("#")]
    return [Row(r["query"], r["country"] or None, r["uid"] or None, r["kind"])
            for r in csv.DictReader(lines)]


# A screen function: (name, country) → the uids it flags.
ScreenFn = Callable[[str, str | None], Iterable[str]]


def evaluate(screen: ScreenFn, rows: list[Row]) -> Figures:
    tp = fp = fn = 0
    misses, alarms = [], []
    for r in rows:
        got = set(screen(r.query, r.country))
        if r.uid is not None:
            if r.uid in got:
                tp += 1
            else:
                fn += 1
                misses.append(f"{r.query} [{r.kind}]")
            fp += len(got - {r.uid})
        elif got:
            fp += len(got)
            alarms.append(f"{r.query} ({r.country or '-'}) -> {', '.join(sorted(got))}")
    return Figures(len(rows), sum(1 for r in rows if r.uid), tp, fp, fn, tuple(misses),
                   tuple(alarms))

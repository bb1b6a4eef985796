"""Name screening on the labelled corpus: precision and recall of trilink's screener
beside a plain rapidfuzz baseline (token_sort_ratio on the raw names, the common first
attempt), thresholds chosen on the development half and figures on the held-out half;
and queries per second of both, in one run.

    python bench/bench_screening.py          # writes bench/results/screening.json
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

from rapidfuzz import fuzz

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trilink.screening.evaluate import Figures, Row, evaluate, load_corpus  # noqa: E402
from trilink.screening.lists import ListedParty, shipped_lists  # noqa: E402
from trilink.screening.match import Screener  # noqa: E402

THRESHOLDS = (70, 75, 80, 85, 88, 90, 92, 95)


def baseline(parties: list[ListedParty], threshold: float):  # type: ignore[no-untyped-def]
    names = [(p.uid, n.upper()) for p in parties for n in p.names]

    def screen(q: str, country: str | None) -> list[str]:
        return sorted({uid for uid, n in names
                       if fuzz.token_sort_ratio(q.upper(), n) >= threshold})
    return screen


def choose(make, dev: list[Row]) -> tuple[float, Figures]:  # type: ignore[no-untyped-def]
    """The threshold with the best dev recall at dev precision ≥ 0.98 (else best F1);
    ties go to the higher, more conservative threshold."""
    best = None
    for th in THRESHOLDS:
        f = evaluate(make(th), dev)
        ok = f.precision >= 0.98
        f1 = 2 * f.precision * f.recall / (f.precision + f.recall or 1)
        key = (ok, f.recall if ok else f1, th)
        if best is None or key > best[0]:
            best = (key, th, f)
    assert best is not None
    return best[1], best[2]


def rate(screen, rows: list[Row], repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for _ in range(repeat):
        for r in rows:
            screen(r.query, r.country)
    return repeat * len(rows) / (time.perf_counter() - start)


def main() -> None:
    rows = load_corpus()
    dev = [r for r in rows if r.half == "dev"]
    test = [r for r in rows if r.half == "test"]
    parties = shipped_lists()

    def ours(th: float):  # type: ignore[no-untyped-def]
        s = Screener(parties, threshold=th)
        return lambda q, c: [m.party.uid for m in s.screen(q, c)]

    result: dict[str, object] = {"corpus_rows": len(rows), "dev_rows": len(dev),
                                 "test_rows": len(test),
                                 "listed_parties": len(parties),
                                 "machine": f"{platform.machine()}, Python "
                                            f"{platform.python_version()}",
                                 "date": time.strftime("%Y-%m-%d")}
    for label, make in (("trilink", ours), ("rapidfuzz_token_sort", lambda th: baseline(
            parties, th))):
        th, _ = choose(make, dev)
        f = evaluate(make(th), test)
        result[label] = {"threshold": th, "test_precision": round(f.precision, 4),
                         "test_recall": round(f.recall, 4),
                         "false_positives": f.false_positives,
                         "false_negatives": f.false_negatives,
                         "false_alarms": list(f.false_alarms)[:10],
                         "misses": list(f.misses),
                         "queries_per_s": round(rate(make(th), rows), 0)}
    out = ROOT / "bench" / "results" / "screening.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for label in ("trilink", "rapidfuzz_token_sort"):
        r = result[label]
        assert isinstance(r, dict)
        print(f"{label:22s} threshold {r['threshold']:>3}: precision {r['test_precision']:.3f}"
              f"  recall {r['test_recall']:.3f}  ({r['false_positives']} FP, "
              f"{r['false_negatives']} FN)  {r['queries_per_s']:,.0f} queries/s")
    print(f"-> {out}")


if __name__ == "__main__":
    main()

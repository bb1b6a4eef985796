"""Scoring tracks against truth (evaluation only: trackers never see truth)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np

from trilink.tracking.tracker import EventKind, TrackEvent
from trilink.world.truth import Truth

CLUTTER = "(clutter)"


def nearest_missile(r_ecef_m: np.ndarray, alive: np.ndarray, x: np.ndarray,
                    max_distance_m: float) -> int | None:
    """Index of the alive missile (positions r, ECEF) nearest to state x, or None when
    none lies within ``max_distance_m``."""
    d = np.linalg.norm(r_ecef_m - np.asarray(x)[:3], axis=1)
    d[~alive] = np.inf
    k = int(np.argmin(d))
    return k if d[k] <= max_distance_m else None


def nearest_truth(
    events: Iterable[TrackEvent], truth: Truth, max_distance_m: float = 20e3
) -> dict[str, Counter[str]]:
    """For every confirmed track, how many of its updates lay nearest to each missile.

    A track whose counter has one missile key followed one missile; more keys mean a
    swap or a merge. Distances are Euclidean in ECEF between the updated estimate and
    the missiles alive at the update time; an update farther than ``max_distance_m``
    from every missile counts as :data:`CLUTTER`.
    """
    out: dict[str, Counter[str]] = {}
    cache: dict[float, tuple[np.ndarray, np.ndarray]] = {}
    for e in events:
        if e.kind != EventKind.UPDATED:
            continue
        if e.t_s not in cache:
            s = truth.at(e.t_s)
            cache[e.t_s] = (s.r_ecef_m, s.alive)
        k = nearest_missile(*cache[e.t_s], e.x, max_distance_m)
        key = CLUTTER if k is None else truth.ids[k]
        out.setdefault(e.track_id, Counter())[key] += 1
    return out


def tracks_per_missile(matches: dict[str, Counter[str]]) -> dict[str, set[str]]:
    """Missile id → the ids of the tracks that mostly followed it."""
    owner: dict[str, set[str]] = {}
    for track_id, counts in matches.items():
        missiles = Counter({k: n for k, n in counts.items() if k != CLUTTER})
        if missiles:
            owner.setdefault(missiles.most_common(1)[0][0], set()).add(track_id)
    return owner

"""Online detection of supply shocks in a monthly series (sans-I/O: one month in, maybe
an alarm out).

Each month is compared, in logs, with a baseline (the median of the last ``window``
months) and the shortfall is scaled by the series' own noise — 1.4826 × the median
absolute month-to-month change seen so far, so a volatile series needs a bigger drop.
A one-sided CUSUM runs on the scaled shortfall, ``S = max(0, S + z − k)``, and alarms
when ``S > h`` (k = 0.5 and h = 4 in noise units: the textbook choice for a
one-sigma-per-month shift). A collapse alarms at once; a slow decline after a few
months; ordinary noise does not accumulate. ``bench/bench_supply.py`` measures delay
and false alarms on planted breaks beside river's Page–Hinkley and ruptures' PELT.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from trilink.supply.series import FLOOR

MIN_HISTORY = 6  # half a year to learn a series's noise before judging it


@dataclass
class ShockDetector:
    k: float = 0.5
    h: float = 4.0
    window: int = 12
    min_sigma: float = 0.05
    history: list[float] = field(default_factory=list)
    score: float = 0.0
    alarmed: bool = False

    def sigma(self) -> float:
        diffs = [abs(b - a) for a, b in zip(self.history, self.history[1:], strict=False)]
        return max(self.min_sigma, 1.4826 * statistics.median(diffs)) if diffs else 1.0

    def update(self, value: float) -> bool:
        """Feed one month; True the first month the shortfall is judged a shock."""
        x = math.log(max(value, FLOOR))
        if len(self.history) < MIN_HISTORY:
            self.history.append(x)
            return False
        base = statistics.median(self.history[-self.window:])
        z = (base - x) / self.sigma()
        self.score = max(0.0, self.score + z - self.k)
        if not self.alarmed:
            self.history.append(x)  # after an alarm the shock must not become the baseline
        if self.score > self.h and not self.alarmed:
            self.alarmed = True
            return True
        return False

    def rearm(self) -> None:
        """After an alarm judged unrelated (e.g. long before the event): watch again."""
        self.alarmed = False
        self.score = 0.0

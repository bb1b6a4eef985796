"""Real-world anchors: the times stated in a launch's published public-warning text.

The scenario's ``published.public_warning`` is free text written from the sources, for
example ``"J-Alert 07:27 (Hokkaido, ...) and 07:29 (Aomori)"`` or ``"ROK air-raid warning
for Ulleungdo 08:55 KST (~4 min after launch)"``. Two kinds of statement are read, and
nothing else is assumed:

- a clock time ``HH:MM`` is read as Japan/Korea local time (both UTC+9) and turned into
  seconds after launch using the launch's UTC time; times that would fall before the launch
  or more than :data:`MAX_AFTER_S` after it are not read as anchors;
- ``~N min after launch`` is taken as it is, when its clause holds no clock time.

Precision is that of the text: a minute.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from trilink.report.fmt import LOCAL_OFFSET

__all__ = ["MAX_AFTER_S", "Anchor", "anchors"]

MAX_AFTER_S = 3.0 * 3600.0
_CLOCK = re.compile(r"(?<![\d:.])([01]?\d|2[0-3]):([0-5]\d)(?![\d:])(?:\s*(JST|KST|UTC|Z))?")
_RELATIVE = re.compile(r"~?\s*(\d+(?:\.\d+)?)\s*min(?:utes?)?\.?\s+after\s+(?:the\s+)?launch",
                       re.IGNORECASE)


@dataclass(frozen=True)
class Anchor:
    """One time stated in the published text.

    Attributes:
        t_after_launch_s: seconds after launch (minute precision).
        quoted: the time as written ('07:27', '~4 min after launch').
        clause: the clause of the text it comes from, for context.
        lead: the few words just before the time that say what it is ('J-Alert',
            'called off'), or ''.
    """

    t_after_launch_s: float
    quoted: str
    clause: str
    lead: str = ""

    @property
    def label(self) -> str:
        """'J-Alert 07:27', or the time alone when no words lead to it."""
        return f"{self.lead} {self.quoted}" if self.lead else self.quoted


_BREAK = re.compile(r"[(),:;]")
_CONJ = re.compile(r"^(and|then|or)\b\s*", re.IGNORECASE)


def _lead(before: str, words: int = 5) -> str:
    """The last words of ``before`` within its phrase (after the last bracket or comma)."""
    tail = _BREAK.split(before)[-1]
    tail = _CONJ.sub("", " ".join(tail.split())).rstrip("~ ").strip()
    return " ".join(tail.split()[-words:])


def _clauses(text: str) -> list[str]:
    """Split on ';' (the sources' clause separator), keeping text in parentheses whole."""
    return [c.strip() for c in text.split(";") if c.strip()]


def _clock_offset_s(hh: int, mm: int, zone: str | None, launch_utc: dt.datetime) -> float | None:
    """Seconds from the launch to the stated clock time (same or next day), or None."""
    ref = launch_utc if zone in ("UTC", "Z") else launch_utc + LOCAL_OFFSET
    stated = ref.replace(hour=hh, minute=mm, second=0, microsecond=0)
    # The text gives minutes only: compare with the launch's own minute.
    base = ref.replace(second=0, microsecond=0)
    offset = (stated - base).total_seconds()
    if offset < 0:
        offset += 86400.0
    return offset if offset <= MAX_AFTER_S else None


def anchors(text: str, launch_utc: dt.datetime | None) -> list[Anchor]:
    """Times after launch stated in ``text`` (see the module docstring), in text order."""
    out: list[Anchor] = []
    for clause in _clauses(text):
        clocks = list(_CLOCK.finditer(clause)) if launch_utc is not None else []
        for m in clocks:
            assert launch_utc is not None
            off = _clock_offset_s(int(m.group(1)), int(m.group(2)), m.group(3), launch_utc)
            if off is not None:
                out.append(Anchor(off, m.group(0).strip(), clause, _lead(clause[:m.start()])))
        if clocks:
            continue
        for m in _RELATIVE.finditer(clause):
            out.append(Anchor(float(m.group(1)) * 60.0, m.group(0).strip(), clause))
    return out

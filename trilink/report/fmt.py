"""Formatting shared by the report's text, tables and figures: times, levels, colours."""

from __future__ import annotations

import datetime as dt
import math

__all__ = [
    "DASH",
    "LEVEL_COLOURS",
    "LOCAL_OFFSET",
    "NATION_COLOURS",
    "duration",
    "level_colour",
    "level_name",
    "local_clock",
    "missile_name",
    "nation_colour",
    "nation_name",
    "num",
    "tplus",
    "tplus_min",
    "utc_clock",
]

DASH = "—"
LOCAL_OFFSET = dt.timedelta(hours=9)
"""JST and KST are both UTC+9 (no daylight saving in either since 1988)."""

NATION_COLOURS: dict[str, str] = {"USA": "#1f4e9c", "JPN": "#c0392b", "KOR": "#138d75"}
_EXTRA_COLOURS = ("#7d3c98", "#b9770e", "#2e4053", "#a04000")
LEVEL_COLOURS: dict[str, str] = {
    "take_shelter": "#d7191c",
    "maritime_warning": "#f08a24",
    "informational": "#2c7bb6",
    "none": "#7f7f7f",
}
_NATION_NAMES = {
    "USA": "United States", "JPN": "Japan", "KOR": "South Korea (ROK)",
    "PRK": "North Korea (DPRK)", "CHN": "China", "RUS": "Russia", "TWN": "Taiwan",
}


def nation_colour(nation: str) -> str:
    """A fixed colour per nation (stable for nations outside the usual three)."""
    if nation in NATION_COLOURS:
        return NATION_COLOURS[nation]
    return _EXTRA_COLOURS[sum(map(ord, nation)) % len(_EXTRA_COLOURS)]


def nation_name(code: str) -> str:
    """Plain-language name of a nation code ('XXX' and unknown codes as they are)."""
    return _NATION_NAMES.get(code, code)


def missile_name(missile: str) -> str:
    """'hwasong-12' -> 'Hwasong-12', 'kn-23' -> 'KN-23', 'scud-er' -> 'Scud-ER'."""
    parts = missile.split("-")
    return "-".join(p.upper() if p.isalpha() and len(p) <= 3 else p[:1].upper() + p[1:]
                    for p in parts)


def level_name(level: str) -> str:
    """'take_shelter' -> 'take shelter'."""
    return level.replace("_", " ") if level else "none"


def level_colour(level: str) -> str:
    """Colour of a warning level (grey for unknown levels)."""
    return LEVEL_COLOURS.get(level, LEVEL_COLOURS["none"])


def tplus(t_s: float | None) -> str:
    """Seconds after launch as 'T+69 s', 'T+21 min 57 s' (from 10 min on), or a dash."""
    if t_s is None or not math.isfinite(t_s):
        return DASH
    sign = "+" if t_s >= 0 else "−"
    s = round(abs(t_s))
    if s < 600:
        return f"T{sign}{s} s"
    return f"T{sign}{s // 60} min {s % 60:02d} s"


def tplus_min(t_s: float) -> str:
    """Seconds after launch to the minute, for times stated to the minute: 'T+5 min'."""
    m = round(t_s / 60.0)
    return f"T+{m} min" if m >= 0 else f"T−{-m} min"


def duration(t_s: float | None) -> str:
    """A duration as '389 s', '21 min 57 s' or '2 h 05 min'."""
    if t_s is None or not math.isfinite(t_s):
        return DASH
    s = round(abs(t_s))
    if s < 600:
        return f"{s} s"
    if s < 3 * 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def utc_clock(t: dt.datetime | None, with_date: bool = False) -> str:
    """'22:23:09' (UTC), with the date first when asked; a dash without an epoch."""
    if t is None:
        return DASH
    return t.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def local_clock(t: dt.datetime | None) -> str:
    """Japan/Korea local time (UTC+9) as '07:23:09'."""
    return DASH if t is None else (t + LOCAL_OFFSET).strftime("%H:%M:%S")


def num(value: float | None, unit: str = "", digits: int = 0) -> str:
    """A number with a thin-space unit, or a dash for None."""
    if value is None or not math.isfinite(value):
        return DASH
    text = f"{value:,.{digits}f}"
    return f"{text}\u202f{unit}" if unit else text

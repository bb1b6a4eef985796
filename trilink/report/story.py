"""The plain-language outcome: a paragraph per launch (or one for a busy day), generated
from the record. Returns plain text; the page escapes it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pyproj import Geod

from trilink.geo import ZoneKind, zone_map
from trilink.report.data import Launch, Message, NationFigures, Record
from trilink.report.fmt import (
    duration,
    level_name,
    local_clock,
    missile_name,
    nation_name,
    num,
    tplus,
    tplus_min,
)
from trilink.report.published import anchors

__all__ = ["MANY_LAUNCHES", "LaunchFacts", "launch_facts", "outcome"]

MANY_LAUNCHES = 3
"""Above this many launches the outcome is one summary paragraph, not one per launch."""
_GEOD = Geod(ellps="WGS84")
_RANK = {"none": 0, "informational": 1, "maritime_warning": 2, "take_shelter": 3}


@dataclass(frozen=True)
class LaunchFacts:
    """Derived truth of one launch: where it came down and how far it flew."""

    where: str  # "on the high seas, 1,234 km from the nearest coast", or ""
    ground_range_km: float | None


def launch_facts(launch: Launch) -> LaunchFacts:
    """Where the launch came down (trilink's zone model) and its ground range (WGS84)."""
    la, lo = launch.impact_lat_deg, launch.impact_lon_deg
    if la is None or lo is None:
        return LaunchFacts("", None)
    hit = zone_map().locate(math.radians(la), math.radians(lo))
    name = nation_name(hit.nation or "")
    if hit.kind is ZoneKind.LAND:
        where = f"on land ({name})"
    elif hit.kind is ZoneKind.TERRITORIAL_SEA:
        where = f"in {name}'s territorial sea"
    elif hit.kind is ZoneKind.EEZ:
        where = (f"in {name}'s 200-nm zone, "
                 f"{num(hit.distance_to_coast_m / 1e3, 'km')} from its coast")
    else:
        where = (f"on the high seas, {num(hit.distance_to_coast_m / 1e3, 'km')} "
                 "from the nearest coast")
    rng = None
    if launch.site_lat_deg is not None and launch.site_lon_deg is not None:
        _, _, d = _GEOD.inv(launch.site_lon_deg, launch.site_lat_deg, lo, la)
        rng = float(d) / 1e3
    return LaunchFacts(where, rng)


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _warning_story(nation: str, msgs: Sequence[Message], t0: float) -> str:
    """'JPN issued a take-shelter alert at T+69 s and cancelled it at T+389 s'."""
    tracks = {m.track for m in msgs}
    if len(tracks) > 1 or len(msgs) > 4:
        alerts = [m for m in msgs if m.msg_type != "Cancel"]
        top = max((m.level for m in alerts), key=lambda lv: _RANK.get(lv, 0), default="none")
        first, last = (alerts[0] if alerts else msgs[0]), msgs[-1]
        kind = last.msg_type.lower()
        return (f"{nation} sent {len(msgs)} CAP messages about {len(tracks)} track(s), "
                f"highest level {level_name(top)}: first {_level_adj(first.level)} "
                f"{first.msg_type.lower()} at {tplus(first.t_s - t0)}, last "
                f"{_article(kind)} {kind} at {tplus(last.t_s - t0)}")
    parts: list[str] = []
    level = "none"
    for m in msgs:
        at = tplus(m.t_s - t0)
        if m.msg_type == "Alert":
            parts.append(f"issued {_level_adj(m.level)} alert at {at}")
        elif m.msg_type == "Cancel":
            parts.append(f"cancelled it at {at}")
        else:
            verb = ("raised it to" if _RANK.get(m.level, 0) > _RANK.get(level, 0)
                    else "lowered it to" if _RANK.get(m.level, 0) < _RANK.get(level, 0)
                    else "updated it at level")
            parts.append(f"{verb} {level_name(m.level)} at {at}")
        level = m.level
    return f"{nation} {_join(parts)}"


def _silent_story(launch: Launch, nations: Sequence[str]) -> list[str]:
    """Sentences about the nations that issued no warning."""
    tracked: list[tuple[str, NationFigures]] = []
    out: list[str] = []
    for n in nations:
        f = launch.figures.get(n)
        if f is None:
            continue
        if f.first_track_s is not None:
            tracked.append((n, f))
        elif f.first_detection_s is not None:
            out.append(f"{n} detected it at {tplus(f.first_detection_s)} but formed no track "
                       "of its own")
        elif f.first_partner_track_s is not None:
            out.append(f"{n} never detected it itself but received a partner's track at "
                       f"{tplus(f.first_partner_track_s)}")
        else:
            out.append(f"{n} never detected it")
    if tracked:
        who = _join([n for n, _ in tracked])
        when = _join([tplus(f.first_track_s) for _, f in tracked])
        verb = "tracked it from" if len(tracked) == 1 else "tracked it (from"
        tail = "" if len(tracked) == 1 else ")"
        out.insert(0, f"{who} {verb} {when}{tail} and issued no warning")
    return out


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeio" else "a"


def _level_adj(level: str) -> str:
    """'take_shelter' -> 'a take-shelter'; 'informational' -> 'an informational'."""
    word = level_name(level).replace(" ", "-")
    return f"{_article(word)} {word}"


def _launch_story(rec: Record, i: int, launch: Launch) -> str:
    facts = launch_facts(launch)
    utc = rec.utc(launch.launch_t_s)
    what = missile_name(launch.missile) if launch.missile else "missile"
    site = f" from {launch.site_name}" if launch.site_name else ""
    when = (f" at {utc:%H:%M:%S} UTC ({local_clock(utc)} in Japan and Korea)"
            if utc is not None else "")
    flight = (f"It flew for {duration(launch.flight_time_s)}"
              if launch.flight_time_s is not None else "It flew")
    apogee = f" to an apogee of {num(launch.apogee_km, 'km')}" if launch.apogee_km else ""
    came = f" and came down {facts.where}" if facts.where else ""
    sentences = [f"{launch.name}: {what}{site}{when}", f"{flight}{apogee}{came}"]
    if launch.failure_t_s is not None:
        sentences.append(f"It failed at {tplus(launch.failure_t_s - launch.launch_t_s)}")
    by_nation: dict[str, list[Message]] = {}
    for m in rec.messages:
        if rec.launch_index(m.missile, m.t_s) == i:
            by_nation.setdefault(m.nation, []).append(m)
    warned = [n for n in rec.nations if by_nation.get(n)]
    sentences += [_warning_story(n, by_nation[n], launch.launch_t_s) for n in warned]
    silent = [n for n in rec.nations if n not in warned]
    sentences += _silent_story(launch, silent)
    false = [f"{n} ({f.false_alarms})" for n, f in launch.figures.items()
             if f.false_alarms]
    if false:
        sentences.append("Warnings that the truth did not bear out (false alarms): "
                         + _join(false))
    found = anchors(str(launch.published.get("public_warning") or ""), utc)
    if found:
        real = _join([f"{a.label} (about {tplus_min(a.t_after_launch_s)})"
                      for a in found[:3]])
        sentences.append(f"The published account of the real public warning gives {real}")
    return ". ".join(s[0].upper() + s[1:] for s in sentences) + "."


def _day_story(rec: Record) -> str:
    ls = rec.launches
    first, last = rec.utc(ls[0].launch_t_s), rec.utc(ls[-1].launch_t_s)
    span = ""
    if first is not None and last is not None:
        fmt = "%H:%M UTC on %Y-%m-%d" if first.date() != last.date() else "%H:%M"
        span = (f" between {first:{fmt}} and {last:{fmt}}"
                f"{'' if first.date() != last.date() else ' UTC'} "
                f"({duration(ls[-1].launch_t_s - ls[0].launch_t_s)})")
    detected = sum(1 for lc in ls if any(f.first_detection_s is not None
                                         for f in lc.figures.values()))
    tracked = sum(1 for lc in ls if any(f.first_track_s is not None
                                        for f in lc.figures.values()))
    seen = ("All of them were detected and tracked" if detected == tracked == len(ls)
            else f"{detected} of them were detected and {tracked} tracked")
    s = [f"{len(ls)} launches{span}", f"{seen} by at least one nation"]
    quiet = []
    for n in rec.nations:
        warned = [(lc, lc.figures[n]) for lc in ls
                  if n in lc.figures and lc.figures[n].first_warning_s is not None]
        if not warned:
            quiet.append(n)
            continue
        fastest = min(warned, key=lambda p: p[1].first_warning_s or math.inf)
        top = max((f.warning_level for _, f in warned), key=lambda lv: _RANK.get(lv, 0))
        s.append(f"{n} warned about {len(warned)} of them (highest level "
                 f"{level_name(top)}; fastest first warning {tplus(fastest[1].first_warning_s)}"
                 f", {fastest[0].name})")
    if quiet:
        s.append(f"{_join(quiet)} issued no warning")
    false = sum(f.false_alarms or 0 for lc in ls for f in lc.figures.values())
    if false:
        s.append(f"{false} warning(s) were not borne out by the truth (false alarms)")
    failed = sum(1 for lc in ls if lc.failure_t_s is not None)
    if failed:
        s.append(f"{failed} launch(es) failed in flight")
    return ". ".join(x[0].upper() + x[1:] for x in s) + "."


def outcome(rec: Record) -> list[str]:
    """The outcome paragraphs, plain text."""
    if not rec.launches:
        return ["The record holds no launches: nothing flew, so nothing was detected, "
                f"tracked or warned about ({len(rec.messages)} CAP messages)."]
    if len(rec.launches) > MANY_LAUNCHES:
        return [_day_story(rec)]
    return [_launch_story(rec, i, lc) for i, lc in enumerate(rec.launches)]

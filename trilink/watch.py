"""The node's watch: assessment rounds over its fused picture (sans-I/O).

Every ``assess_every_s`` the watch gives each fresh object of the fused picture (own
and partners' tracks, updated within ``stale_s``) to the nation's warning centre
(:class:`trilink.warning.center.WarningCenter`: CAP Alert / Update / Cancel), lets
warnings whose tracks are gone lapse, and — if the nation consults automatically —
raises significant tracks on the hotline (:mod:`trilink.hotline.opener`): it tells the
consultation it is in of each public warning it issued and opens (or posts into) one for
each newly significant track, with a fact sheet.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from trilink.hotline.desk import DeskOutput, HotlineDesk
from trilink.hotline.factsheet import fact_sheet, significance
from trilink.hotline.opener import AutoOpener, OpenerConfig, tell_warning
from trilink.sharing.fusion import FusedObject
from trilink.warning.announced import AnnouncedLaunch, announced_match
from trilink.warning.assessment import Assessment
from trilink.warning.center import WarningCenter, WarningEvent


@dataclass(frozen=True)
class WatchConfig:
    """How a node assesses its picture.

    ``assess_until_s``: no rounds after this time (a simulated run stops at its last
    impact); ``opener``: consult automatically on significant tracks (None: never).
    """

    assess_every_s: float = 10.0
    stale_s: float = 30.0
    assess_until_s: float = math.inf
    opener: OpenerConfig | None = None
    cap_status: str = "Exercise"
    # An exercise's announced launches: tracks from them are drills (CAP Exercise, always).
    announced: tuple[AnnouncedLaunch, ...] = ()


@dataclass
class Round:
    """What one assessment round produced, in order."""

    t_s: float
    warnings: list[WarningEvent] = field(default_factory=list)
    assessments: list[tuple[str, Assessment]] = field(default_factory=list)
    desk: DeskOutput = field(default_factory=DeskOutput)
    # (fused track id, consultation id, opened by this round) per significant track.
    raised: list[tuple[str, str, bool]] = field(default_factory=list)


class Watch:
    """One nation's assessment schedule, warning centre and automatic opener."""

    def __init__(self, nation: str, epoch: dt.datetime, config: WatchConfig | None = None
                 ) -> None:
        self.nation = nation
        self.config = config or WatchConfig()
        self.center = WarningCenter(nation, epoch, self.config.assess_every_s,
                                    status=self.config.cap_status)
        self.opener = (AutoOpener(nation, self.config.opener)
                       if self.config.opener is not None else None)
        self.last_round_s = -math.inf
        # When each fused object first showed in a round (a fact sheet's launch bound).
        self.first_in_picture: dict[str, float] = {}
        self.issued: list[WarningEvent] = []  # every CAP message, in order

    def next_round_s(self) -> float | None:
        due = self.last_round_s + self.config.assess_every_s
        return None if due > self.config.assess_until_s else due

    def due(self, now_s: float) -> bool:
        return (now_s - self.last_round_s >= self.config.assess_every_s
                and now_s <= self.config.assess_until_s)

    def public_warnings(self) -> list[dict[str, Any]]:
        """The public warnings issued so far (Alerts and Updates), as the hotline
        tells them."""
        return [_public(self.nation, ev) for ev in self.issued
                if ev.message.msg_type != "Cancel"]

    def join_facts(self, consultation: str) -> dict[str, object]:
        """What this nation adds when it joins ``consultation``: its warnings, and the
        fact sheets it kept while only invited."""
        held = self.opener.held.pop(consultation, []) if self.opener is not None else []
        return {"warnings": self.public_warnings(), **({"tracks": held} if held else {})}

    def fresh(self, picture: Sequence[FusedObject], now_s: float) -> list[FusedObject]:
        return [o for o in picture if now_s - o.t_s <= self.config.stale_s]

    def round(self, now_s: float, picture: Sequence[FusedObject], desk: HotlineDesk
              ) -> Round:
        """One round at ``now_s`` (call when :meth:`due`)."""
        self.last_round_s = now_s
        out = Round(now_s)
        center = self.center
        significant: list[tuple[FusedObject, Assessment, str]] = []
        for obj in self.fresh(picture, now_s):
            self.first_in_picture.setdefault(obj.fused_id, now_s)
            if self.config.announced and obj.fused_id not in center.drill:
                hit = announced_match(obj.x, obj.t_s, self.first_in_picture[obj.fused_id],
                                      self.config.announced)
                if hit is not None:  # once a drill, always a drill (no flip mid-warning)
                    center.drill[obj.fused_id] = hit.label
            before = len(center.assessments)
            events = center.on_track(obj.fused_id, obj.x, obj.P, obj.t_s,
                                     obj.powered_probability)
            if len(center.assessments) == before:
                continue
            latest = center.assessments[-1][1]
            out.assessments.append((obj.fused_id, latest))
            out.warnings += events
            if self.opener is not None and obj.fused_id not in self.opener.seen_tracks:
                reason = significance(self.nation, obj.x, obj.powered_probability, latest,
                                      self.opener.rules)
                if reason is not None:
                    significant.append((obj, latest, reason))
        out.warnings += center.expire(now_s)
        self.issued += out.warnings
        if self.opener is None:
            return out
        for ev in out.warnings:
            if ev.message.msg_type != "Cancel":
                out.desk.extend(tell_warning(desk, now_s, _public(self.nation, ev)))
        for obj, latest, reason in significant:
            sheet = fact_sheet(obj.x, obj.t_s, latest, self.public_warnings(),
                               self.first_in_picture.get(obj.fused_id))
            cid, opened, desk_out = self.opener.consider(desk, now_s, obj.fused_id, reason,
                                                         sheet)
            out.desk.extend(desk_out)
            if cid is not None:
                out.raised.append((obj.fused_id, cid, opened))
        return out

    def close(self) -> list[WarningEvent]:
        """The end of the watch: every warning still out lapses, each at its own time."""
        events = self.center.expire(math.inf)
        self.issued += events
        return events


def _public(nation: str, ev: WarningEvent) -> dict[str, Any]:
    params = dict(ev.message.parameters)
    out: dict[str, Any] = {"nation": nation, "t_s": round(ev.t_s, 1),
                           "level": params["trilink_level"]}
    if "trilink_exercise" in params:  # a drill's warning: the hotline must say so too
        out["exercise"] = params["trilink_exercise"]
    return out

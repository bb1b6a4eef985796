"""Opening consultations automatically: the node's side of the hotline trigger rules.

Each assessment round the node judges significance on its own fused picture
(:func:`trilink.hotline.factsheet.significance`). A nation with no consultation in
progress opens a trilateral one with a fact sheet; one already in a consultation posts
the new track's fact sheet into it instead; one invited but not yet joined keeps the
sheet for its join. Two nations that open at nearly the same time end up in one
consultation: the later one (by opening time, then nation code) is concluded as merged
by its opener's authorities, who join the earlier.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from trilink.hotline.consultation import Consultation
from trilink.hotline.desk import DeskOutput, HotlineDesk
from trilink.hotline.factsheet import TriggerRules


@dataclass(frozen=True)
class OpenerConfig:
    """Who a nation consults and under what rules (from a scenario or a deployment)."""

    parties: tuple[str, ...]
    authority: str
    rules: TriggerRules = field(default_factory=TriggerRules)


@dataclass
class AutoOpener:
    """Opens consultations for one nation when its picture shows a significant event."""

    nation: str
    config: OpenerConfig
    seen_tracks: set[str] = field(default_factory=set)
    # Fact sheets of tracks seen before this nation joined: they go with its join.
    held: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def rules(self) -> TriggerRules:
        return self.config.rules

    def consider(self, desk: HotlineDesk, t_s: float, track_id: str, reason: str,
                 sheet: dict[str, Any]) -> tuple[str | None, bool, DeskOutput]:
        """Raise a significant track: (the consultation it went to, whether this call
        opened it, the desk's output). A track is raised once."""
        if track_id in self.seen_tracks:
            return None, False, DeskOutput()
        self.seen_tracks.add(track_id)
        current = active_consultation(desk)
        sheet_text = json.dumps(sheet, sort_keys=True)
        if current is None:
            cls = sheet.get("trajectory_class", "ballistic")
            cid, out = desk.open(t_s, self.config.parties, f"{cls} launch: {reason}",
                                 self.config.authority, trigger=reason,
                                 fact_sheet=sheet_text)
            return cid, True, out
        if self.nation in current.folded.joined:
            return current.id, False, desk.say(t_s, current.id, f"update: {reason}",
                                               fact=sheet)
        self.held.setdefault(current.id, []).append(sheet)  # goes with the join
        return current.id, False, DeskOutput()


def tell_warning(desk: HotlineDesk, t_s: float, warning: dict[str, Any]) -> DeskOutput:
    """A nation in a consultation tells the others of a public warning it issued."""
    current = active_consultation(desk)
    if current is None or desk.nation not in current.folded.joined:
        return DeskOutput()  # not in one yet: the join tells every warning so far
    drill = f"EXERCISE ({warning['exercise']}) — " if warning.get("exercise") else ""
    text = f"{drill}{desk.nation} public warning: {warning['level']} at t={warning['t_s']} s"
    return desk.say(t_s, current.id, text, fact={"warnings": [warning]})


def active_consultation(desk: HotlineDesk) -> Consultation | None:
    """The consultation in progress this nation is a party to, joined or only invited
    (earliest opened)."""
    live = [c for c in desk.consultations.values()
            if not c.closed and desk.nation in c.parties]
    return min(live, key=lambda c: (c.opening.t_s, c.opener)) if live else None

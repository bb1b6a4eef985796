"""A nation's warning centre: assessments in, CAP alerts out (sans-I/O state machine).

Per track, at most every ``assess_every_s`` (an assessment flies dozens of trajectories
to the ground), the centre assesses the track for its nation
(:func:`trilink.warning.assessment.assess`) and keeps one warning per track:

- a level above ``none`` in two assessments in a row with no warning out → CAP
  **Alert**;
- a different level above ``none`` → CAP **Update** (references what went before);
- ``none`` twice in a row (one noisy assessment must not cancel a shelter order) →
  CAP **Cancel**; an overflight warning also ends once its window has passed;
- a warning whose track is no longer given (impact, track lost) → **Cancel** from
  :meth:`WarningCenter.expire` once the predicted impact time (plus its 3-sigma and a
  margin) has passed or the track has been silent for ``lost_after_s``: a warning is
  never left in force with nothing behind it.

No warning follows a *ballistic* prediction made during a burn: while a track's
powered-mode probability is 0.5 or more its ballistic assessments are recorded but change
nothing. During a burn the instantaneous impact point runs downrange from the launch site
at kilometres per second, so it crosses land that the missile will overfly long before
(or never) threatens — a warning from it is a false alarm by construction.

What a boosting track does give is its heading: the **boost-phase warning**
(:mod:`trilink.warning.boost`, ``policy.boost``). A track climbing at a shallow angle on a
heading whose fan crosses the nation's land raises ``take_shelter`` ("may pass over or
fall on", the fan as the CAP area, no impact point claimed), with the same confirmations
as any Alert; a track within ``boost.same_missile_m`` of one already warned in its boost
is taken for the same missile (a split picture, a salvo on one path) and raises no second
Alert. While the engines burn, the boost rule can raise or keep a warning, never lift
it; after burnout the ballistic assessment decides: the same level again is an
**Update** that narrows the area to the predicted overflight corridor, ``none`` twice
cancels it. A boost warning whose track is lost lapses ``lost_after_s`` after it was
last given.

Areas: the overflight corridor (the mean predicted ground track, ±50 km)
for overflights, the 95 % impact ellipse otherwise.

Non-ballistic tracks (``on_track(..., ballistic=False)``: a glide vehicle, a pull-up
manoeuvre) are never warned from their ballistic impact prediction, which a lifting or
manoeuvring vehicle does not follow. Their level comes from the heading corridor
(:mod:`trilink.warning.corridor`): land of the nation inside it → ``take_shelter``
("may pass over / may fall on"), with the corridor as the CAP area and no impact point
claimed; the warning lapses ``lost_after_s`` after the track was last given.

Every threshold is the policy's (:mod:`trilink.warning.policy`, shipped as
``trilink/data/warning_policy.yaml``); the module constants below are the shipped values.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from trilink.warning.assessment import Assessment, WarningLevel, assess
from trilink.warning.boost import BoostView, boost_corridor
from trilink.warning.cap import CapArea, CapMessage, corridor_polygon, ellipse_polygon
from trilink.warning.corridor import heading_corridor
from trilink.warning.path import PathWatch
from trilink.warning.policy import WarningPolicy, default_policy

F = NDArray[np.float64]
CORRIDOR_HALF_WIDTH_M = default_policy().corridor_half_width_m
IMPACT_MARGIN_S = default_policy().impact_margin_s
ALERT_CONFIRMATIONS = default_policy().alert_confirmations
POWERED_HOLD = default_policy().powered_hold
LOST_AFTER_S = default_policy().lost_after_s

_CAP_TERMS = {
    WarningLevel.TAKE_SHELTER: ("Immediate", "Extreme", "Likely"),
    WarningLevel.MARITIME_WARNING: ("Immediate", "Severe", "Likely"),
    WarningLevel.INFORMATIONAL: ("Expected", "Minor", "Possible"),
}
_HEADLINE = {
    WarningLevel.TAKE_SHELTER: "Missile launch: take shelter",
    WarningLevel.MARITIME_WARNING: "Missile launch: missile may fall in nearby waters",
    WarningLevel.INFORMATIONAL: "Missile launch: predicted to fall in the exclusive economic "
                                "zone",
}
_INSTRUCTION = {
    WarningLevel.TAKE_SHELTER: "Take shelter in a sturdy building or underground. Keep away "
                               "from windows.",
    WarningLevel.MARITIME_WARNING: "Vessels and aircraft: keep clear of the area; report "
                                   "debris, do not approach it.",
    WarningLevel.INFORMATIONAL: "No action needed on land. Vessels: report debris, do not "
                                "approach it.",
}


@dataclass
class _Warning:
    level: WarningLevel
    messages: list[CapMessage] = field(default_factory=list)
    issued_s: float = 0.0
    quiet: int = 0  # consecutive 'none' assessments
    non_ballistic: bool = False  # warned from the heading corridor, not an impact point
    boost: bool = False  # warned from the boost-phase heading fan, not an impact point


@dataclass(frozen=True)
class WarningEvent:
    """What the centre did at ``t_s``: the CAP message and the assessment behind it."""

    t_s: float
    track_id: str
    message: CapMessage
    assessment: Assessment


class WarningCenter:
    """One nation's warnings for every track it is given; see the module docstring."""

    def __init__(self, nation: str, epoch: dt.datetime, assess_every_s: float = 10.0,
                 status: str = "Exercise", sender: str | None = None,
                 policy: WarningPolicy | None = None) -> None:
        self.nation = nation
        self.policy = policy or default_policy()
        self.epoch = epoch
        self.assess_every_s = assess_every_s
        self.status = status
        self.sender = sender or f"trilink.{nation.lower()}"
        self._last: dict[str, float] = {}
        self._seen: dict[str, float] = {}  # last time each track was given
        self._latest: dict[str, Assessment] = {}
        self._pending: dict[str, int] = {}  # consecutive assessments above 'none'
        self._active: dict[str, _Warning] = {}
        self._counter = 0
        self._non_ballistic: set[str] = set()  # tracks last given as non-ballistic
        self._boost: dict[str, BoostView] = {}  # latest boost-phase view per track
        self._state: dict[str, tuple[float, F]] = {}  # last (t_s, x) given per track
        # Tracks whose own path showed a pull-up or glide (trilink.warning.path).
        self.path = PathWatch(self.policy.non_ballistic.detect)
        # Drill tracks (an announced exercise launch): their messages are Exercise, always.
        self.drill: dict[str, str] = {}
        self.history: list[WarningEvent] = []
        # Every assessment made, for reports (impact ellipses over time).
        self.assessments: list[tuple[str, Assessment]] = []

    def on_track(self, track_id: str, x: F, P: F, t_s: float,
                 powered_probability: float = 0.0, ballistic: bool = True
                 ) -> list[WarningEvent]:
        """Take a track's latest state; return any CAP messages it causes.

        ``ballistic=False`` marks a track that does not follow a ballistic arc (glide
        vehicle, pull-up): its level comes from the heading corridor, never from its
        ballistic impact prediction (see the module docstring). A caller that does not
        know leaves it True; the centre then judges from the track's own path
        (:class:`~trilink.warning.path.PathWatch`: a flight-path angle that rises after
        apogee), every state it is given.

        ``powered_probability``: the tracker's belief that the engines still burn. While
        it is at least :data:`POWERED_HOLD` the track is assessed (and recorded) but the
        warning state does not change: a burning missile's impact point only says where
        it would fall if the engines stopped now, and it sweeps downrange across every
        coast in its path (see the module docstring).
        """
        self._seen[track_id] = t_s
        self._state[track_id] = (t_s, np.asarray(x, dtype=np.float64))
        if self.path.observe(track_id, t_s, x, P, powered_probability,
                             self.policy.powered_hold):
            ballistic = False
        last = self._last.get(track_id)
        if last is not None and t_s - last < self.assess_every_s:
            return []
        self._last[track_id] = t_s
        a = assess(x, P, t_s, self.nation, self.policy)
        if not ballistic:
            a = self._corridor_assessment(a, x)
            self._non_ballistic.add(track_id)
        else:
            self._non_ballistic.discard(track_id)
        self._latest[track_id] = a
        self.assessments.append((track_id, a))
        # The hold is for burning engines sweeping a ballistic impact point downrange; a
        # non-ballistic track is warned from its heading, and a glider's lift reads to the
        # tracker as a powered mode.
        if powered_probability >= self.policy.powered_hold and ballistic:
            if not self.policy.boost.enabled:
                return []
            return self._on_boost(track_id, a, x, P)
        current = self._active.get(track_id)
        events: list[WarningEvent] = []
        passed = (a.level == WarningLevel.TAKE_SHELTER
                  and a.p_land < self.policy.levels.take_shelter.p_impact_land
                  and a.overflight_s is not None and a.overflight_s[1] < t_s)
        level = WarningLevel.NONE if passed else a.level
        if current is not None and current.boost and level == current.level:
            # Burnout: the ballistic view confirms the boost warning; the area narrows
            # from the heading fan to the predicted overflight (or impact) area.
            current.boost = False
            current.quiet = 0
            current.non_ballistic = not ballistic
            events.append(self._emit(track_id, a, current, "Update", level))
            self.history += events
            return events
        if current is None:
            # One assessment is not enough to alert (symmetric with the cancel rule):
            # a boost-phase prediction can sweep across a coast and back.
            seen = self._pending.get(track_id, 0) + 1 if level != WarningLevel.NONE else 0
            self._pending[track_id] = seen
            if seen >= self.policy.alert_confirmations:
                w = _Warning(level, issued_s=t_s, non_ballistic=not ballistic)
                self._active[track_id] = w
                events.append(self._emit(track_id, a, w, "Alert", level))
        elif level == WarningLevel.NONE:
            current.quiet += 1
            if current.quiet >= self.policy.cancel_confirmations:
                events.append(self._emit(track_id, a, current, "Cancel", current.level))
                del self._active[track_id]
                self._pending[track_id] = 0
        else:
            current.quiet = 0
            current.non_ballistic = not ballistic
            current.boost = False
            if level != current.level:
                current.level = level
                events.append(self._emit(track_id, a, current, "Update", level))
        self.history += events
        return events

    def _on_boost(self, track_id: str, ballistic_view: Assessment, x: F, P: F
                  ) -> list[WarningEvent]:
        """A boosting track: the heading fan may raise or keep a warning, never lift it."""
        view = boost_corridor(np.asarray(x, dtype=np.float64),
                              np.asarray(P, dtype=np.float64), self.nation,
                              self.policy.boost)
        level = WarningLevel.TAKE_SHELTER if view.warns else WarningLevel.NONE
        a = dataclasses.replace(ballistic_view, level=level, reason=view.why,
                                overflight_s=None, p_overflight=view.land_share,
                                ground_track_deg=view.centre_deg)
        self._latest[track_id] = a  # (the record keeps the ballistic view, as before)
        current = self._active.get(track_id)
        events: list[WarningEvent] = []
        if current is None:
            seen = self._pending.get(track_id, 0) + 1 if view.warns else 0
            self._pending[track_id] = seen
            if seen >= self.policy.alert_confirmations and \
                    self._boost_twin(track_id, a.t_s) is None:
                self._boost[track_id] = view
                w = _Warning(level, issued_s=a.t_s, boost=True)
                self._active[track_id] = w
                events.append(self._emit(track_id, a, w, "Alert", level))
        elif view.warns:
            current.quiet = 0
            if current.boost:
                self._boost[track_id] = view
            if level.rank > current.level.rank:
                self._boost[track_id] = view
                current.level, current.boost, current.non_ballistic = level, True, False
                events.append(self._emit(track_id, a, current, "Update", level))
        self.history += events
        return events

    def _boost_twin(self, track_id: str, t_s: float) -> str | None:
        """Another track under a boost warning that this one is taken to be the same
        missile as (``policy.boost.same_missile_m``): one missile, one public warning."""
        here = self._state[track_id][1]
        for other, w in self._active.items():
            if other == track_id or not w.boost or other not in self._state:
                continue
            t_other, x_other = self._state[other]
            there = x_other[:3] + x_other[3:6] * (t_s - t_other)
            if float(np.linalg.norm(here[:3] - there)) <= self.policy.boost.same_missile_m:
                return other
        return None

    def _corridor_assessment(self, a: Assessment, x: F) -> Assessment:
        """The assessment of a non-ballistic track: the heading corridor decides."""
        c = heading_corridor(np.asarray(x, dtype=np.float64), self.nation,
                             self.policy.non_ballistic)
        if c.land_share > 0.0 and c.first_land_m is not None:
            level = WarningLevel.TAKE_SHELTER
            why = (f"non-ballistic track: may pass over or fall on {self.nation} land "
                   f"{c.first_land_m / 1e3:.0f} km ahead (heading corridor)")
        else:
            level = WarningLevel.NONE
            why = f"non-ballistic track: no {self.nation} land in its heading corridor"
        return dataclasses.replace(a, level=level, reason=why, overflight_s=None,
                                   p_overflight=c.land_share, ground_track_deg=c.centre_deg)

    def expire(self, now_s: float, lost_after_s: float | None = None) -> list[WarningEvent]:
        """Cancel the warnings of tracks no longer given (see the module docstring).

        Each such warning lapses at the earlier of its predicted impact time (+3σ and a
        margin) and ``lost_after_s`` after its track was last given; the Cancel is sent
        at that moment, however late ``now_s`` notices it (``expire(math.inf)`` at the end
        of a run cancels everything still out at its own time).
        """
        lost_s = self.policy.lost_after_s if lost_after_s is None else lost_after_s
        events = []
        for track_id in list(self._active):
            a = self._latest[track_id]
            w = self._active[track_id]
            over_s = (np.inf if w.non_ballistic or w.boost else
                      a.impact.impact_t_s + 3.0 * a.impact.impact_t_sigma_s
                      + self.policy.impact_margin_s)
            lapse_s = max(min(over_s, self._seen[track_id] + lost_s), a.t_s)
            if now_s >= lapse_s:
                w = self._active.pop(track_id)
                self._pending[track_id] = 0
                events.append(self._emit(track_id, a, w, "Cancel", w.level, lapse_s))
        events.sort(key=lambda e: e.t_s)
        self.history += events
        return events

    def _emit(self, track_id: str, a: Assessment, w: _Warning, msg_type: str,
              level: WarningLevel, t_s: float | None = None) -> WarningEvent:
        self._counter += 1
        at_s = a.t_s if t_s is None else t_s
        sent = (self.epoch + dt.timedelta(seconds=at_s)).replace(microsecond=0)
        urgency, severity, certainty = _CAP_TERMS[level]
        if msg_type == "Cancel":
            urgency, severity, certainty = "Past", "Minor", "Observed"
        impact_at = self.epoch + dt.timedelta(seconds=a.impact.impact_t_s)
        if w.boost:
            description = (f"Track {track_id}: boost phase, engines burning; no impact "
                           f"point is predicted. {a.reason}.")
        elif w.non_ballistic:
            description = (f"Track {track_id}: non-ballistic flight; no impact point is "
                           f"predicted. {a.reason}.")
        else:
            description = (
                f"Track {track_id}: predicted impact {np.degrees(a.impact.lat_rad):.2f} N "
                f"{np.degrees(a.impact.lon_rad):.2f} E at {impact_at:%H:%M:%S} UTC; P(impact "
                f"on {self.nation} land) {a.p_land:.0%}, territorial sea "
                f"{a.p_territorial_sea:.0%}, zone {a.p_eez:.0%}; P(overflight) "
                f"{a.p_overflight:.0%}. {a.reason}."
            )
        msg = CapMessage(
            identifier=f"{self.nation}-{self._counter:05d}",
            sender=self.sender,
            sent=sent,
            msg_type=msg_type,
            event="Ballistic missile",
            urgency=urgency,
            severity=severity,
            certainty=certainty,
            status="Exercise" if track_id in self.drill else self.status,
            references=[m.reference for m in w.messages] if msg_type != "Alert" else [],
            category="Safety",
            headline=(("EXERCISE — " if track_id in self.drill else "")
                      + ("Missile warning lifted" if msg_type == "Cancel"
                         else _HEADLINE[level])),
            description=description,
            instruction=None if msg_type == "Cancel" else _INSTRUCTION[level],
            sender_name=f"{self.nation} national node (trilink simulation)",
            areas=self._areas(a, level, w.non_ballistic, self._boost.get(track_id)
                              if w.boost else None),
            parameters=[("trilink_track", track_id), ("trilink_level", str(level)),
                        *([("trilink_exercise", self.drill[track_id])]
                          if track_id in self.drill else [])],
        )
        w.messages.append(msg)
        return WarningEvent(at_s, track_id, msg, a)

    def _areas(self, a: Assessment, level: WarningLevel, non_ballistic: bool = False,
               boost: BoostView | None = None) -> list[CapArea]:
        areas = []
        if boost is not None and boost.polygon_deg:
            return [CapArea("Heading fan (boost phase): may pass over or fall on",
                            list(boost.polygon_deg))]
        if non_ballistic and a.ground_track_deg:
            lats = [p[0] for p in a.ground_track_deg]
            lons = [p[1] for p in a.ground_track_deg]
            return [CapArea("Heading corridor (non-ballistic flight)", corridor_polygon(
                lats, lons, self.policy.non_ballistic.corridor_half_width_m))]
        if level == WarningLevel.TAKE_SHELTER and a.overflight_s is not None and \
                a.ground_track_deg:
            lats = [p[0] for p in a.ground_track_deg]
            lons = [p[1] for p in a.ground_track_deg]
            areas.append(CapArea("Predicted overflight corridor", corridor_polygon(
                lats, lons, self.policy.corridor_half_width_m)))
        semi_major, semi_minor, azimuth = a.impact.ellipse_95()
        areas.append(CapArea("Predicted impact area (95 %)", ellipse_polygon(
            float(np.degrees(a.impact.lat_rad)), float(np.degrees(a.impact.lon_rad)),
            max(semi_major, 1000.0), max(semi_minor, 1000.0), float(np.degrees(azimuth)))))
        return areas

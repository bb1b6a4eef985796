"""Scenario files: YAML naming launches, nations, sensors and the sharing regime.

The schema is pydantic; errors are reported as ``FILE:LINE: field: problem`` using the
line of the offending YAML node, never as a traceback. Degrees and kilometres are
the units of the file (the edge); the library converts to radians and metres.

Beyond the launches a scenario may say what went wrong and what else was there
(docs/scenarios.md):

- ``launches[].failure``: the vehicle breaks up ``t_s`` seconds after lift-off; sensors
  lose it then, its debris fall on (:class:`trilink.sim.truth.Truth`);
- ``outages``: radars that report nothing (no detections, no false alarms) over a
  window of time — a radar down, or a lost track;
- ``sensors``: radars present in this scenario only (ships at stated positions), full
  :class:`~trilink.sensors.catalogue.RadarSpec` entries or ``based_on`` a catalogue radar;
- ``injects``: an exercise's events at set times — hotline requests, lost links;
- ``cyber``: a cyber campaign scripted across the nations (a shipped campaign such as
  ``bybit-2025-replay``, a campaign file, or the script itself in the one campaign format
  of :mod:`trilink.cyber.campaign`), replayed by `trilink run` under the run's regime.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from trilink.cyber.campaign import (
    CampaignSpec,
    load_campaign,
    shipped_campaign_path,
    shipped_campaigns,
)
from trilink.cyber.campaign import unknown_addresses as unknown_campaign_addresses
from trilink.datafile import FileInvalidError, FileProblem, Lines, line_of, parse_yaml_model
from trilink.nations import check_nation
from trilink.physics.missiles import MissileProfile, get_profile
from trilink.physics.trajectory import StepSizes
from trilink.sensors.catalogue import RadarSpec, sensor_catalogue

SCHEMA_VERSION = 1
MAX_FLIGHT_S = StepSizes().max_flight_s


# Times a run can carry: signed envelopes hold UTC nanoseconds since 1970 in 63 bits
# (to 2262-04-11); the end leaves room for a scenario's length after its last launch.
EARLIEST_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST_UTC = dt.datetime(2261, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
SPAN_TEXT = f"{EARLIEST_UTC:%Y-%m-%d} to {LATEST_UTC:%Y-%m-%d} UTC"


def _within_span(when: dt.datetime) -> None:
    if not EARLIEST_UTC <= when <= LATEST_UTC:
        raise ValueError(f"{when:%Y-%m-%d} is outside the supported span, {SPAN_TEXT}")


class _Model(BaseModel):
    # NaN and infinity are never a figure of a scenario: refused with the field's name.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Site(_Model):
    name: str = ""
    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: float = Field(ge=-180, le=360)
    height_m: float = Field(default=0.0, ge=-500, le=9000)


class Published(_Model):
    """What governments published about a launch, kept beside our figures."""

    apogee_km: float | None = None
    range_km: float | None = None
    flight_time_s: float | None = None
    figures_from: str = ""
    impact: str = ""
    public_warning: str = ""
    notes: str = ""


class Failure(_Model):
    """A launch failure: the vehicle breaks up ``t_s`` seconds after lift-off.

    From then on no sensor sees it (it has left the radar picture: many small, tumbling
    fragments below the detection threshold, or gone out of the track gates); the truth
    keeps the debris path to the ground, flown ballistically from the state at the
    breakup with ``debris_ballistic_coefficient_kg_m2`` (default: the profile's re-entry
    vehicle, the densest piece, which flies furthest). Whether ``t_s`` lies within the
    flight is checked once the flight is fitted (:func:`trilink.sim.flights.fly_scenarios`).
    """

    t_s: float = Field(gt=0, le=MAX_FLIGHT_S, description="seconds after launch (lift-off)")
    kind: Literal["breakup"] = "breakup"
    debris_ballistic_coefficient_kg_m2: float | None = Field(default=None, gt=0)
    note: str = ""


class Launch(_Model):
    id: str = Field(min_length=1)
    time_utc: dt.datetime
    site: Site
    missile: str
    apogee_km: float = Field(gt=0, le=10000)
    range_km: float = Field(gt=0, le=16000)
    azimuth_deg: float = Field(ge=0, lt=360, description="bearing from the site to the impact")
    payload_kg: float | None = Field(default=None, gt=0, description="overrides the profile's")
    apogee_assumed: bool = Field(
        default=False, description="true where the apogee is our assumption, not published"
    )
    cross_range_km: float | None = Field(
        default=None, allow_inf_nan=False, ge=-2000, le=2000,
        description="a glide vehicle's lateral movement, km right of its launch heading "
                    "(negative: left); the fit banks the glider to fly it")
    published: Published = Published()
    failure: Failure | None = None

    @field_validator("time_utc")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("time must carry a UTC offset, e.g. 2022-10-03T22:22:00Z")
        _within_span(value)
        return value.astimezone(dt.UTC)

    @field_validator("missile")
    @classmethod
    def _missile(cls, value: str) -> str:
        try:
            get_profile(value)
        except KeyError as exc:
            raise ValueError(str(exc.args[0])) from None
        return value

    @model_validator(mode="after")
    def _lateral_needs_lift(self) -> Launch:
        if self.cross_range_km is not None:
            if get_profile(self.missile).glide is None:
                raise ValueError(f"cross_range_km: {self.missile} is not a glide vehicle; a "
                                 "lateral movement needs lift")
            if not abs(self.cross_range_km) < self.range_km:
                raise ValueError(f"cross_range_km: expected less than the range "
                                 f"({self.range_km:g} km), got {self.cross_range_km:g}")
        return self

    def profile(self) -> MissileProfile:
        prof = get_profile(self.missile)
        if self.payload_kg is not None:
            prof = prof.model_copy(update={"payload_kg": self.payload_kg})
        return prof


@dataclass(frozen=True)
class _Context:
    """What a scenario file declares, for checks of its parts that refer to other parts."""

    nations: tuple[str, ...]
    launch_ids: frozenset[str]
    sensor_ids: tuple[str, ...]  # this scenario's own sensors, as written (repeats kept)


_CONTEXT: ContextVar[_Context | None] = ContextVar("trilink_scenario_context", default=None)


def _context_of(data: object) -> _Context:
    raw = data if isinstance(data, dict) else {}

    def items(key: str) -> list[dict[str, Any]]:
        value = raw.get(key)
        return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []

    nations = raw.get("nations", Scenario.model_fields["nations"].default)
    return _Context(
        nations=tuple(str(n) for n in nations) if isinstance(nations, list | tuple) else (),
        launch_ids=frozenset(str(x.get("id")) for x in items("launches")),
        sensor_ids=tuple(str(x.get("id")) for x in items("sensors")),
    )


@contextmanager
def _scenario_context(data: object) -> Iterator[None]:
    token = _CONTEXT.set(_context_of(data))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


class ScenarioRadar(RadarSpec):
    """A radar of this scenario only (a ship at a stated position, a temporary site).

    Either a full :class:`RadarSpec` entry, or ``based_on`` a catalogue radar: its
    specification with the fields the entry gives replacing the catalogue's (``id``
    never carries over; ``nation`` does, unless given).
    """

    based_on: str | None = Field(default=None, description="id of a catalogue radar")
    reference_site: str = Field(default="scenario sensor (not a row of the reference table)",
                                min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _merge_base(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("based_on") is None:
            return data
        base = sensor_catalogue().get(str(data["based_on"]))
        if not isinstance(base, RadarSpec):
            # Reported by _known_base; merge a template (of a nation of the scenario) so
            # that it is the only error.
            ctx = _CONTEXT.get()
            nations = ctx.nations if ctx is not None and ctx.nations else ("USA",)
            radars = [s for s in sensor_catalogue().values() if isinstance(s, RadarSpec)]
            base = next((s for s in radars if s.nation in nations), radars[0])
        merged = base.model_dump(exclude={"id"})
        merged.update(data)
        return merged

    @field_validator("id")
    @classmethod
    def _own_id(cls, value: str) -> str:
        if value in sensor_catalogue():
            raise ValueError(f"{value!r} is a catalogue sensor's id; give this scenario's "
                             "sensor an id of its own")
        ctx = _CONTEXT.get()
        if ctx is not None and ctx.sensor_ids.count(value) > 1:
            raise ValueError(f"sensor id {value!r} appears twice")
        return value

    @field_validator("nation")
    @classmethod
    def _scenario_nation(cls, value: str) -> str:
        return _in_scenario(value)

    @field_validator("based_on")
    @classmethod
    def _known_base(cls, value: str | None) -> str | None:
        if value is None:
            return value
        spec = sensor_catalogue().get(value)
        if not isinstance(spec, RadarSpec):
            radars = sorted(i for i, s in sensor_catalogue().items() if isinstance(s, RadarSpec))
            what = "not a radar" if spec is not None else "unknown sensor"
            raise ValueError(f"{what} {value!r}; expected a catalogue radar, one of "
                             + ", ".join(radars))
        return value


class Outage(_Model):
    """Radars that report nothing — no detections, no false alarms — over a window.

    ``sensors`` (ids: catalogue sensors or this scenario's) or ``nation`` (every radar of
    that nation, the scenario's own included). Times in seconds after the scenario epoch
    (its first launch), or after the launch named by ``after``; ``to_s`` omitted: until
    the end of the scenario. A scan at time t is silenced when from_s ≤ t < to_s.
    """

    sensors: tuple[str, ...] = ()
    nation: str | None = None
    after: str | None = Field(default=None, description="launch id the times count from")
    from_s: float = Field(allow_inf_nan=False, description="s after the epoch or `after`")
    to_s: float | None = Field(default=None, allow_inf_nan=False,
                               description="s after the epoch or `after`; None: to the end")
    reason: str = ""

    @field_validator("sensors")
    @classmethod
    def _known_sensors(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        ctx = _CONTEXT.get()
        own = ctx.sensor_ids if ctx is not None else ()
        for sid in value:
            if sid not in sensor_catalogue() and sid not in own:
                raise ValueError(
                    f"unknown sensor {sid!r}; expected an id of the sensor catalogue "
                    "(trilink/data/sensors.yaml) or of this scenario's sensors")
        if len(set(value)) != len(value):
            raise ValueError("a sensor is listed twice")
        return value

    @field_validator("nation")
    @classmethod
    def _known_nation(cls, value: str | None) -> str | None:
        # Any nation's radars can be down, a party's or not (the catalogue's nations).
        return None if value is None else check_nation(value, party=False)

    @field_validator("after")
    @classmethod
    def _known_launch(cls, value: str | None) -> str | None:
        return None if value is None else _a_launch(value)

    @field_validator("to_s")
    @classmethod
    def _after_start(cls, value: float | None, info: ValidationInfo) -> float | None:
        start = info.data.get("from_s")
        if value is not None and start is not None and value <= start:
            raise ValueError(f"must be after from_s ({start:g} s)")
        return value

    @model_validator(mode="after")
    def _one_target(self) -> Outage:
        if bool(self.sensors) == (self.nation is not None):
            raise ValueError("give either sensors (a list of ids) or nation, exactly one")
        return self

    def window_s(self, epoch: dt.datetime,
                 launches: tuple[Launch, ...]) -> tuple[float, float]:
        """[from, to) in seconds since ``epoch`` (to = +inf when open)."""
        if self.after is not None:
            start = next(x for x in launches if x.id == self.after).time_utc
        else:
            start = min(x.time_utc for x in launches)
        t0 = (start - epoch).total_seconds()
        end = math.inf if self.to_s is None else t0 + self.to_s
        return t0 + self.from_s, end


def _check_nation(value: str) -> str:
    # Scenario nations run nodes and sit in consultations: parties only (not PRK).
    return check_nation(value, party=True)


def _a_launch(launch_id: str) -> str:
    """``launch_id`` if the file being read has that launch, else the error naming them."""
    ctx = _CONTEXT.get()
    if ctx is not None and launch_id not in ctx.launch_ids:
        raise ValueError(f"no launch {launch_id!r} in this scenario; expected one of "
                         + ", ".join(sorted(ctx.launch_ids)))
    return launch_id


def _in_scenario(code: str) -> str:
    """``code`` if it is one of the scenario's nations (when the file being read lists
    them), else the error that says which they are."""
    ctx = _CONTEXT.get()
    if ctx is not None and ctx.nations and code not in ctx.nations:
        raise ValueError(f"{code} is not one of this scenario's nations ("
                         + ", ".join(ctx.nations) + ")")
    return code


AuthorityName = Literal["joint_staff", "defence_ministry", "foreign_ministry", "nsa",
                        "leader_office"]


class DelaySpec(_Model):
    """A log-normal response time: its median (s) and the spread of its log."""

    median_s: float = Field(gt=0, allow_inf_nan=False)
    sigma: float = Field(default=0.5, ge=0, le=3)


class ResponseSpec(_Model):
    """How a nation's simulated authorities respond (omitted fields: the defaults of
    :class:`trilink.hotline.simulated.ResponseModel`)."""

    read: DelaySpec | None = None
    join: DelaySpec | None = None
    draft: DelaySpec | None = None
    approve: DelaySpec | None = None
    conclude: DelaySpec | None = None
    amend_probability: float | None = Field(default=None, ge=0, le=1)
    decline_probability: float | None = Field(default=None, ge=0, le=1)
    unavailable: dict[AuthorityName, float] | None = Field(
        default=None, description="authority → probability it never answers a consultation")

    @field_validator("unavailable")
    @classmethod
    def _probabilities(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        for name, p in (value or {}).items():
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name}: probability {p!r} not within 0…1")
        return value


class ConsentRuleSpec(_Model):
    tag: str = Field(min_length=1)
    requires: tuple[str, ...] = Field(min_length=1)
    note: str = ""

    @field_validator("requires")
    @classmethod
    def _nations(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_nation(n) for n in value)


class HotlineSpec(_Model):
    """The crisis hotline in this scenario (docs/hotline.md)."""

    enabled: bool = True
    authority: AuthorityName = "defence_ministry"
    ack_deadline_s: float = Field(default=120.0, gt=0, allow_inf_nan=False)
    lapse_after_s: float = Field(default=6 * 3600.0, gt=0, allow_inf_nan=False)
    any_launch: bool = Field(default=False, description="every ballistic launch opens one")
    min_range_km: float | None = Field(default=None, gt=0)
    statement: bool = Field(default=True, description="draft a joint statement")
    statement_text: str | None = None
    response: ResponseSpec = ResponseSpec()
    nations: dict[str, ResponseSpec] = Field(default_factory=dict)
    consent_rules: tuple[ConsentRuleSpec, ...] = ()

    @field_validator("nations")
    @classmethod
    def _known(cls, value: dict[str, ResponseSpec]) -> dict[str, ResponseSpec]:
        for code in value:
            _check_nation(code)
        return value


class AnnouncedSpec(_Model):
    """A launch an exercise announced (its own targets): site, radius and time window.
    Tracks from it are drills — warned, scored, and marked CAP Exercise, never Actual."""

    label: str = Field(min_length=1, max_length=120)
    lat_deg: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon_deg: float = Field(ge=-180, le=360, allow_inf_nan=False)
    radius_km: float = Field(gt=0, le=500, allow_inf_nan=False)
    from_utc: dt.datetime
    to_utc: dt.datetime
    source: str = ""

    @model_validator(mode="after")
    def _window(self) -> AnnouncedSpec:
        if self.from_utc.tzinfo is None or self.to_utc.tzinfo is None:
            raise ValueError("from_utc and to_utc need a UTC offset (e.g. 2024-08-06T19:55:00Z)")
        if self.to_utc < self.from_utc:
            raise ValueError("to_utc comes before from_utc")
        return self


class HotlineRequestInject(_Model):
    """An exercise inject: at a set time one nation's authority asks its partners for a
    consultation over the hotline (the drill's "hotline request"); the simulated
    authorities answer it as any other. Times in seconds after the scenario epoch (its
    first launch), or after the launch named by ``after``. The simulation applies it at
    the nation's first event at or after that time."""

    kind: Literal["hotline_request"]
    nation: str
    at_s: float = Field(ge=0, allow_inf_nan=False, description="s after the epoch or `after`")
    after: str | None = Field(default=None, description="launch id the time counts from")
    parties: tuple[str, ...] = Field(default=(), description="default: every other nation")
    authority: AuthorityName = "defence_ministry"
    topic: str = Field(min_length=1, max_length=200)

    @field_validator("nation")
    @classmethod
    def _party(cls, value: str) -> str:
        value = _check_nation(value)
        return _in_scenario(value)

    @field_validator("parties")
    @classmethod
    def _parties(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            _in_scenario(_check_nation(code))
        return value

    @field_validator("after")
    @classmethod
    def _known_launch(cls, value: str | None) -> str | None:
        return None if value is None else _a_launch(value)

    def time_s(self, epoch: dt.datetime, launches: tuple[Launch, ...]) -> float:
        """When it is due, in seconds since ``epoch``."""
        return _inject_time_s(self.at_s, self.after, epoch, launches)


def _inject_time_s(at_s: float, after: str | None, epoch: dt.datetime,
                   launches: tuple[Launch, ...]) -> float:
    start = (next(x for x in launches if x.id == after).time_utc
             if after is not None else min(x.time_utc for x in launches))
    return (start - epoch).total_seconds() + at_s


class LostLinkInject(_Model):
    """An exercise inject: the link between two nations (or between one nation and all
    its partners) is lost from a set time for a duration. Messages due on it meanwhile,
    either way, are held — JetStream keeps them — and arrive when the link returns; the
    nodes see silence, then the backlog. Times as for :class:`HotlineRequestInject`."""

    kind: Literal["lost_link"]
    between: tuple[str, ...] = Field(
        min_length=1, max_length=2, description="two nations, or one: all its links")
    at_s: float = Field(ge=0, allow_inf_nan=False, description="s after the epoch or `after`")
    after: str | None = Field(default=None, description="launch id the time counts from")
    duration_s: float = Field(gt=0, allow_inf_nan=False, description="how long it is lost")
    reason: str = ""

    @field_validator("between")
    @classmethod
    def _nations(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            _in_scenario(_check_nation(code))
        if len(set(value)) != len(value):
            raise ValueError("a nation is listed twice")
        return value

    @field_validator("after")
    @classmethod
    def _known_launch(cls, value: str | None) -> str | None:
        return HotlineRequestInject._known_launch(value)

    def window_s(self, epoch: dt.datetime,
                 launches: tuple[Launch, ...]) -> tuple[float, float]:
        """[from, to) in seconds since ``epoch``."""
        start = _inject_time_s(self.at_s, self.after, epoch, launches)
        return start, start + self.duration_s


# `kind` picks the model; error paths leave the tag out (see Scenario._checked_in_context).
Inject = Annotated[HotlineRequestInject | LostLinkInject, Field(discriminator="kind")]
_INJECT_KINDS = frozenset({"hotline_request", "lost_link"})


class ScenarioCyber(_Model):
    """A cyber campaign across the nations (docs/cyber.md): ``campaign``, a shipped
    campaign's id (``trilink/data/cyber/<id>.yaml``) or a campaign file (relative to the
    scenario's folder), or ``script``, the campaign itself (the ``cyber:`` body of a
    campaign file). `trilink run` replays it under the run's regime
    (:func:`trilink.cyber.campaign.campaign_policy`), or under ``regime`` when given (a
    cyber regime such as ``cyber-bilateral-2023``; ``--regime`` overrides both)."""

    campaign: str | None = Field(default=None, min_length=1)
    script: CampaignSpec | None = None
    regime: str | None = Field(default=None, min_length=1,
                               description="a cyber regime id or regime file")

    @model_validator(mode="after")
    def _one(self) -> ScenarioCyber:
        if (self.campaign is None) == (self.script is None):
            raise ValueError("give exactly one of `campaign` (a shipped campaign id or a "
                             "campaign file) or `script` (the campaign itself)")
        return self


class Scenario(_Model):
    schema_version: Literal[1] = 1
    id: str = Field(min_length=1)
    title: str
    description: str = ""
    nations: tuple[str, ...] = ("USA", "JPN", "KOR")
    regime: str | None = Field(default=None, description="named sharing regime (later issues)")
    date: dt.date | None = Field(default=None, description="agreements in force on this date")
    launches: tuple[Launch, ...] = Field(min_length=1)
    sensors: tuple[ScenarioRadar, ...] = Field(
        default=(), description="radars of this scenario only, besides the catalogue's")
    outages: tuple[Outage, ...] = ()
    hotline: HotlineSpec = HotlineSpec()
    announced_launches: tuple[AnnouncedSpec, ...] = Field(
        default=(), description="an exercise's own launches: drills, never real threats")
    injects: tuple[Inject, ...] = Field(
        default=(), description="an exercise's injects at set times (hotline requests, "
        "lost links)")
    cyber: ScenarioCyber | None = Field(
        default=None, description="a cyber campaign scripted across the nations")
    sources: tuple[str, ...] = ()
    # Where the scenario was read from (path and node lines), for errors found later.
    _source: tuple[str, Lines] | None = PrivateAttr(default=None)
    _campaign: CampaignSpec | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _checked_in_context(cls, data: Any,
                            handler: ModelWrapValidatorHandler[Scenario]) -> Scenario:
        with _scenario_context(data):
            try:
                return handler(data)
            except ValidationError as exc:
                raise _untagged(exc) from None

    @field_validator("nations")
    @classmethod
    def _nations(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            _check_nation(code)
        if len(set(value)) != len(value):
            raise ValueError("a nation is listed twice")
        return value

    @field_validator("date")
    @classmethod
    def _date_in_span(cls, value: dt.date | None) -> dt.date | None:
        if value is not None:
            _within_span(dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC))
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> Scenario:
        seen: set[str] = set()
        for launch in self.launches:
            if launch.id in seen:
                raise ValueError(f"launch id {launch.id!r} appears twice")
            seen.add(launch.id)
        return self

    @property
    def epoch(self) -> dt.datetime:
        """The scenario epoch: its first launch (UTC)."""
        return min(x.time_utc for x in self.launches)

    def cyber_campaign(self) -> CampaignSpec | None:
        """The scenario's cyber campaign, resolved and checked (None without a ``cyber``
        section); raises :class:`ScenarioInvalidError` naming the section's line."""
        if self.cyber is None:
            return None
        if self._campaign is None:
            spec, problems = self._resolve_campaign(self.cyber)
            if problems:
                raise ScenarioInvalidError(problems)
            self._campaign = spec
        return self._campaign

    def cyber_campaign_name(self) -> str:
        """Where the campaign came from: its id or file as written, or this scenario."""
        if self.cyber is None:
            return ""
        return self.cyber.campaign or f"{self.id} (scripted in the scenario)"

    def _resolve_campaign(self, cyber: ScenarioCyber
                          ) -> tuple[CampaignSpec | None, list[FileProblem]]:
        from trilink.cyber.regimes import cyber_policy
        from trilink.sharing.agreements import AgreementInvalidError

        problems: list[FileProblem] = []
        spec = cyber.script
        where: tuple[str | int, ...] = ("cyber", "script")
        if cyber.campaign is not None:
            where = ("cyber", "campaign")
            spec = None
            path = Path(cyber.campaign)
            if not path.is_absolute() and self._source is not None:
                path = Path(self._source[0]).parent / path
            found = path if path.is_file() else shipped_campaign_path(cyber.campaign)
            if found is None:
                problems.append(self.problem(where, f"no campaign file {cyber.campaign!r} and "
                                             "no shipped campaign of that id (shipped: "
                                             + ", ".join(shipped_campaigns()) + ")"))
            else:
                try:
                    spec = load_campaign(found)
                except FileInvalidError as exc:
                    more = f" (and {len(exc.errors) - 1} more)" if len(exc.errors) > 1 else ""
                    problems.append(self.problem(where, f"{exc.errors[0]}{more}"))
        elif spec is not None:
            problems += [self.problem((*where, *loc), why)
                         for loc, why in unknown_campaign_addresses(spec)]
        outside = [(i, ev.nation) for i, ev in enumerate(spec.events)
                   if ev.nation not in self.nations] if spec is not None else []
        ours = ", ".join(self.nations)
        if cyber.script is not None:
            problems += [self.problem((*where, "events", i, "nation"),
                                      f"{n} is not one of this scenario's nations ({ours})")
                         for i, n in outside]
        elif outside:  # one line for a file the scenario only names
            problems.append(self.problem(where, (
                "events by " + ", ".join(sorted({n for _, n in outside}))
                + f" (events {', '.join(str(i) for i, _ in outside)}), not one of this "
                f"scenario's nations ({ours})")))
        if cyber.regime is not None:
            try:
                cyber_policy(cyber.regime)
            except AgreementInvalidError as exc:
                problems.append(self.problem(("cyber", "regime"), exc.errors[0].problem))
        return spec, problems

    def problem(self, loc: tuple[str | int, ...], message: str) -> FileProblem:
        """A ``FILE:LINE: field: problem`` for a node of this scenario's file (found after
        parsing, e.g. once its flights are fitted)."""
        field = ".".join(str(p) for p in loc)
        if self._source is None:
            return FileProblem(f"<scenario {self.id}>", 0, field, message)
        path, lines = self._source
        return FileProblem(path, line_of(lines, loc), field, message)


def _untagged(exc: ValidationError) -> ValidationError:
    """``exc`` with the inject kind left out of its paths (``injects.0.parties``, not
    ``injects.0.hotline_request.parties``): the path names the file's nodes, for its line."""
    errors = exc.errors(include_url=False)

    def tagged(loc: tuple[int | str, ...]) -> bool:
        return len(loc) > 2 and loc[0] == "injects" and loc[2] in _INJECT_KINDS

    if not any(tagged(tuple(e["loc"])) for e in errors):
        return exc
    details: list[InitErrorDetails] = []
    for e in errors:
        loc = tuple(e["loc"])
        d = InitErrorDetails(type=e["type"], loc=loc[:2] + loc[3:] if tagged(loc) else loc,
                             input=e["input"])
        if "ctx" in e:
            d["ctx"] = e["ctx"]
        details.append(d)
    return ValidationError.from_exception_data(exc.title, details)


ScenarioProblem = FileProblem


class ScenarioInvalidError(FileInvalidError):
    """A scenario file failed validation (see :class:`trilink.datafile.FileProblem`)."""


def parse_scenario(text: str, path: str = "<scenario>") -> Scenario:
    """Parse and validate scenario YAML; raises :class:`ScenarioInvalidError` with every error."""
    scenario, lines = parse_yaml_model(text, path, Scenario, ScenarioInvalidError)
    scenario._source = (path, lines)
    scenario.cyber_campaign()  # a campaign it names or scripts is checked with the file
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario from a file path, or a shipped scenario by its id."""
    p = Path(path)
    if not p.exists():
        shipped = shipped_scenario_path(str(path))
        if shipped is None:
            raise ScenarioInvalidError(
                [ScenarioProblem(str(path), 0, "(file)", "no such file and no shipped scenario")]
            )
        p = shipped
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioInvalidError([ScenarioProblem(str(p), 0, "(file)", str(exc))]) from None
    return parse_scenario(text, str(p))


def shipped_scenarios() -> list[str]:
    """Ids of the scenarios shipped inside the package."""
    folder = resources.files("trilink.scenarios")
    return sorted(
        f.name.removesuffix(".yaml") for f in folder.iterdir() if f.name.endswith(".yaml")
    )


def shipped_scenario_path(scenario_id: str) -> Path | None:
    candidate = resources.files("trilink.scenarios").joinpath(f"{scenario_id}.yaml")
    path = Path(str(candidate))
    return path if path.is_file() else None

"""A scripted cyber campaign across the nations: a sidecar YAML with a ``cyber:`` section
(see ``trilink/data/cyber/bybit-2025-replay.yaml``), and its replay through three books.

Events, at ``t_s`` seconds after ``epoch``: ``detect`` (a nation's analysts publish the
corpus indicator of an address) and ``sight`` (a nation publishes a STIX sighting of it).
Delivery follows each regime's routes: a share reaches its recipient after the route's
latency (direct, or through a relay with its delay) when TLP and the agreements allow.
Bad files raise :class:`~trilink.datafile.FileInvalidError` (``FILE:LINE: field: problem``).

A scenario may script a campaign too (its ``cyber:`` section, :mod:`trilink.sim.scenario`):
`trilink run` replays it with :func:`run_campaign` under the run's regime
(:func:`campaign_policy`) and puts :func:`campaign_record` in ``record.json`` and
:func:`campaign_summary` in ``summary.json``. The models below stay light to import (a
scenario file uses them); the books (stix2-validator) load only for a replay.
"""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trilink.cyber.corpus import Corpus, shipped_corpus
from trilink.cyber.identity import nation_identity_id, stable_id
from trilink.cyber.rules import cyber_route
from trilink.cyber.store import taxii_time
from trilink.cyber.tlp import TLP2_IDS, Tlp, level_of
from trilink.datafile import FileInvalidError, FileProblem, line_of, parse_yaml_model
from trilink.sharing.policy import Denied, Policy, Relay, Route
from trilink.sharing.releasability import check_nation

if TYPE_CHECKING:  # the books pull in stix2-validator: imported where a replay runs
    from trilink.cyber.book import BookOutput, CyberAlert, CyberBook, CyberEvent, Share


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CampaignEvent(_M):
    t_s: float = Field(ge=0)
    nation: str
    detect: str | None = None
    sight: str | None = None
    tlp: str = "amber"
    rel_to: tuple[str, ...] = ()
    count: int = Field(default=1, ge=1, le=1_000_000)
    note: str = ""

    @model_validator(mode="after")
    def _one(self) -> CampaignEvent:
        check_nation(self.nation)
        for n in self.rel_to:
            check_nation(n)
        if (self.detect is None) == (self.sight is None):
            raise ValueError("give exactly one of `detect` or `sight`")
        Tlp.parse(self.tlp)
        return self

    @property
    def action(self) -> Literal["detect", "sight"]:
        return "detect" if self.detect is not None else "sight"

    @property
    def address(self) -> str:
        return self.detect or self.sight or ""

    @property
    def scripted(self) -> bool:
        """True unless the note says the event is from the record (``record: …``)."""
        return not self.note.strip().lower().startswith("record")


class CampaignSpec(_M):
    name: str
    epoch: dt.datetime
    simulated: str = Field(min_length=1, description="what in the script is not the record")
    sources: tuple[str, ...] = ()
    events: tuple[CampaignEvent, ...] = Field(min_length=1)


class CampaignFile(_M):
    cyber: CampaignSpec


def unknown_addresses(spec: CampaignSpec) -> list[tuple[tuple[str | int, ...], str]]:
    """(path of the event's field, problem) for every event whose address is not one of
    the shipped corpus's indicators."""
    corpus = shipped_corpus()
    out: list[tuple[tuple[str | int, ...], str]] = []
    for i, ev in enumerate(spec.events):
        try:
            corpus.indicator_for(ev.address)
        except KeyError:
            out.append((("events", i, ev.action),
                        f"{ev.address} is not an address of the corpus (trilink cyber export "
                        "lists them)"))
    return out


def load_campaign(path: str | Path) -> CampaignSpec:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FileInvalidError([FileProblem(str(p), 0, "(file)", str(exc))]) from None
    doc, lines = parse_yaml_model(text, str(p), CampaignFile, FileInvalidError)
    spec = doc.cyber
    problems = [FileProblem(str(p), line_of(lines, ("cyber", *loc)),
                            ".".join(str(x) for x in ("cyber", *loc)), why)
                for loc, why in unknown_addresses(spec)]
    if problems:
        raise FileInvalidError(problems)
    return spec


def _campaigns_dir() -> Path:
    from importlib import resources

    return Path(str(resources.files("trilink.data").joinpath("cyber")))


_NOT_CAMPAIGNS = ("thefts",)  # the corpus's data file sits beside the campaigns


def shipped_campaigns() -> list[str]:
    """Ids of the shipped campaigns (``trilink/data/cyber/<id>.yaml``)."""
    return sorted(p.stem for p in _campaigns_dir().glob("*.yaml")
                  if p.stem not in _NOT_CAMPAIGNS)


def shipped_campaign_path(campaign_id: str) -> Path | None:
    """The shipped campaign file of ``campaign_id``, or None."""
    return (_campaigns_dir() / f"{campaign_id}.yaml"
            if campaign_id in shipped_campaigns() else None)


@dataclass
class Replay:
    """What happened in one regime: when each nation first held each indicator, the
    alerts raised, and every book."""

    regime: str
    learned_s: dict[str, dict[str, float]] = field(default_factory=dict)
    alerts: list[CyberAlert] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)
    books: dict[str, CyberBook] = field(default_factory=dict)
    # nation → object id → the nation it first came from (itself for its own)
    learned_from: dict[str, dict[str, str]] = field(default_factory=dict)
    # every event of every book, in the order the books raised them
    events: list[CyberEvent] = field(default_factory=list)


def _objects_for(ev: CampaignEvent, corpus: Corpus, n: int,
                 epoch: dt.datetime) -> list[dict[str, Any]]:
    base = corpus.indicator_for(ev.address)
    level = Tlp.parse(ev.tlp)
    if ev.action == "detect":
        ind = {**base, "object_marking_refs": [TLP2_IDS[level]],
               "created_by_ref": nation_identity_id(ev.nation)}
        return [ind]
    # seen when the script says (the correlation reports who saw it first)
    seen = taxii_time(max(epoch + dt.timedelta(seconds=ev.t_s),
                          dt.datetime.fromisoformat(base["valid_from"].replace("Z", "+00:00"))))
    return [{"type": "sighting", "spec_version": "2.1",
             "id": stable_id("sighting", ev.nation, base["id"], str(n)),
             "created": base["created"], "modified": base["created"],
             "first_seen": seen, "last_seen": seen,
             "count": ev.count, "sighting_of_ref": base["id"],
             "where_sighted_refs": [nation_identity_id(ev.nation)],
             "created_by_ref": nation_identity_id(ev.nation),
             "object_marking_refs": [TLP2_IDS[level]]}]


def replay(spec: CampaignSpec, policy: Policy, nations: tuple[str, ...] = ("USA", "JPN", "KOR"),
           corpus: Corpus | None = None) -> Replay:
    """Run the campaign through one book per nation under ``policy``."""
    from trilink.cyber.book import CyberAlert, CyberBook

    corpus = corpus or shipped_corpus()
    books = {n: CyberBook(n, nations, policy, spec.epoch) for n in nations}
    out = Replay(policy.name, books=books)
    queue: list[tuple[float, int, str, Share, str, Route]] = []
    seq = 0

    def learn(nation: str, objs: list[str], t_s: float, origin: str) -> None:
        for oid in objs:
            if oid not in out.learned_s.setdefault(nation, {}):
                out.learned_s[nation][oid] = t_s
                out.learned_from.setdefault(nation, {})[oid] = origin

    def emit(nation: str, result: BookOutput, t_s: float) -> None:
        nonlocal seq
        out.events += result.events
        out.alerts += [e for e in result.events if isinstance(e, CyberAlert)]
        for share in result.shares:
            route = cyber_route(policy, nation, share.to, books[nation].at(t_s), share.tlp,
                                share.rel_to, nation)
            if isinstance(route, Denied):  # the book already filtered; kept as a guard
                out.withheld.append(f"{nation}->{share.to}: {route.reason}")
                continue
            heapq.heappush(queue, (t_s + route.latency_s, seq, share.to, share, nation,
                                   route))
            seq += 1

    timeline = sorted(enumerate(spec.events), key=lambda ie: (ie[1].t_s, ie[0]))
    for i, ev in timeline:
        while queue and queue[0][0] <= ev.t_s:
            _deliver(queue, books, learn, emit)
        objs = _objects_for(ev, corpus, i, spec.epoch)
        result = books[ev.nation].publish(objs, ev.rel_to or nations, ev.t_s)
        learn(ev.nation, [o["id"] for o in objs], ev.t_s, ev.nation)
        emit(ev.nation, result, ev.t_s)
    while queue:
        _deliver(queue, books, learn, emit)
    return out


def _deliver(queue: list[tuple[float, int, str, Share, str, Route]],
             books: dict[str, CyberBook], learn: Any, emit: Any) -> None:
    from trilink.cyber.book import ObjectsStored

    t_s, _, to, share, sender, route = heapq.heappop(queue)
    # a relayed share arrives from the hub, as the receiver's check expects
    via = (route.via,) if isinstance(route, Relay) else ()
    result = books[to].receive(share.payload, originator=sender,
                               sender=via[-1] if via else sender, via=via,
                               rel_to=share.rel_to, now_s=t_s)
    stored = [i for e in result.events if isinstance(e, ObjectsStored) and e.nation == to
              for i in e.object_ids]
    learn(to, stored, t_s, sender)
    emit(to, result, t_s)


def cyber_value_of_sharing(spec: CampaignSpec, regimes: dict[str, Policy],
                           baseline: str | None = None) -> dict[str, Any]:
    """How much earlier each nation learns each indicator under each regime.

    Returns ``{"campaign", "simulated", "regimes": {regime: {nation: {indicator: {
    "learned_s", "earlier_by_s"}}}}, "alerts": {regime: [...]}}``; ``learned_s`` is None
    when the nation never learns it, ``earlier_by_s`` is against ``baseline`` (a regime
    name; default: no sharing at all, i.e. each nation's own detections), None when the
    baseline never learns it and the regime does (``"never without sharing"``).
    """
    replays = {name: replay(spec, pol) for name, pol in regimes.items()}
    corpus = shipped_corpus()
    indicators = sorted({corpus.indicator_for(ev.address)["id"] for ev in spec.events})
    own: dict[str, dict[str, float]] = {}
    for ev in spec.events:
        if ev.action == "detect":
            iid = corpus.indicator_for(ev.address)["id"]
            own.setdefault(ev.nation, {}).setdefault(iid, ev.t_s)
    base = replays[baseline].learned_s if baseline is not None else own
    nations = sorted({ev.nation for ev in spec.events} | {"USA", "JPN", "KOR"})
    table: dict[str, Any] = {}
    for name, rep in replays.items():
        table[name] = {}
        for n in nations:
            row: dict[str, Any] = {}
            for iid in indicators:
                got = rep.learned_s.get(n, {}).get(iid)
                ref = base.get(n, {}).get(iid)
                row[iid] = {"learned_s": got,
                            "earlier_by_s": (ref - got) if got is not None and ref is not None
                            else None,
                            "only_by_sharing": got is not None and ref is None}
            table[name][n] = row
    return {"campaign": spec.name, "simulated": spec.simulated,
            "epoch": taxii_time(spec.epoch), "baseline": baseline or "own detections only",
            "indicators": indicators, "regimes": table,
            "alerts": {name: [{"at": a.nation, "t_s": a.t_s, "indicator": a.correlation
                               .indicator_id, "who": list(a.correlation.who),
                               "shared_with": list(a.shared_with)} for a in rep.alerts]
                       for name, rep in replays.items()}}


def tlp_of(obj: dict[str, Any]) -> Tlp:
    return level_of(obj)


# ------------------------------------------------------------- a campaign in `trilink run`


def cyber_agreement_files() -> tuple[str, ...]:
    """The cyber agreements of the record (what the shipped cyber regimes ``include``,
    relative to the agreements folder; hypothetical examples are not among them)."""
    from trilink.cyber.regimes import cyber_regimes, cyber_regimes_dir
    from trilink.sharing.agreements import load_regime

    return tuple(sorted({f for r in cyber_regimes()
                         for f in load_regime(cyber_regimes_dir() / f"{r}.yaml").include}))


def campaign_policy(policy: Policy) -> Policy:
    """The run's policy for its cyber campaign: the same agreements, read at the same
    instant. A regime that takes the whole shipped record (the record of a date,
    ``historical``, ``trilateral-realtime`` …) takes the cyber part of the record with it
    (:func:`cyber_agreement_files`); a regime that picks its agreements
    (``national-only``, ``bilateral-us`` …) is kept exactly as it is."""
    from trilink.sharing.agreements import load_agreements, shipped_agreements_dir

    have = {a.id for a in policy.agreements}
    if not {a.id for a in load_agreements()} <= have:
        return policy
    folder = shipped_agreements_dir()
    extra = [a for a in load_agreements([folder / f for f in cyber_agreement_files()])
             if a.id not in have]
    if not extra:
        return policy
    return Policy((*policy.agreements, *extra), as_of=policy.as_of,
                  ignore_events=policy.ignore_events, relay_delay_s=policy.relay_delay_s,
                  name=f"{policy.name} with the cyber agreements")


def _t(t_s: float | None) -> float | None:
    return None if t_s is None else round(float(t_s), 1)


def run_campaign(spec: CampaignSpec, policy: Policy, nations: tuple[str, ...],
                 campaign: str) -> dict[str, Any]:
    """Replay ``spec`` through one book per nation under ``policy`` (:func:`replay`) and
    describe it for ``record.json`` (layout in :mod:`trilink.sim.record`); ``campaign``
    names where the script came from (a campaign id, a file, or the scenario itself)."""
    from trilink.cyber.book import ObjectsStored, Refused, Withheld

    rep = replay(spec, policy, nations)
    corpus = shipped_corpus()
    indicators: dict[str, dict[str, str]] = {}
    for ev in spec.events:
        ind = corpus.indicator_for(ev.address)
        indicators.setdefault(str(ind["id"]), {"id": str(ind["id"]), "address": ev.address,
                                               "name": str(ind.get("name", ""))})
    events = [{"t_s": _t(ev.t_s), "nation": ev.nation, "action": ev.action,
               "address": ev.address, "indicator": str(corpus.indicator_for(ev.address)["id"]),
               "tlp": Tlp.parse(ev.tlp).label, "rel_to": list(ev.rel_to or nations),
               "count": ev.count, "note": ev.note, "scripted": ev.scripted}
              for ev in spec.events]
    learned = [{"nation": n, "indicator": iid,
                "t_s": _t(rep.learned_s.get(n, {}).get(iid)),
                "from": rep.learned_from.get(n, {}).get(iid)}
               for n in nations for iid in indicators]
    withheld = [{"t_s": _t(e.t_s), "from": e.nation, "to": e.to,
                 "objects": list(e.object_ids), "reason": e.reason}
                for e in rep.events if isinstance(e, Withheld)]
    refused = [{"t_s": _t(e.t_s), "nation": e.nation, "origin": e.origin,
                "problems": list(e.problems)}
               for e in rep.events if isinstance(e, Refused)]
    stored = sum(len(e.object_ids) for e in rep.events if isinstance(e, ObjectsStored))
    alerts = [{"t_s": _t(a.t_s), "at": a.nation, "indicator": a.correlation.indicator_id,
               "who": list(a.correlation.who), "noticed_by": a.correlation.noticed_by,
               "sightings": [{"nation": s.nation, "first_seen_utc": taxii_time(s.first_seen),
                              "count": s.count} for s in a.correlation.nations],
               "audience": sorted(a.correlation.audience), "tlp": a.correlation.tlp.label,
               "shared_with": list(a.shared_with)}
              for a in rep.alerts]
    return {"campaign": campaign, "name": spec.name, "simulated": spec.simulated,
            "epoch_utc": spec.epoch.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "regime": policy.name, "time_origin": CAMPAIGN_TIME_ORIGIN,
            "nations": list(nations), "sources": list(spec.sources),
            "indicators": list(indicators.values()), "events": events, "learned": learned,
            "objects_stored": stored, "withheld": withheld, "refused": refused,
            "alerts": alerts}


CAMPAIGN_TIME_ORIGIN = "seconds after the campaign's epoch (its epoch_utc, UTC)"


def campaign_summary(record: dict[str, Any]) -> dict[str, Any]:
    """The per-nation figures of a campaign (``summary.json``'s ``cyber``), from
    :func:`run_campaign`'s record: when each nation first held each indicator (keyed by
    address) and from whom, its own first detection, the correlations it saw and the
    alerts raised at it."""
    address = {i["id"]: i["address"] for i in record["indicators"]}
    nations: dict[str, Any] = {}
    for n in record["nations"]:
        own = {a: min((e["t_s"] for e in record["events"] if e["nation"] == n
                       and e["action"] == "detect" and e["address"] == a), default=None)
               for a in address.values()}
        mine = [a for a in record["alerts"] if a["at"] == n]
        nations[n] = {
            "learned_s": {address[r["indicator"]]: r["t_s"] for r in record["learned"]
                          if r["nation"] == n},
            "learned_from": {address[r["indicator"]]: r["from"] for r in record["learned"]
                             if r["nation"] == n},
            "own_detection_s": own,
            "correlations": sorted({address.get(a["indicator"], a["indicator"])
                                    for a in mine}),
            "alerts": len(mine),
            "first_alert_s": min((a["t_s"] for a in mine), default=None),
            "objects_withheld_from": sum(len(w["objects"]) for w in record["withheld"]
                                         if w["to"] == n),
        }
    return {"campaign": record["campaign"], "name": record["name"],
            "simulated": record["simulated"], "regime": record["regime"],
            "epoch_utc": record["epoch_utc"], "time_origin": record["time_origin"],
            "indicators": address, "nations": nations}

"""A scripted cyber campaign across the nations: a sidecar YAML with a ``cyber:`` section
(see ``trilink/data/cyber/bybit-2025-replay.yaml``), and its replay through three books.

Events, at ``t_s`` seconds after ``epoch``: ``detect`` (a nation's analysts publish the
corpus indicator of an address) and ``sight`` (a nation publishes a STIX sighting of it).
Delivery follows each regime's routes: a share reaches its recipient after the route's
latency (direct, or through a relay with its delay) when TLP and the agreements allow.
Bad files raise :class:`~trilink.datafile.FileInvalidError` (``FILE:LINE: field: problem``).
"""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trilink.cyber.book import BookOutput, CyberAlert, CyberBook, Share
from trilink.cyber.corpus import Corpus, shipped_corpus
from trilink.cyber.identity import nation_identity_id, stable_id
from trilink.cyber.rules import cyber_route
from trilink.cyber.store import taxii_time
from trilink.cyber.tlp import TLP2_IDS, Tlp, level_of
from trilink.datafile import FileInvalidError, FileProblem, parse_yaml_model
from trilink.sharing.policy import Denied, Policy
from trilink.sharing.releasability import check_nation


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


class CampaignSpec(_M):
    name: str
    epoch: dt.datetime
    simulated: str = Field(min_length=1, description="what in the script is not the record")
    sources: tuple[str, ...] = ()
    events: tuple[CampaignEvent, ...] = Field(min_length=1)


class CampaignFile(_M):
    cyber: CampaignSpec


def load_campaign(path: str | Path) -> CampaignSpec:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FileInvalidError([FileProblem(str(p), 0, "(file)", str(exc))]) from None
    spec = parse_yaml_model(text, str(p), CampaignFile, FileInvalidError)[0].cyber
    corpus = shipped_corpus()
    problems = []
    for i, ev in enumerate(spec.events):
        try:
            corpus.indicator_for(ev.address)
        except KeyError:
            problems.append(FileProblem(str(p), 0, f"cyber.events[{i}]",
                                        f"{ev.address} is not an address of the corpus"))
    if problems:
        raise FileInvalidError(problems)
    return spec


@dataclass
class Replay:
    """What happened in one regime: when each nation first held each indicator, the
    alerts raised, and every book."""

    regime: str
    learned_s: dict[str, dict[str, float]] = field(default_factory=dict)
    alerts: list[CyberAlert] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)
    books: dict[str, CyberBook] = field(default_factory=dict)


def _objects_for(ev: CampaignEvent, corpus: Corpus, n: int) -> list[dict[str, Any]]:
    base = corpus.indicator_for(ev.address)
    level = Tlp.parse(ev.tlp)
    if ev.action == "detect":
        ind = {**base, "object_marking_refs": [TLP2_IDS[level]],
               "created_by_ref": nation_identity_id(ev.nation)}
        return [ind]
    return [{"type": "sighting", "spec_version": "2.1",
             "id": stable_id("sighting", ev.nation, base["id"], str(n)),
             "created": base["created"], "modified": base["created"],
             "first_seen": base["valid_from"], "last_seen": base["valid_from"],
             "count": ev.count, "sighting_of_ref": base["id"],
             "where_sighted_refs": [nation_identity_id(ev.nation)],
             "created_by_ref": nation_identity_id(ev.nation),
             "object_marking_refs": [TLP2_IDS[level]]}]


def replay(spec: CampaignSpec, policy: Policy, nations: tuple[str, ...] = ("USA", "JPN", "KOR"),
           corpus: Corpus | None = None) -> Replay:
    """Run the campaign through one book per nation under ``policy``."""
    corpus = corpus or shipped_corpus()
    books = {n: CyberBook(n, nations, policy, spec.epoch) for n in nations}
    out = Replay(policy.name, books=books)
    queue: list[tuple[float, int, str, Share, str]] = []
    seq = 0

    def learn(nation: str, objs: list[str], t_s: float) -> None:
        for oid in objs:
            out.learned_s.setdefault(nation, {}).setdefault(oid, t_s)

    def emit(nation: str, result: BookOutput, t_s: float) -> None:
        nonlocal seq
        out.alerts += [e for e in result.events if isinstance(e, CyberAlert)]
        for share in result.shares:
            route = cyber_route(policy, nation, share.to, books[nation].at(t_s), share.tlp,
                                share.rel_to, nation)
            if isinstance(route, Denied):  # the book already filtered; kept as a guard
                out.withheld.append(f"{nation}->{share.to}: {route.reason}")
                continue
            heapq.heappush(queue, (t_s + route.latency_s, seq, share.to, share, nation))
            seq += 1

    timeline = sorted(enumerate(spec.events), key=lambda ie: (ie[1].t_s, ie[0]))
    for i, ev in timeline:
        while queue and queue[0][0] <= ev.t_s:
            _deliver(queue, books, learn, emit)
        objs = _objects_for(ev, corpus, i)
        result = books[ev.nation].publish(objs, ev.rel_to or nations, ev.t_s)
        learn(ev.nation, [o["id"] for o in objs], ev.t_s)
        emit(ev.nation, result, ev.t_s)
    while queue:
        _deliver(queue, books, learn, emit)
    return out


def _deliver(queue: list[tuple[float, int, str, Share, str]], books: dict[str, CyberBook],
             learn: Any, emit: Any) -> None:
    t_s, _, to, share, sender = heapq.heappop(queue)
    result = books[to].receive(share.payload, originator=sender, sender=sender, via=(),
                               rel_to=share.rel_to, now_s=t_s)
    stored = [i for e in result.events if hasattr(e, "object_ids") and e.nation == to
              and type(e).__name__ == "ObjectsStored" for i in e.object_ids]
    learn(to, stored, t_s)
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

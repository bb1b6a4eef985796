"""The shipped cyber corpus: Lazarus Group and related intrusion sets from the MISP
galaxies (the JSON ``pymispgalaxies`` ships), and public DPRK-attributed thefts with their
digital-currency addresses (``trilink/data/cyber/thefts.yaml``), as STIX 2.1.

Deterministic: ids derive from the galaxy UUIDs and the data (uuid5), timestamps from the
data; the same files give the same bundle byte for byte. Every address is checked per
chain before it becomes an indicator (:mod:`trilink.cyber.addresses`): a transcription
error stops the build with the theft and address named. All of it is public: TLP:CLEAR.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from trilink.cyber.addresses import check_address
from trilink.cyber.identity import stable_id
from trilink.cyber.store import taxii_time
from trilink.cyber.tlp import TLP2_IDS, Tlp, marking_definition
from trilink.datafile import FileInvalidError, FileProblem, load_yaml


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Address(_M):
    chain: str
    address: str
    listed: dt.date | dt.datetime
    listed_by: str = ""
    source: str = ""


class Theft(_M):
    id: str
    name: str
    theft: dt.date | dt.datetime
    disclosed: dt.date
    attributed: dt.date
    attributed_by: str
    attributed_to: tuple[str, ...] = Field(min_length=1)
    amount_usd: int = Field(ge=0)
    sources: tuple[str, ...] = Field(min_length=1)
    addresses: tuple[Address, ...] = ()
    addresses_listed_by: str = ""


class CorpusFile(_M):
    corpus_created: dt.datetime
    intrusion_sets: tuple[str, ...]
    malware: tuple[str, ...] = ()
    thefts: tuple[Theft, ...]


def _instant(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)


def _ts(value: dt.date | dt.datetime) -> str:
    return taxii_time(_instant(value)).replace("000Z", "Z")


def corpus_path() -> Path:
    return Path(str(resources.files("trilink.data").joinpath("cyber").joinpath("thefts.yaml")))


def _galaxy(name: str) -> dict[str, Any]:
    # located without importing pymispgalaxies, whose import loads every galaxy (seconds)
    spec = importlib.util.find_spec("pymispgalaxies")
    if spec is None or not spec.submodule_search_locations:
        raise FileInvalidError([FileProblem("pymispgalaxies", 0, "(package)",
                                            "not installed; pip install pymispgalaxies")])
    base = Path(next(iter(spec.submodule_search_locations))) / "data" / "misp-galaxy"
    text = (base / "clusters" / f"{name}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@dataclass(frozen=True)
class Corpus:
    objects: list[dict[str, Any]]
    thefts: tuple[Theft, ...]

    def indicator_for(self, address: str) -> dict[str, Any]:
        for o in self.objects:
            if o["type"] == "indicator" and address in o["pattern"]:
                return o
        raise KeyError(address)

    def bundle(self) -> dict[str, Any]:
        return {"type": "bundle", "id": stable_id("bundle", "trilink-corpus"),
                "objects": self.objects}


def _external(url: str, name: str = "source") -> dict[str, str]:
    return {"source_name": name, "url": url}


def build_corpus(path: Path | None = None) -> Corpus:
    """The corpus as STIX objects; :class:`FileInvalidError` names any bad entry."""
    p = path or corpus_path()
    try:
        raw = load_yaml(p.read_text(encoding="utf-8"), str(p))  # size and alias limits
        spec = CorpusFile.model_validate(raw)
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise FileInvalidError([FileProblem(str(p), 0, "(file)", str(exc).splitlines()[0])]
                               ) from None
    created = _ts(spec.corpus_created)
    clear = TLP2_IDS[Tlp.CLEAR]
    objs: list[dict[str, Any]] = [marking_definition(Tlp.CLEAR)]
    actors = {v["value"]: v for v in _galaxy("threat-actor")["values"]}
    sets: dict[str, str] = {}
    problems: list[FileProblem] = []
    for name in spec.intrusion_sets:
        v = actors.get(name)
        if v is None:
            problems.append(FileProblem(str(p), 0, "intrusion_sets",
                                        f"{name!r} is not in the MISP threat-actor galaxy"))
            continue
        meta = v.get("meta", {})
        iid = f"intrusion-set--{v['uuid']}"
        sets[name] = iid
        obj: dict[str, Any] = {
            "type": "intrusion-set", "spec_version": "2.1", "id": iid, "created": created,
            "modified": created, "name": name,
            "description": (v.get("description") or name)[:4000],
            "external_references": [
                {"source_name": "MISP galaxy threat-actor", "external_id": v["uuid"]},
                *(_external(u, "reference") for u in meta.get("refs", [])[:5])],
            "object_marking_refs": [clear]}
        synonyms = sorted(set(meta.get("synonyms", [])) - {name})
        if synonyms:
            obj["aliases"] = synonyms[:60]
        objs.append(obj)
    mal = {v["value"]: v for v in _galaxy("mitre-malware")["values"]}
    for name in spec.malware:
        v = mal.get(name)
        if v is None:
            problems.append(FileProblem(str(p), 0, "malware",
                                        f"{name!r} is not in the MISP mitre-malware galaxy"))
            continue
        mid = f"malware--{v['uuid']}"
        objs.append({"type": "malware", "spec_version": "2.1", "id": mid, "created": created,
                     "modified": created, "name": name.split(" - ")[0], "is_family": True,
                     "description": (v.get("description") or name)[:4000],
                     "external_references": [_external(u, "reference")
                                             for u in v.get("meta", {}).get("refs", [])[:5]],
                     "object_marking_refs": [clear]})
        if "Lazarus Group" in sets:
            objs.append(_rel("uses", sets["Lazarus Group"], mid, created, clear))
    for i, theft in enumerate(spec.thefts):
        cid = stable_id("campaign", theft.id)
        refs = [_external(u) for u in theft.sources]
        objs.append({"type": "campaign", "spec_version": "2.1", "id": cid, "created": created,
                     "modified": created, "name": theft.name,
                     "description": f"{theft.name}: about US$ {theft.amount_usd:,} stolen; "
                                    f"disclosed {theft.disclosed}; attributed "
                                    f"{theft.attributed} by {theft.attributed_by}.",
                     "first_seen": _ts(theft.theft), "external_references": refs,
                     "object_marking_refs": [clear]})
        for actor in theft.attributed_to:
            if actor not in sets:
                problems.append(FileProblem(str(p), 0, f"thefts[{i}].attributed_to",
                                            f"{actor!r} is not one of intrusion_sets"))
                continue
            objs.append(_rel("attributed-to", cid, sets[actor], created, clear))
        for j, a in enumerate(theft.addresses):
            check = check_address(a.chain, a.address)
            if not check.ok:
                problems.append(FileProblem(str(p), 0, f"thefts[{i}].addresses[{j}]",
                                            f"{a.address}: {check.reason}"))
                continue
            iid = stable_id("indicator", theft.id, a.chain, check.address)
            src = a.source or theft.sources[0]
            by = a.listed_by or theft.addresses_listed_by
            objs.append({
                "type": "indicator", "spec_version": "2.1", "id": iid, "created": created,
                "modified": created, "name": f"{a.chain} address tied to the {theft.name}",
                "description": f"{check.address} ({a.chain}, {check.kind}); listed "
                               f"{a.listed} by {by}.",
                "indicator_types": ["malicious-activity", "attribution"],
                "pattern": f"[cryptocurrency-wallet:value = '{check.address}']",
                "pattern_type": "stix", "valid_from": _ts(a.listed),
                "labels": [f"chain:{a.chain}", f"theft:{theft.id}"],
                "external_references": [_external(src)], "object_marking_refs": [clear]})
            objs.append(_rel("indicates", iid, cid, created, clear))
    if problems:
        raise FileInvalidError(problems)
    return Corpus(objs, spec.thefts)


def _rel(kind: str, src: str, dst: str, created: str, marking: str) -> dict[str, Any]:
    return {"type": "relationship", "spec_version": "2.1",
            "id": stable_id("relationship", kind, src, dst), "created": created,
            "modified": created, "relationship_type": kind, "source_ref": src,
            "target_ref": dst, "object_marking_refs": [marking]}


@lru_cache(maxsize=1)
def shipped_corpus() -> Corpus:
    return build_corpus()

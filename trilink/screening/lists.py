"""Sanctions and export-control lists in their published formats.

- OFAC's SDN list, ``sdn.xml`` (namespace ``http://tempuri.org/sdnList.xsd``): entries
  with names, a.k.a.s, programs and addresses;
- the US Consolidated Screening List, its JSON export (``{"results": [...]}``, each with
  ``name``, ``alt_names``, ``source``, ``programs``, ``addresses``).

Both parsers refuse what is not the format with one line naming the file and what was
expected; XML is parsed with entities and network access off (no XXE, no billion laughs).
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trilink.errors import TrilinkError

# lxml ships no type annotations (as in trilink/warning/cap.py): bind it as Any.
etree: Any = importlib.import_module("lxml.etree")

SDN_NS = "http://tempuri.org/sdnList.xsd"
MAX_LIST_BYTES = 256 * 1024 * 1024
# OFAC writes countries as names ("Korea, North"); the CSL as alpha-2 codes.
COUNTRY_NAMES = {"korea, north": "KP", "north korea": "KP", "korea, south": "KR",
                 "south korea": "KR", "japan": "JP", "china": "CN", "russia": "RU",
                 "united states": "US"}


class ListFormatError(TrilinkError):
    """A list file that is not in the format it claims."""


@dataclass(frozen=True)
class ListedParty:
    """One party of a list, with every name it is listed under."""

    list_name: str
    uid: str
    names: tuple[str, ...]  # primary first
    kind: str  # Entity, Individual, Vessel …
    programs: tuple[str, ...]
    countries: frozenset[str]  # alpha-2


def _country(text: str) -> str | None:
    t = text.strip()
    if len(t) == 2 and t.isalpha():
        return t.upper()
    return COUNTRY_NAMES.get(t.lower())


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_LIST_BYTES:
            raise ListFormatError(f"{path}: {size} bytes; lists above "
                                  f"{MAX_LIST_BYTES // 2**20} MiB are refused")
        return path.read_bytes()
    except OSError as exc:
        raise ListFormatError(f"{path}: cannot read: {exc.strerror or exc}") from None


def parse_sdn_xml(data: bytes, source: str = "<sdn.xml>") -> list[ListedParty]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ListFormatError(f"{source}: not XML: {exc}") from None
    ns = {"s": SDN_NS}
    if etree.QName(root).localname != "sdnList":
        raise ListFormatError(f"{source}: root: expected <sdnList> of {SDN_NS}")
    out = []
    for e in root.findall("s:sdnEntry", ns):
        uid = (e.findtext("s:uid", namespaces=ns) or "").strip()
        last = (e.findtext("s:lastName", namespaces=ns) or "").strip()
        first = (e.findtext("s:firstName", namespaces=ns) or "").strip()
        if not uid or not last:
            raise ListFormatError(f"{source}: sdnEntry: expected <uid> and <lastName>")
        names = [f"{last} {first}".strip() if first else last]
        for aka in e.findall("s:akaList/s:aka", ns):
            a_last = (aka.findtext("s:lastName", namespaces=ns) or "").strip()
            a_first = (aka.findtext("s:firstName", namespaces=ns) or "").strip()
            if a_last:
                names.append(f"{a_last} {a_first}".strip())
        countries = {c for a in e.findall("s:addressList/s:address", ns)
                     if (c := _country(a.findtext("s:country", namespaces=ns) or ""))}
        programs = tuple(p.text.strip() for p in e.findall("s:programList/s:program", ns)
                         if p.text)
        out.append(ListedParty("OFAC SDN", uid, tuple(names),
                               (e.findtext("s:sdnType", namespaces=ns) or "").strip(),
                               programs, frozenset(countries)))
    return out


def parse_csl_json(data: bytes, source: str = "<csl.json>") -> list[ListedParty]:
    try:
        doc: Any = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ListFormatError(f"{source}: not JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise ListFormatError(f"{source}: results: expected the CSL export's list of results")
    out = []
    for i, r in enumerate(doc["results"]):
        if not isinstance(r, dict) or not isinstance(r.get("name"), str):
            raise ListFormatError(f"{source}: results[{i}].name: expected a string")
        alt = [a for a in r.get("alt_names") or [] if isinstance(a, str)]
        countries = {c for a in r.get("addresses") or [] if isinstance(a, dict)
                     if (c := _country(str(a.get("country") or "")))}
        out.append(ListedParty(str(r.get("source") or "CSL"), str(r.get("id") or i),
                               (r["name"], *alt), str(r.get("type") or ""),
                               tuple(str(p) for p in r.get("programs") or []),
                               frozenset(countries)))
    return out


def load_list(path: str | Path) -> list[ListedParty]:
    p = Path(path)
    data = _read(p)
    head = data.lstrip()[:1]
    if head == b"<":
        return parse_sdn_xml(data, str(p))
    if head == b"{":
        return parse_csl_json(data, str(p))
    raise ListFormatError(f"{p}: expected OFAC sdn.xml or the CSL JSON export")


def shipped_lists() -> list[ListedParty]:
    from importlib import resources

    folder = resources.files("trilink") / "data" / "screening"
    return parse_sdn_xml((folder / "sdn_dprk_excerpt.xml").read_bytes(),
                         "sdn_dprk_excerpt.xml")

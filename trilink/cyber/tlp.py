"""TLP 2.0 markings on STIX 2.1 objects, and the TLP 1.0 ones still in circulation.

The ``stix2`` library ships only the four TLP 1.0 marking definitions (no TLP:CLEAR, no
TLP:AMBER+STRICT; cti-python-stix2 issues #569 and #583). TLP 2.0 lives in the OASIS
common-objects repository as an extension definition
(``extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d``) and five marking
definitions with fixed ids, reproduced here. Producers also emit a non-conformant
"TLP:CLEAR" written the TLP 1.0 way (``definition_type: tlp`` with ``tlp: clear``, the
object of issue #569) that ``stix2`` refuses; :func:`normalise_markings` recognises it
and replaces references to it with the TLP 2.0 CLEAR id, so one bad producer never stops
a bundle from loading.

Levels are ordered from least to most restrictive; when an object carries several TLP
markings the strictest applies, and an object with none is treated as
:data:`DEFAULT_UNMARKED` (TLP:AMBER: FIRST's guidance is to treat unlabelled information
with care; never as CLEAR).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

TLP2_EXTENSION_ID: Final = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED: Final = "2022-10-01T00:00:00.000Z"


class Tlp(enum.IntEnum):
    """TLP 2.0 levels, ordered: a larger value restricts more."""

    CLEAR = 0
    GREEN = 1
    AMBER = 2
    AMBER_STRICT = 3
    RED = 4

    @property
    def label(self) -> str:
        """``TLP:AMBER+STRICT`` etc."""
        return "TLP:" + self.name.replace("_STRICT", "+STRICT")

    @property
    def token(self) -> str:
        """The ``tlp_2_0`` value: ``clear``, ``green``, ``amber``, ``amber+strict``, ``red``."""
        return self.name.lower().replace("_strict", "+strict")

    @classmethod
    def parse(cls, text: str) -> Tlp:
        """``"amber+strict"``, ``"TLP:AMBER+STRICT"``, ``"white"`` (TLP 1.0) → a level."""
        key = text.strip().upper().removeprefix("TLP:").replace("+", "_").replace("-", "_")
        if key == "WHITE":
            return cls.CLEAR
        try:
            return cls[key]
        except KeyError:
            raise ValueError(
                f"unknown TLP level {text!r}; expected clear, green, amber, amber+strict or red"
            ) from None


TLP2_IDS: Final[Mapping[Tlp, str]] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

# The STIX 2.1 specification's TLP 1.0 marking definitions (section 7.2.1.4).
TLP1_IDS: Final[Mapping[str, Tlp]] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Tlp.CLEAR,  # TLP:WHITE
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Tlp.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Tlp.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Tlp.RED,
}

LEVEL_OF_ID: Final[Mapping[str, Tlp]] = {**{v: k for k, v in TLP2_IDS.items()}, **TLP1_IDS}

DEFAULT_UNMARKED: Final = Tlp.AMBER


def marking_definition(level: Tlp) -> dict[str, Any]:
    """The TLP 2.0 marking-definition object of ``level``, as in the OASIS repository."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_IDS[level],
        "created": TLP2_CREATED,
        "name": level.label,
        "extensions": {
            TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level.token}
        },
    }


def level_of(obj: Mapping[str, Any]) -> Tlp:
    """The TLP level governing ``obj``: the strictest of its TLP markings (object-level
    ``object_marking_refs``; granular markings count too, since any marked part binds the
    whole object when it is shared), or :data:`DEFAULT_UNMARKED`."""
    refs: list[str] = [r for r in obj.get("object_marking_refs", ()) if isinstance(r, str)]
    for gm in obj.get("granular_markings", ()) or ():
        if isinstance(gm, Mapping) and isinstance(gm.get("marking_ref"), str):
            refs.append(gm["marking_ref"])
    levels = [LEVEL_OF_ID[r] for r in refs if r in LEVEL_OF_ID]
    return max(levels) if levels else DEFAULT_UNMARKED


def strictest(levels: Iterable[Tlp]) -> Tlp:
    """The most restrictive of ``levels`` (CLEAR for none)."""
    return max(levels, default=Tlp.CLEAR)


@dataclass(frozen=True)
class Normalised:
    """What :func:`normalise_markings` did: the objects and one note per fix."""

    objects: list[dict[str, Any]]
    notes: list[str]


def _legacy_clear(obj: Mapping[str, Any]) -> bool:
    """A TLP:CLEAR written the TLP 1.0 way (cti-python-stix2 #569)."""
    definition = obj.get("definition")
    return (
        obj.get("type") == "marking-definition"
        and obj.get("definition_type") == "tlp"
        and isinstance(definition, Mapping)
        and str(definition.get("tlp", "")).lower() == "clear"
    )


def _tlp2_token(obj: Mapping[str, Any]) -> str | None:
    ext = obj.get("extensions")
    if not isinstance(ext, Mapping):
        return None
    body = ext.get(TLP2_EXTENSION_ID)
    if not isinstance(body, Mapping):
        return None
    token = body.get("tlp_2_0")
    return token if isinstance(token, str) else None


def normalise_markings(objects: Iterable[Mapping[str, Any]]) -> Normalised:
    """Replace non-canonical TLP marking definitions with the canonical TLP 2.0 ones.

    - a TLP 1.0-style "clear" marking (any id) becomes TLP 2.0 CLEAR;
    - a marking with the TLP 2.0 extension but a foreign id becomes the canonical object
      of its level (STIX: one id, one content);
    - references to a replaced id are rewritten in every object.
    Other objects pass through unchanged (copied; the input is never modified).
    """
    out: list[dict[str, Any]] = []
    remap: dict[str, str] = {}
    notes: list[str] = []
    for obj in objects:
        item = dict(obj)
        oid = str(item.get("id", ""))
        if _legacy_clear(item):
            remap[oid] = TLP2_IDS[Tlp.CLEAR]
            notes.append(f"{oid}: TLP 1.0-style TLP:CLEAR replaced by the TLP 2.0 CLEAR marking")
            continue
        token = _tlp2_token(item) if item.get("type") == "marking-definition" else None
        if token is not None:
            try:
                level = Tlp.parse(token)
            except ValueError:
                out.append(item)  # left for the validator to report
                continue
            if oid != TLP2_IDS[level]:
                remap[oid] = TLP2_IDS[level]
                notes.append(f"{oid}: TLP 2.0 {level.label} with a non-canonical id replaced")
                continue
            item = marking_definition(level)
        out.append(item)
    if remap:
        present = {str(o.get("id")) for o in out}
        for level_id in sorted(set(remap.values()) - present):
            out.insert(0, marking_definition(LEVEL_OF_ID[level_id]))
        for item in out:
            _rewrite_refs(item, remap)
    return Normalised(out, notes)


def _rewrite_refs(item: dict[str, Any], remap: Mapping[str, str]) -> None:
    refs = item.get("object_marking_refs")
    if isinstance(refs, list):
        item["object_marking_refs"] = list(dict.fromkeys(remap.get(r, r) for r in refs))
    gms = item.get("granular_markings")
    if isinstance(gms, list):
        item["granular_markings"] = [
            {**g, "marking_ref": remap.get(str(g.get("marking_ref")), g.get("marking_ref"))}
            if isinstance(g, Mapping) else g
            for g in gms
        ]

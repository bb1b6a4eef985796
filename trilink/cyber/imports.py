"""Reading what analysts bring: a STIX 2.1 bundle, or a MISP event (JSON) converted with
``misp-stix`` (the MISP project's converter). MISP attributes it keeps as custom
``x-misp-attribute`` objects are mapped here when they are crypto addresses (``btc``,
``xmr`` is not checkable and stays custom): checked per chain, then a STIX indicator.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trilink.cyber.addresses import check_address
from trilink.cyber.identity import stable_id
from trilink.datafile import FileInvalidError, FileProblem

MAX_INPUT_BYTES = 50 * 1024 * 1024


def _problem(path: Path, field: str, what: str) -> FileInvalidError:
    return FileInvalidError([FileProblem(str(path), 0, field, what)])


def read_input(path: Path) -> tuple[list[object], str]:
    """The objects of a STIX bundle or MISP event file, and which it was."""
    try:
        if path.stat().st_size > MAX_INPUT_BYTES:
            raise _problem(path, "(file)", f"larger than {MAX_INPUT_BYTES} bytes")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _problem(path, "(file)", exc.strerror or str(exc)) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise _problem(path, "(file)", f"not JSON: {exc}") from None
    if isinstance(data, dict) and data.get("type") == "bundle":
        objs = data.get("objects")
        if not isinstance(objs, list):
            raise _problem(path, "objects", "a bundle's objects must be a list")
        return list(objs), "stix"
    if isinstance(data, dict) and isinstance(data.get("Event"), dict):
        return misp_event_objects(data, path), "misp"
    raise _problem(path, "(file)", "expected a STIX bundle (type: bundle) or a MISP event "
                   "({\"Event\": {...}})")


def misp_event_objects(event: dict[str, Any], path: Path) -> list[object]:
    """STIX 2.1 objects of a MISP event, via misp-stix; crypto addresses as indicators."""
    from misp_stix_converter import MISPtoSTIX21Parser  # type: ignore[import-untyped]

    parser = MISPtoSTIX21Parser()
    try:
        parser.parse_misp_event(event)
        bundle = json.loads(parser.bundle.serialize())
    except Exception as exc:  # the converter's errors vary; one line, never a traceback
        raise _problem(path, "Event", f"misp-stix could not convert it: {exc}") from None
    out: list[object] = []
    for obj in bundle.get("objects", []):
        if obj.get("type") == "x-misp-attribute" and obj.get("x_misp_type") == "btc":
            value = str(obj.get("x_misp_value", ""))
            check = check_address("bitcoin", value)
            if not check.ok:
                out.append({**obj, "x_trilink_problem": check.reason})
                continue
            out.append({
                "type": "indicator", "spec_version": "2.1",
                "id": stable_id("indicator", "misp", obj["id"]),
                "created": obj["created"], "modified": obj["modified"],
                "name": f"bitcoin address from MISP event {event['Event'].get('info', '')}"[:250],
                "description": str(obj.get("x_misp_comment", ""))[:1000] or "from MISP",
                "indicator_types": ["malicious-activity"],
                "pattern": f"[cryptocurrency-wallet:value = '{check.address}']",
                "pattern_type": "stix", "valid_from": obj["created"],
                **({"created_by_ref": obj["created_by_ref"]} if "created_by_ref" in obj else {}),
                **({"object_marking_refs": obj["object_marking_refs"]}
                   if "object_marking_refs" in obj else {})})
        else:
            out.append(obj)
    return out

"""Every STIX object sent or received passes ``stix2-validator`` (STIX 2.1 schemas and the
MUST rules), after size and shape limits that keep hostile input cheap to refuse.

:func:`check_objects` never raises on bad input: it returns the good objects and one
:class:`Problem` per bad one, each a line a person can act on (object id, what is wrong).
Objects of the TLP 2.0 extension are checked against its schema by the validator's
extension handling being lenient; :mod:`trilink.cyber.tlp` has already made them canonical.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from stix2validator import ValidationOptions, validate_instance  # type: ignore[import-untyped]

MAX_OBJECT_BYTES: Final = 64 * 1024
"""One object larger than this (serialised) is refused before schema validation."""

MAX_BUNDLE_OBJECTS: Final = 10_000

_OPTIONS = ValidationOptions(version="2.1", strict=False, silent=True)


@dataclass(frozen=True)
class Problem:
    """Why one object (or the bundle) was refused."""

    object_id: str
    reason: str

    def __str__(self) -> str:
        return f"{self.object_id}: {self.reason}"


def _first_errors(result: Any, limit: int = 3) -> str:
    errors = [str(e) for e in getattr(result, "errors", [])][:limit]
    return "; ".join(errors) if errors else "not valid STIX 2.1"


def check_object(obj: object) -> Problem | None:
    """``None`` when ``obj`` is a valid STIX 2.1 object, else the problem."""
    if not isinstance(obj, Mapping):
        return Problem("(object)", f"expected a JSON object, got {type(obj).__name__}")
    oid = obj.get("id")
    name = oid if isinstance(oid, str) and len(oid) <= 200 else "(no id)"
    try:
        size = len(json.dumps(obj, allow_nan=False))
    except (TypeError, ValueError) as exc:
        return Problem(name, f"not JSON-serialisable: {exc}")
    if size > MAX_OBJECT_BYTES:
        return Problem(name, f"{size} bytes, more than the limit of {MAX_OBJECT_BYTES}")
    if obj.get("type") == "bundle":
        return Problem(name, "a bundle inside a bundle")
    try:
        result = validate_instance(dict(obj), _OPTIONS)
    except Exception as exc:  # the validator can raise on odd shapes; never crash the node
        return Problem(name, f"validator error: {type(exc).__name__}: {exc}")
    if not result.is_valid:
        return Problem(name, _first_errors(result))
    return None


@dataclass(frozen=True)
class Checked:
    """The objects that passed and the problems of those that did not."""

    valid: list[dict[str, Any]]
    problems: list[Problem]


def check_objects(objects: Iterable[object]) -> Checked:
    """Validate each object; duplicates (same id and ``modified``) count once."""
    valid: list[dict[str, Any]] = []
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for i, obj in enumerate(objects):
        if i >= MAX_BUNDLE_OBJECTS:
            problems.append(Problem("(bundle)", f"more than {MAX_BUNDLE_OBJECTS} objects"))
            break
        problem = check_object(obj)
        if problem is not None:
            problems.append(problem)
            continue
        assert isinstance(obj, Mapping)
        key = (str(obj["id"]), str(obj.get("modified", obj.get("created", ""))))
        if key in seen:
            continue
        seen.add(key)
        valid.append(dict(obj))
    return Checked(valid, problems)


def bundle_objects(data: object) -> tuple[list[object], Problem | None]:
    """The ``objects`` list of a STIX bundle (parsed JSON), or why it is not one."""
    if not isinstance(data, Mapping) or data.get("type") != "bundle":
        return [], Problem("(bundle)", "expected a STIX bundle: a JSON object with type 'bundle'")
    objs = data.get("objects", [])
    if not isinstance(objs, list):
        return [], Problem(str(data.get("id", "(bundle)")), "'objects' must be a list")
    return list(objs), None

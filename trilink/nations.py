"""Nation codes: the ones trilink knows, and the ones that may run a node.

Every nation is an ISO 3166-1 alpha-3 code listed in ``trilink/data/nations.yaml``
(land, seas, sensors' owners). Only a *party* runs a node, holds a signing key or sits
in a consultation: a nation named among the ``parties`` of an agreement file trilink
ships (``trilink/data/agreements``, examples included). The DPRK is known — its land,
its launches — and is a party to nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable

import yaml

from trilink.errors import UsageError

_CODE = re.compile(r"^[A-Z]{3}$")


class NationError(UsageError, ValueError):
    """A nation code that is malformed, unknown, or not a party; said in one line."""


@lru_cache(maxsize=1)
def known_nations() -> dict[str, str]:
    """ISO 3166-1 alpha-3 code → name, for every nation trilink knows."""
    text = resources.files("trilink.data").joinpath("nations.yaml").read_text(encoding="utf-8")
    data: dict[str, str] = yaml.safe_load(text)["nations"]
    return data


def _agreement_files(folder: Traversable) -> list[Traversable]:
    found: list[Traversable] = []
    for entry in folder.iterdir():
        if entry.is_dir():
            found.extend(_agreement_files(entry))
        elif entry.name.endswith(".yaml"):
            found.append(entry)
    return found


@lru_cache(maxsize=1)
def party_nations() -> frozenset[str]:
    """The nations named as parties of the agreement files trilink ships."""
    parties: set[str] = set()
    for f in _agreement_files(resources.files("trilink.data").joinpath("agreements")):
        data = yaml.safe_load(f.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("parties"), list):
            parties.update(str(p) for p in data["parties"])
    return frozenset(parties & set(known_nations()))


def nation_problem(code: str, *, party: bool = True) -> str | None:
    """Why ``code`` is not acceptable (as a party when ``party``), or None if it is."""
    if not _CODE.match(code):
        return f"{code!r} is not an ISO 3166-1 alpha-3 code (three letters, e.g. JPN)"
    if code not in known_nations():
        return (f"unknown nation code {code!r}; expected ISO 3166-1 alpha-3, one of "
                + ", ".join(sorted(known_nations())))
    if party and code not in party_nations():
        return (f"{code} ({known_nations()[code]}) is not a party to any agreement trilink "
                "ships; expected one of " + ", ".join(sorted(party_nations())))
    return None


def check_nation(code: str, *, party: bool = True) -> str:
    """``code`` if acceptable; else ValueError (for pydantic validators) with the reason."""
    problem = nation_problem(code, party=party)
    if problem is not None:
        raise ValueError(problem)
    return code


def parse_nations(text: str, what: str = "--nations", *, party: bool = True) -> tuple[str, ...]:
    """``USA,JPN,KOR`` → ('USA', 'JPN', 'KOR'); :class:`NationError` naming ``what`` if
    a code is malformed, unknown, not a party (when ``party``) or repeated."""
    items = [p.strip().upper() for p in text.split(",") if p.strip()]
    if not items:
        raise NationError(f"{what}: expected comma-separated ISO alpha-3 codes "
                          f"(e.g. USA,JPN,KOR), got {text!r}")
    malformed = [p for p in items if not _CODE.match(p)]
    if malformed:
        raise NationError(f"{what}: expected comma-separated ISO alpha-3 codes "
                          "(e.g. USA,JPN,KOR), got " + ", ".join(repr(b) for b in malformed))
    for code in items:
        problem = nation_problem(code, party=party)
        if problem is not None:
            raise NationError(f"{what}: {problem}")
    if len(set(items)) != len(items):
        raise NationError(f"{what}: a nation is listed twice in {text!r}")
    return tuple(items)

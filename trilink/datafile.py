"""YAML data files validated by pydantic models, with ``FILE:LINE: field: problem`` errors.

Scenarios, agreements and regimes are data files users write; a mistake must come back
as one line per problem naming the file, the line of the offending node, the field and
what was expected — never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from trilink.errors import TrilinkError


@dataclass(frozen=True)
class FileProblem:
    """One problem of one file, printed ``FILE:LINE: field: problem``."""

    path: str
    line: int
    field: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.problem}"


class FileInvalidError(TrilinkError):
    """A data file failed validation; ``errors`` lists every problem found."""

    def __init__(self, errors: list[FileProblem]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors

    def lines(self) -> list[str]:
        return [str(e) for e in self.errors]


def _node_lines(
    node: yaml.Node, prefix: tuple[Any, ...] = ()
) -> Iterator[tuple[tuple[Any, ...], int]]:
    yield prefix, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield (*prefix, key.value), key.start_mark.line + 1
            yield from _node_lines(value, (*prefix, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _node_lines(item, (*prefix, i))


Lines = dict[tuple[Any, ...], int]


def line_of(lines: Lines, loc: tuple[Any, ...]) -> int:
    """The line of the YAML node at ``loc`` (or of its nearest present parent)."""
    for cut in range(len(loc), -1, -1):
        key = tuple(str(p) if not isinstance(p, int) else p for p in loc[:cut])
        if key in lines:
            return lines[key]
    return 1


_M = TypeVar("_M", bound=BaseModel)


def parse_yaml_model(text: str, path: str, model: type[_M],
                     error: type[FileInvalidError] = FileInvalidError) -> tuple[_M, Lines]:
    """Parse YAML text and validate it as ``model``; raise ``error`` with every problem.

    Also returns the line of every node, for checks that span files (duplicate ids).
    """
    try:
        node = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise error([FileProblem(path, line, "yaml", str(problem))]) from None
    if node is None or not isinstance(raw, dict):
        raise error([FileProblem(path, 1, "(file)", "expected a YAML mapping")])
    lines = {tuple(k): v for k, v in _node_lines(node)}
    try:
        return model.model_validate(raw), lines
    except ValidationError as exc:
        errors = []
        details = exc.errors(include_url=False)
        locs = [tuple(e["loc"]) for e in details]
        for err in details:
            loc = tuple(err["loc"])
            # A list whose items failed also reports itself "too short": noise.
            if err["type"] == "too_short" and any(
                o[: len(loc)] == loc and len(o) > len(loc) for o in locs
            ):
                continue
            field = ".".join(str(p) for p in loc) or "(file)"
            msg = err["msg"].removeprefix("Value error, ")
            errors.append(FileProblem(path, line_of(lines, loc), field, msg))
        raise error(errors) from None

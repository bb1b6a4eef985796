"""YAML data files validated by pydantic models, with ``FILE:LINE: field: problem`` errors.

Scenarios, agreements and regimes are data files users write; a mistake must come back
as one line per problem naming the file, the line of the offending node, the field and
what was expected — never a traceback.

A file is hostile input too: a "billion laughs" file of nested aliases is a few hundred
bytes that expand to gigabytes once validated. Before anything expands it, a file is
refused when it is larger than :data:`MAX_FILE_BYTES`, uses more than
:data:`MAX_ALIASES` aliases, nests deeper than :data:`MAX_DEPTH` or would expand to more
than :data:`MAX_NODES` nodes.
"""

from __future__ import annotations

import re
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

# Far above any real data file (the largest shipped file is some 6 kB, with no aliases).
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_ALIASES = 100
MAX_NODES = 200_000
MAX_DEPTH = 64


def _scan(text: str) -> tuple[int, int]:
    """The number of aliases and the deepest nesting, from the parser's events alone
    (libyaml's when present: the pure-Python parser is slow on deep nesting)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    aliases = depth = deepest = 0
    try:
        for event in yaml.parse(text, loader):
            if isinstance(event, yaml.AliasEvent):
                aliases += 1
            elif isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                deepest = max(deepest, depth)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as exc:
        if "nesting depth" in str(getattr(exc, "problem", "")):
            return aliases, MAX_DEPTH + 1
        # A syntax error: the composer below reports it in its own (usual) words, at the
        # line it stops on, before anything is expanded.
    return aliases, deepest


def _limits_problem(node: yaml.Node | None, aliases: int) -> str | None:
    """Why the composed file is too big to expand safely, or None."""
    if aliases > MAX_ALIASES:
        return (f"{aliases} aliases; a data file may use at most {MAX_ALIASES} "
                "(refused: aliases can expand a small file without bound)")
    if node is None:
        return None
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    # Iterative walk (a deep file must not hit Python's recursion limit): the size of
    # each node once expanded, every alias counted in full, each node computed once.
    stack: list[tuple[yaml.Node, int, bool]] = [(node, 1, False)]
    while stack:
        n, depth, done = stack.pop()
        key = id(n)
        children: list[yaml.Node] = []
        if isinstance(n, yaml.MappingNode):
            children = [x for pair in n.value for x in pair]
        elif isinstance(n, yaml.SequenceNode):
            children = list(n.value)
        if done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] > MAX_NODES:
                return (f"expands to more than {MAX_NODES:,} values (through its aliases); "
                        "refused")
            continue
        if key in sizes:
            continue
        if key in on_path:
            return "an alias refers to a node that contains it (a recursive file); refused"
        if depth > MAX_DEPTH:
            return f"nested more than {MAX_DEPTH} levels deep; refused"
        on_path.add(key)
        stack.append((n, depth, True))
        stack.extend((c, depth + 1, False) for c in children if id(c) not in sizes)
    return None


def _load_checked(text: str, path: str, error: type[FileInvalidError]
                  ) -> tuple[yaml.Node | None, Any]:
    """The composed node graph and the loaded data of ``text``, within the limits."""
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_FILE_BYTES:
        raise error([FileProblem(path, 1, "(file)", f"{size:,} bytes; a data file may have "
                                 f"at most {MAX_FILE_BYTES:,}")])
    try:
        aliases, depth = _scan(text)
        if depth > MAX_DEPTH:
            raise error([FileProblem(path, 1, "(file)",
                                     f"nested more than {MAX_DEPTH} levels deep; refused")])
        node = yaml.compose(text, yaml.SafeLoader) if aliases <= MAX_ALIASES else None
        problem = _limits_problem(node, aliases)
        if problem is not None:
            raise error([FileProblem(path, 1, "(file)", problem)])
        return node, yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise error([FileProblem(path, line, "yaml", str(problem))]) from None
    except RecursionError:
        raise error([FileProblem(path, 1, "(file)",
                                 f"nested more than {MAX_DEPTH} levels deep; refused")]) from None


def load_yaml(text: str, path: str, error: type[FileInvalidError] = FileInvalidError) -> Any:
    """``yaml.safe_load`` within the limits of this module (for files without a model):
    too large, alias-heavy or deep a file raises ``error`` in one line."""
    return _load_checked(text, path, error)[1]


def parse_yaml_model(text: str, path: str, model: type[_M],
                     error: type[FileInvalidError] = FileInvalidError) -> tuple[_M, Lines]:
    """Parse YAML text and validate it as ``model``; raise ``error`` with every problem.

    Also returns the line of every node, for checks that span files (duplicate ids).
    """
    node, raw = _load_checked(text, path, error)
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


_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def check_id(value: str) -> str:
    """A data file's id: lower-case letters, digits and hyphens (pydantic validator body)."""
    if not _ID.match(value):
        raise ValueError("id must be lower-case letters, digits and hyphens")
    return value

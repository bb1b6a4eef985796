"""`trilink record`: the alliance's public record — what was in force on a date, and
which cadence commitments were kept."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer

from trilink.cli.common import emit_json, fail, parse_day, say

record_app = typer.Typer(help="The alliance's public record: agreements, meetings, "
                              "frameworks, exercises, commitments.", no_args_is_help=True)


def _line_json(line: Any) -> dict[str, Any]:
    return dataclasses.asdict(line)


@record_app.command("at")
def record_at(
    date: Annotated[str, typer.Argument(help="the date, YYYY-MM-DD")],
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
) -> None:
    """What was in force on DATE — agreements, frameworks, commitments — with sources."""
    from trilink.alliance.record import in_force_at

    answer = in_force_at(parse_day(date, "DATE"))
    sections = (("in force", answer.agreements), ("not in force", answer.not_in_force),
                ("frameworks in effect", answer.frameworks),
                ("commitments made", answer.commitments),
                ("last before the date", answer.last_meetings))
    if as_json:
        emit_json({"date": answer.day.isoformat(), "read_at": answer.instant.isoformat(),
                   "beyond_coverage": answer.beyond_coverage,
                   **{title.replace(" ", "_"): [_line_json(x) for x in lines]
                      for title, lines in sections}})
        return
    say(f"{answer.day.isoformat()} (read at {answer.instant:%H:%M} UTC)")
    if answer.beyond_coverage:
        say("  note: after the registry's coverage; later events may be missing")
    for title, lines in sections:
        if not lines:
            continue
        say(f"{title}:")
        for x in lines:
            say(f"  {x.what} — {x.status} [{x.since}]")
            for src in x.sources[:2]:
                say(f"      {src}")


@record_app.command("check")
def record_check(
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="judge up to this date (default: the registry's coverage)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON array on stdout")] = False,
) -> None:
    """Each cadence commitment, year by year: kept, lapsed (and since when) or open.
    Exit 1 if any lapsed."""
    from trilink.alliance.record import check_commitments

    checks = check_commitments(parse_day(as_of, "--as-of") if as_of else None)
    if as_json:
        emit_json([{"id": c.commitment.id, "what": c.commitment.what,
                    "made_by": c.commitment.made_by, "kept": c.kept,
                    "lapsed_since": c.lapsed_since,
                    "periods": [dataclasses.asdict(p) for p in c.periods],
                    "sources": list(c.commitment.sources)} for c in checks])
    else:
        for c in checks:
            verdict = "kept" if c.kept else f"LAPSED in {c.lapsed_since}"
            say(f"{c.commitment.id}: {verdict} — {c.commitment.what}")
            for p in c.periods:
                say(f"  {p.period}: {p.status} ({p.detail}"
                    + (f": {', '.join(p.events)})" if p.events else ")"))
    if any(not c.kept for c in checks):
        raise typer.Exit(1)


@record_app.command("timeline")
def record_timeline(
    out: Annotated[Path, typer.Option("--out", help="the page to write (HTML)")],
    plan: Annotated[str | None, typer.Option(
        help="also draw this exercise programme's schedule (file or shipped id)")] = None,
) -> None:
    """The record, exercises and launches on one time axis, as a page."""
    from trilink.alliance.timeline import planned_marks
    from trilink.alliance.timeline import record_timeline as draw
    from trilink.report.files import write_atomic

    planned = planned_marks(plan) if plan is not None else []
    try:
        path = write_atomic(out.parent, out.name, draw(planned=planned))
    except OSError as exc:
        fail(f"--out: cannot write {out}: {exc.strerror or exc}")
    say(str(path))


def register(app: typer.Typer) -> None:
    app.add_typer(record_app, name="record")

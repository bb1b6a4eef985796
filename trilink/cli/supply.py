"""`trilink supply`: export controls in force on a date, list changes, and replays of
supply shocks (when each nation would have been warned, alone and with sharing)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from trilink.cli.common import emit_json, fail, parse_day, say

supply_app = typer.Typer(help="Economic security: export controls and the supply-chain "
                              "early-warning system.", no_args_is_help=True)


@supply_app.command("controls")
def supply_controls(
    origin: Annotated[str, typer.Option("--from", help="exporting nation, e.g. JPN")],
    destination: Annotated[str, typer.Option("--to", help="destination nation, e.g. KOR")],
    item: Annotated[str, typer.Option(help="HS six-digit code, e.g. 281111")],
    date: Annotated[str, typer.Option(help="the day of the export, YYYY-MM-DD")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout")] = False,
) -> None:
    """What applied to an export of ITEM from one nation to another on DATE, with sources."""
    from trilink.supply.controls import what_applied

    day = parse_day(date, "--date")
    found = what_applied(origin.upper(), destination.upper(), item, day)
    if as_json:
        emit_json([{"what": a.what, "since": None if a.since == dt.date.min else
                    a.since.isoformat(), "until": a.until.isoformat() if a.until else None,
                    "sources": list(a.sources)} for a in found])
        return
    if not found:
        say(f"{origin} -> {destination}, {item} on {day.isoformat()}: no tracked control applied")
    for a in found:
        since = "before the tracked changes" if a.since == dt.date.min else a.since.isoformat()
        say(f"{a.what} [from {since}" + (f" until {a.until.isoformat()}]" if a.until else "]"))
        for s in a.sources[:2]:
            say(f"    {s}")


@supply_app.command("changes")
def supply_changes(
    start: Annotated[str, typer.Option("--since", help="YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--until", help="YYYY-MM-DD")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout")] = False,
) -> None:
    """Control-list changes between two dates (each one an alert to the partners)."""
    from trilink.supply.controls import changes_between

    changes = changes_between(parse_day(start, "--since"), parse_day(end, "--until"))
    if as_json:
        emit_json([{**dataclasses.asdict(c), "day": c.day.isoformat()} for c in changes])
        return
    for c in changes:
        say(f"{c.day.isoformat()} {c.imposed_by}: {c.what}")


@supply_app.command("replay")
def supply_replay(
    replay: Annotated[str, typer.Argument(help="2019-fluorine, 2023-gallium, or a file")],
    runs: Annotated[int, typer.Option(min=2, max=10_000, help="Monte Carlo runs")] = 50,
    seed: Annotated[int, typer.Option(min=0, help="master seed")] = 0,
    regimes: Annotated[str, typer.Option(
        help="comma-separated: alone, record (agreements as they stood), a date YYYY-MM-DD "
             "(the agreements in force then, applied throughout) or a regime id; the first "
             "is the baseline")] = "alone,record,2024-01-01",
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout")] = False,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="also write DIR/replay.json and DIR/report.html")] = None,
) -> None:
    """When each nation would have been warned under each sharing regime, with 95 %
    confidence intervals (days after the control took effect; simulated parts named)."""
    from trilink.sharing import AgreementInvalidError
    from trilink.supply.replay import compare_replay

    labels = tuple(r.strip() for r in regimes.split(",") if r.strip())
    if not labels:
        fail("--regimes: give at least one regime")
    try:
        doc = compare_replay(replay, runs=runs, seed=seed, regimes=labels)
    except AgreementInvalidError as exc:
        fail(f"--regimes: {exc.errors[0].problem}")
    if out_dir is not None:
        import json

        from trilink.report.files import write_atomic
        from trilink.supply.report import replay_html

        try:
            write_atomic(out_dir, "replay.json", json.dumps(doc, indent=2) + "\n")
            write_atomic(out_dir, "report.html", replay_html(replay, doc, seed))
        except OSError as exc:
            fail(f"--out: cannot write to {exc.filename or out_dir}: {exc.strerror or exc}")
    if as_json:
        emit_json(doc)
        return
    simulated = doc["simulated"]
    assert isinstance(simulated, dict)
    say(f"{doc['title']}: control announced {doc['announced']}, in force {doc['effective']}"
        f"; {runs} runs (SIMULATED in part: {simulated['note']})")
    nations = doc["nations"]
    assert isinstance(nations, dict)
    for n, v in nations.items():
        def fmt(c: dict[str, float | None]) -> str:
            if c["mean"] is None:
                return f"never in {c['never']} run(s)"
            return f"day {c['mean']:+.1f} [{c['ci_low']:+.1f}, {c['ci_high']:+.1f}]"
        base = labels[0]
        parts = [f"{r} {fmt(v[r])}" + ("" if r == base else
                                         f" (vs {base} {fmt(v[f'{r}_minus_{base}'])})")
                 for r in labels]
        say(f"  {n}: watch day {v['watch_day']:+.0f} (announcement); warned: "
            + "; ".join(parts))


def register(app: typer.Typer) -> None:
    app.add_typer(supply_app, name="supply")

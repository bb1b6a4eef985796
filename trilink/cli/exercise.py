"""`trilink exercise`: combined exercises on a multi-year plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from trilink.cli.common import emit_json, fail, say
from trilink.fileio import write_bytes_atomic

exercise_app = typer.Typer(help="Combined exercises: plan a multi-year programme, score a run.",
                           no_args_is_help=True)


@exercise_app.command("plan")
def exercise_plan(
    programme: Annotated[str, typer.Argument(help="programme file, or a shipped one's id "
                                                  "(e.g. programme-2026-2028)")],
    out_dir: Annotated[Path, typer.Option("--out", help="folder for calendar.ics, "
                                                        "schedule.json and plan.html")],
    as_json: Annotated[bool, typer.Option("--json", help="the schedule as JSON on stdout")
                       ] = False,
) -> None:
    """Schedule a programme with CP-SAT; write an iCalendar, the schedule and a page.
    An impossible programme gets the constraints that conflict, one per line."""
    from trilink.exercise.calendar import to_ical
    from trilink.exercise.plan_report import plan_html
    from trilink.exercise.programme import load_programme
    from trilink.exercise.schedule import schedule
    from trilink.report.files import write_atomic

    if out_dir.exists() and not out_dir.is_dir():
        fail(f"--out: {out_dir} is a file; expected a folder (it is created if missing)")
    plan = schedule(load_programme(programme))
    doc = {"programme": plan.programme.id, "name": plan.programme.name,
           "objective": plan.objective, "optimal": plan.optimal,
           "notional": True,
           "exercises": [{"series": it.occurrence.series.id, "period": it.occurrence.label,
                          "first_day": it.first_day.isoformat(),
                          "last_day": it.last_day.isoformat(),
                          "participants": list(it.occurrence.series.participants),
                          "holidays_touched": list(it.holidays_touched)}
                         for it in plan.items]}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(out_dir / "calendar.ics", to_ical(plan))
        write_atomic(out_dir, "schedule.json", json.dumps(doc, indent=2) + "\n")
        write_atomic(out_dir, "plan.html", plan_html(plan))
    except OSError as exc:
        fail(f"--out: cannot write to {exc.filename or out_dir}: {exc.strerror or exc}")
    if as_json:
        emit_json(doc)
        return
    say(f"{plan.programme.id}: {len(plan.items)} exercise(s) scheduled "
        f"({'optimal' if plan.optimal else 'feasible'}, objective {plan.objective}) -> "
        f"{out_dir / 'calendar.ics'}, {out_dir / 'plan.html'}")


@exercise_app.command("score")
def exercise_score(
    run_dir: Annotated[Path, typer.Argument(help="folder of a `trilink run` or `trilink live`")],
    out_dir: Annotated[Path, typer.Option("--out", help="folder for after_action.json/.html")],
    standards: Annotated[str, typer.Option(help="standards file, or a shipped one's id")
                         ] = "standards-bmd-tracking",
    history: Annotated[list[Path] | None, typer.Option(
        help="after_action.json of earlier runs of the same series (repeatable)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the report as JSON on stdout")
                       ] = False,
) -> None:
    """Score a run against its objectives: what met the standard, what did not and why,
    beside earlier runs of the same series."""
    from trilink.exercise.score import after_action, after_action_html, load_standards, read_record
    from trilink.exercise.score import score as score_run
    from trilink.report.files import write_atomic

    std = load_standards(standards)
    record = read_record(run_dir)
    earlier = []
    for h in history or []:
        try:
            earlier.append(json.loads(h.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            fail(f"--history: {h}: not a readable after_action.json: {exc}")
        if not isinstance(earlier[-1], dict) or "objectives" not in earlier[-1]:
            fail(f"--history: {h}: objectives: expected an after_action.json")
    doc = after_action(record, std, score_run(record, std), earlier)
    try:
        write_atomic(out_dir, "after_action.json", json.dumps(doc, indent=2) + "\n")
        write_atomic(out_dir, "after_action.html", after_action_html(doc))
    except OSError as exc:
        fail(f"--out: cannot write to {exc.filename or out_dir}: {exc.strerror or exc}")
    if as_json:
        emit_json(doc)
        return
    unmeasured = f", {doc['not_measured']} not measured" if doc["not_measured"] else ""
    say(f"{doc['run']['scenario']}: {doc['met']} objective(s) met, {doc['not_met']} not met"
        f"{unmeasured} -> {out_dir / 'after_action.html'}")
    for o in doc["objectives"]:
        verdict = {True: "met", False: "NOT MET", None: "not measured"}[o["met"]]
        say(f"  {o['id']}: {verdict} ({o['why']})")


def register(app: typer.Typer) -> None:
    app.add_typer(exercise_app, name="exercise")

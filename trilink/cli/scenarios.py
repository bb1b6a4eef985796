"""`trilink validate` (scenario files) and `trilink scenarios` (the shipped library)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from trilink.cli.common import complain, emit_json, out, say


def validate(
    files: Annotated[list[Path], typer.Argument(help="scenario YAML files")],
    reachability: Annotated[
        bool, typer.Option(help="also check that every missile can fly the given apogee/range")
    ] = True,
) -> None:
    """Check scenario files: one line per good file; FILE:LINE: field: problem otherwise."""
    from trilink.sim.flights import fly_scenarios
    from trilink.sim.scenario import (
        Scenario,
        ScenarioInvalidError,
        ScenarioProblem,
        load_scenario,
        shipped_scenario_path,
    )

    bad = False
    good: list[tuple[Path, Scenario]] = []
    for f in files:
        # A shipped scenario's id names its file inside the package (as `trilink run`).
        shipped = None if f.exists() else shipped_scenario_path(str(f))
        f = shipped or f
        try:
            good.append((f, load_scenario(f)))
        except ScenarioInvalidError as exc:
            bad = True
            for e in exc.errors:
                complain(str(e))
    if reachability and good:
        results = fly_scenarios([s for _, s in good])
        lines = _launch_lines(good)
        failed: set[Path] = set()
        for lf in results:
            if not lf.fit.converged:
                path = next(p for p, s in good if s.id == lf.scenario_id)
                line = lines.get((str(path), lf.launch.id), 1)
                e = ScenarioProblem(str(path), line, f"launches.{lf.launch.id}", lf.fit.message)
                complain(str(e))
                failed.add(path)
        if failed:
            bad = True
            good = [(p, s) for p, s in good if p not in failed]
    for path, sc in good:
        n = len(sc.launches)
        say(f"{path}: ok ({sc.id}, {n} launch{'es' if n != 1 else ''})")
    if bad:
        raise typer.Exit(2)


def _launch_lines(items: list[tuple[Path, Any]]) -> dict[tuple[str, str], int]:
    """Line of each launch's entry, for reachability errors."""
    import yaml

    lines: dict[tuple[str, str], int] = {}
    for path, _ in items:
        node = yaml.compose(path.read_text(encoding="utf-8"))
        if not isinstance(node, yaml.MappingNode):
            continue
        for key, value in node.value:
            if key.value == "launches" and isinstance(value, yaml.SequenceNode):
                for item in value.value:
                    if isinstance(item, yaml.MappingNode):
                        for k, v in item.value:
                            if k.value == "id":
                                lines[(str(path), str(v.value))] = item.start_mark.line + 1
    return lines



def scenarios(
    as_json: Annotated[bool, typer.Option("--json", help="JSON array on stdout")] = False,
) -> None:
    """List the shipped scenarios: historical replays, the 2022-11-02 day, exercises."""
    from trilink.sim.scenario import load_scenario, shipped_scenarios

    rows: list[dict[str, Any]] = []
    for sid in shipped_scenarios():
        sc = load_scenario(sid)
        rows.append({"id": sid, "title": sc.title,
                     "date": None if sc.date is None else sc.date.isoformat(),
                     "regime": sc.regime or ("record of the date" if sc.date else "historical"),
                     "launches": len(sc.launches)})
    if as_json:
        emit_json(rows)
        return
    table = Table(title="shipped scenarios", header_style="bold")
    for col in ("id", "date", "launches", "sharing", "title"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r["id"]), str(r["date"] or ""), str(r["launches"]), str(r["regime"]),
                      str(r["title"]))
    out.print(table)




def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(scenarios)

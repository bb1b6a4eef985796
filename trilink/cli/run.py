"""`trilink run` (a scenario end to end) and `trilink report` (draw the report again)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from trilink.cli.common import fail, out_folder, say


def run(
    scenario: Annotated[str, typer.Argument(help="scenario file, or the id of a shipped one")],
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the outputs")],
    seed: Annotated[int, typer.Option(min=0, help="seed of every random draw")] = 0,
    regime: Annotated[
        str | None, typer.Option(help="sharing regime (default: the scenario's)")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="write into a folder that is not empty, replacing a run's outputs")
    ] = False,
) -> None:
    """Run a scenario end to end: sensors, national nodes sharing over the in-memory bus,
    warnings, and the scenario's cyber campaign if it scripts one. Writes summary.json,
    alerts/*.xml (CAP 1.2), audit/<NATION>.sqlite, record.json and report.html."""
    from trilink._numba_cache import note_if_cold
    from trilink.sharing import AgreementInvalidError
    from trilink.sim.run import run_scenario
    from trilink.sim.scenario import load_scenario

    sc = load_scenario(scenario)
    out_folder(out_dir, force)
    note_if_cold()
    started = time.perf_counter()
    try:
        with _SimProgress(f"{sc.id}", quiet) as bar:
            summary = run_scenario(sc, out_dir, seed=seed, regime=regime, progress=bar.update)
    except AgreementInvalidError as exc:
        fail(f"--regime: {exc.errors[0].problem}")
    except TimeoutError:  # an OSError, but never the folder's fault: a bug, shown as one
        raise
    except OSError as exc:
        fail(f"--out: cannot write to {exc.filename or out_dir}: {exc.strerror or exc}")
    wall_s = time.perf_counter() - started
    say(run_summary_line(summary, out_dir, wall_s, bar.total_s))


class _SimProgress:
    """A rich progress bar over simulated time, on stderr, throttled (the driver calls
    it for every event) and silent when stderr is not a terminal or ``quiet``."""

    def __init__(self, label: str, quiet: bool) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.total_s = 0.0
        self._shown = -1
        console = Console(stderr=True)
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(),
            # The total is unknown (None) until the driver's first call: shown as text.
            TextColumn("simulated {task.completed:,.0f} s of {task.fields[span]}"),
            TimeElapsedColumn(), console=console, transient=True,
            disable=quiet or not console.is_terminal)
        self._task = self._progress.add_task(label, total=None, span="…")

    def __enter__(self) -> _SimProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def update(self, done_s: float, total_s: float) -> None:
        self.total_s = total_s
        step = int(200 * done_s / total_s) if total_s > 0 else 0
        if step != self._shown:
            self._shown = step
            self._progress.update(self._task, completed=done_s, total=total_s,
                                  span=f"{total_s:,.0f} s")


def run_summary_line(summary: dict[str, Any], out_dir: Path, wall_s: float,
                     simulated_s: float) -> str:
    """The one line `trilink run` ends with: what happened and how fast."""
    launches = summary["launches"]
    warned: dict[str, float] = {}
    false_alarms = 0
    for launch in launches:
        for nation, v in launch["nations"].items():
            false_alarms += v["false_alarms"]
            t = v["first_warning_s"]
            if t is not None and (nation not in warned or t < warned[nation]):
                warned[nation] = t
    who = ", ".join(f"{n} at T+{t:.0f} s" for n, t in sorted(warned.items())) or "nobody"
    alerts = len(list((out_dir / "alerts").glob("*.xml")))
    factor = simulated_s / wall_s if wall_s > 0 else float("inf")
    consults: dict[str, dict[str, Any]] = {}
    for launch in launches:
        c = launch.get("consultation") or {}
        if c.get("id") is not None:
            consults.setdefault(c["id"], c)
    talk = "no consultation"
    if consults:
        first = min(consults.values(), key=lambda c: c["opened_s"])
        released = first["statement_released_s"]
        talk = (f"{len(consults)} consultation(s), first opened at T+{first['opened_s']:.0f} s"
                + (f", statement at T+{released / 60:.0f} min" if released is not None
                   else ", no statement"))
    cyber = summary.get("cyber")
    if isinstance(cyber, dict):  # a scripted cyber campaign rode along
        per = cyber.get("nations", {}).values()
        held = sum(t is not None for n in per for t in n["learned_s"].values())
        pairs = sum(len(n["learned_s"]) for n in per)
        n_alerts = sum(n["alerts"] for n in per)
        talk += (f"; cyber campaign: {held} of {pairs} nation-indicator pairs held, "
                 f"{n_alerts} cyber alert(s)")
    return (f"{summary['scenario']}: {len(launches)} launch(es), regime {summary['regime']}; "
            f"first warnings: {who}; {alerts} CAP message(s), {false_alarms} false alarm(s); "
            f"{talk}; {simulated_s:,.0f} s simulated in {wall_s:.1f} s "
            f"({factor:,.0f}x real time) -> {out_dir / 'report.html'}")



def report(
    run_dir: Annotated[Path, typer.Argument(help="folder of a `trilink run`")],
) -> None:
    """Draw DIR/report.html again from DIR/record.json (no re-run)."""
    from trilink.report import write_report

    path = run_dir / "record.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"{path}: no such file (expected the record.json of a `trilink run` folder)")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"{path}: not a readable JSON record: {exc}")
    if not isinstance(record, dict) or record.get("schema_version") != 1:
        fail(f"{path}: schema_version: expected 1 (a record written by `trilink run`)")
    try:
        written = write_report(record, run_dir)
    except (KeyError, TypeError, ValueError) as exc:
        fail(f"{path}: malformed record: {exc!r}")
    say(f"{written}")




def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(report)

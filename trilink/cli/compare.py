"""`trilink compare`: sharing regimes compared on the same launches (Monte Carlo)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from trilink.cli.common import fail, out_folder, say


def compare(
    scenarios: Annotated[list[str], typer.Argument(
        help="scenario files or shipped ids; also supply replays (2019-fluorine, "
             "2023-gallium or a replay file) and cyber campaigns (bybit-2025-replay or a "
             "file with a cyber: section)")],
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the outputs")],
    regimes: Annotated[str | None, typer.Option(
        help="comma-separated regime ids, e.g. national-only,tisa-relay,trilateral-realtime; "
             "also record (the agreements as they stood at each moment) and the cyber "
             "regimes (cyber-bilateral-2023, cyber-trilateral-2024)")] = None,
    dates: Annotated[str | None, typer.Option(
        help="comma-separated dates YYYY-MM-DD: the agreements in force on each")] = None,
    runs: Annotated[int, typer.Option(min=1, help="Monte Carlo runs")] = 20,
    seed: Annotated[int, typer.Option(min=0, help="master seed of every run")] = 0,
    baseline: Annotated[str | None, typer.Option(
        help="regime the differences are taken to (default: the first)")] = None,
    relay_delay_s: Annotated[float | None, typer.Option(
        "--relay-delay-s", min=0.0, help="relay delay of relayed routes (TISA), seconds")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="local worker processes (default: one per core)")] = None,
    dask: Annotated[str | None, typer.Option(
        help="Dask scheduler address, e.g. tcp://127.0.0.1:8786")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="write into a folder that is not empty, replacing its outputs")
    ] = False,
) -> None:
    """Compare sharing regimes on the same launches and measurements (Monte Carlo):
    what each agreement buys each nation, with 95 % confidence intervals. Writes
    comparison.json, comparison.csv, runs.csv and report.html."""
    import datetime as dt

    from trilink.analysis.compare import (
        CompareError,
        CompareSpec,
        regime_for_date,
        run_comparison,
        write_outputs,
    )
    from trilink.analysis.executors import ExecutorError

    labels = [r.strip() for r in (regimes or "").split(",") if r.strip()]
    for d in (dates or "").split(","):
        if d.strip():
            try:
                labels.append(regime_for_date(dt.date.fromisoformat(d.strip())))
            except ValueError:
                fail(f"--dates: {d.strip()!r} is not a date (expected YYYY-MM-DD)")
    if not labels:
        fail("--regimes/--dates: give at least one regime or date")
    out_folder(out_dir, force)
    from trilink._numba_cache import note_if_cold

    note_if_cold()
    spec = CompareSpec(tuple(scenarios), tuple(labels), runs, seed, baseline, relay_delay_s)
    started = time.perf_counter()
    try:
        with _TaskProgress("compare", quiet) as bar:
            comparison, rows = run_comparison(spec, workers=workers, dask_address=dask,
                                              progress=bar.update)
        write_outputs(out_dir, comparison, rows)
    except CompareError as exc:
        fail(str(exc))
    except ExecutorError as exc:
        fail(f"--dask: {exc}" if dask else str(exc))
    except OSError as exc:
        fail(f"--out: cannot write to {exc.filename or out_dir}: {exc.strerror or exc}")
    wall = time.perf_counter() - started
    say(f"compared {len(labels)} regime(s) on {len(scenarios)} scenario(s), {runs} run(s) "
         f"each, in {wall:.1f} s -> {out_dir}")
    for line in headline_lines(comparison):
        say(f"  {line}")
    for line in domain_lines(comparison):
        say(f"  {line}")


def headline_lines(comparison: dict[str, Any], metric: str = "first_known_s",
                   most: int = 6) -> list[str]:
    """The largest significant gains in ``metric`` against the baseline, one line each."""
    found = []
    for r in comparison["results"]:
        if r["metric"] != metric or r["diff_mean"] is None or r["diff_ci_high"] is None:
            continue
        if r["diff_ci_high"] < 0:  # earlier, and the interval excludes zero
            found.append(r)
    found.sort(key=lambda r: r["diff_mean"])
    base = comparison["baseline"]
    return [f"{r['nation']} {r['launch']}: {metric} {-r['diff_mean']:.1f} s earlier under "
            f"{r['regime']} than {base} [95 % CI {-r['diff_ci_high']:.1f}-"
            f"{-r['diff_ci_low']:.1f} s]" for r in found[:most]]


def domain_lines(comparison: dict[str, Any], most: int = 8) -> list[str]:
    """Supply replays and cyber campaigns: the significant gains against the baseline
    (each nation warned / learning earlier), then what only sharing brought."""
    kinds = {sc["id"]: sc.get("kind") for sc in comparison["scenarios"]}
    base = comparison["baseline"]
    units = {"warning_day": ("warned", "day(s)", 1.0), "learned_s": ("learns", "h", 3600.0)}
    by_key = {(r["launch"], r["nation"], r["regime"], r["metric"]): r
              for r in comparison["results"]}
    runs = comparison["runs"]
    gains, only = [], []
    for r in comparison["results"]:
        if kinds.get(r["scenario"]) not in ("supply", "cyber") or r["regime"] == base:
            continue
        verb, unit, scale = units[r["metric"]]
        if r["diff_mean"] is not None and r["diff_ci_high"] is not None \
                and r["diff_ci_high"] < 0:
            gains.append((r["diff_mean"] / scale, f"{r['nation']} {r['launch']}: {verb} "
                          f"{-r['diff_mean'] / scale:.1f} {unit} earlier under {r['regime']} "
                          f"than {base} [95 % CI {-r['diff_ci_high'] / scale:.1f}-"
                          f"{-r['diff_ci_low'] / scale:.1f}]"))
        b = by_key.get((r["launch"], r["nation"], base, r["metric"]))
        if b is not None and r["n"] > b["n"]:
            only.append(f"{r['nation']} {r['launch']}: {verb} in {r['n']}/{runs} runs under "
                        f"{r['regime']}, in {b['n']}/{runs} under {base}")
    gains.sort(key=lambda g: g[0])
    return [g[1] for g in gains[:most]] + only[:most]


class _TaskProgress:
    """A rich progress bar over Monte Carlo tasks, on stderr (silent off a terminal)."""

    def __init__(self, label: str, quiet: bool) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        console = Console(stderr=True)
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                  MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                                  transient=True, disable=quiet or not console.is_terminal)
        self._task = self._progress.add_task(label, total=None)

    def __enter__(self) -> _TaskProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def update(self, done: int, total: int) -> None:
        self._progress.update(self._task, completed=done, total=total)




def register(app: typer.Typer) -> None:
    app.command()(compare)

"""The ``trilink`` command line: typer commands, rich tables, ``--json`` for machines.

User errors (bad flags, bad files, unreachable flights) print one line on stderr and
exit with status 2; they never show a traceback.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table
from typer.exceptions import Abort, Exit, TyperException

from trilink import __version__

app = typer.Typer(
    name="trilink",
    help=(
        "trilink: the US-Japan-ROK missile-warning cooperation system as software.\n\n"
        "Replays DPRK launches with physics fitted to published flight data and tells whose "
        "land and sea each missile flies over or falls into."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# Piped output gets a fixed, roomy width so tables stay readable in logs and files.
out = Console(width=None if sys.stdout.isatty() else 120)


class UserError(Exception):
    """A mistake in what the user gave us: reported as one line, exit status 2."""


def _say(line: str) -> None:
    """One plain line on stdout (no wrapping or markup: scripts parse these)."""
    sys.stdout.write(line + "\n")


def _complain(line: str) -> None:
    """One plain line on stderr."""
    sys.stderr.write(line + "\n")


def _fail(message: str) -> None:
    raise UserError(message)


def _emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def _parse_latlon(text: str) -> tuple[float, float]:
    parts = text.replace(" ", "").split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        _fail(f"--launch: expected LAT,LON in decimal degrees (e.g. 39.2,125.67), got {text!r}")
    if not -90.0 <= lat <= 90.0:
        _fail(f"--launch: latitude must lie in [-90, 90] degrees, got {lat}")
    if not -180.0 <= lon <= 360.0:
        _fail(f"--launch: longitude must lie in [-180, 360] degrees, got {lon}")
    return lat, lon


def _zones_along(flight: Any, step_s: float = 1.0) -> list[dict[str, Any]]:
    """Land and territorial seas the ground track passes over, with times."""
    from trilink.geo import zone_map

    t = np.arange(0.0, flight.flight_time_s, step_s)
    t = np.append(t, flight.flight_time_s)
    lat, lon, _ = flight.geodetic_at(t)
    crossings = zone_map().crossings(t, lat, lon)
    return [
        {
            "nation": c.nation,
            "zone": str(c.kind),
            "enter_s": round(float(c.t_enter_s), 1),
            "exit_s": round(float(c.t_exit_s), 1),
        }
        for c in crossings
    ]


def _impact_zone(lat_rad: float, lon_rad: float) -> dict[str, Any]:
    from trilink.geo import zone_map

    hit = zone_map().locate(lat_rad, lon_rad)
    return {
        "nation": hit.nation,
        "zone": str(hit.kind),
        "distance_to_coast_km": round(hit.distance_to_coast_m / 1e3, 1),
    }


def _summary_dict(fit: Any) -> dict[str, Any]:
    s = fit.summary
    return {
        "missile": fit.request.profile.key,
        "converged": fit.converged,
        "flight_time_s": round(s.flight_time_s, 1),
        "apogee_km": round(s.apogee_m / 1e3, 2),
        "apogee_time_s": round(s.apogee_time_s, 1),
        "range_km": round(s.range_m / 1e3, 2),
        "burnout_time_s": round(s.burnout_time_s, 1),
        "burnout_altitude_km": round(s.burnout_height_m / 1e3, 2),
        "burnout_speed_m_s": round(s.burnout_speed_m_s, 1),
        "impact_lat": round(float(np.degrees(s.impact_lat_rad)), 4),
        "impact_lon": round(float((np.degrees(s.impact_lon_rad) + 180.0) % 360.0 - 180.0), 4),
        "impact_time_s": round(s.flight_time_s, 1),
        "impact_speed_m_s": round(s.impact_speed_m_s, 1),
        "impact_azimuth_deg": round(float(np.degrees(s.impact_azimuth_rad)), 3),
        "controls": {
            "heading_deg": round(float(np.degrees(fit.controls.heading_rad)), 3),
            "pitch_final_deg": round(float(np.degrees(fit.controls.pitch_final_rad)), 3),
            "energy_fraction": round(fit.controls.energy_fraction, 4),
        },
    }


def _track(flight: Any, step_s: float) -> list[dict[str, float]]:
    t = np.append(np.arange(0.0, flight.flight_time_s, step_s), flight.flight_time_s)
    r, v = flight.state_at(t)
    from trilink.physics import earth

    lat, lon, h = earth.ecef_to_geodetic(r)
    speed = np.linalg.norm(v, axis=1)
    return [
        {
            "t_s": round(float(a), 1),
            "lat": round(float(np.degrees(b)), 4),
            "lon": round(float((np.degrees(c) + 180.0) % 360.0 - 180.0), 4),
            "alt_km": round(float(d) / 1e3, 2) + 0.0,  # + 0.0 turns -0.0 into 0.0
            "speed_m_s": round(float(e), 1),
        }
        for a, b, c, d, e in zip(t, lat, lon, h, speed, strict=True)
    ]


def _print_summary(title: str, summary: dict[str, Any], published: dict[str, Any] | None) -> None:
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("quantity")
    table.add_column("trilink", justify="right")
    if published is not None:
        table.add_column("published", justify="right")
    rows = [
        ("flight time (s)", "flight_time_s"),
        ("apogee (km)", "apogee_km"),
        ("range (km)", "range_km"),
        ("burnout time (s)", "burnout_time_s"),
        ("burnout altitude (km)", "burnout_altitude_km"),
        ("burnout speed (m/s)", "burnout_speed_m_s"),
        ("impact latitude (deg)", "impact_lat"),
        ("impact longitude (deg)", "impact_lon"),
    ]
    for label, key in rows:
        cells = [label, f"{summary[key]}"]
        if published is not None:
            value = published.get(key)
            cells.append("" if value is None else f"{value}")
        table.add_row(*cells)
    zone = summary.get("impact_zone")
    if zone:
        where = f"{zone['nation'] or '-'} {zone['zone']}"
        cells = ["impact falls in", where]
        if published is not None:
            cells.append(str(published.get("impact", "")))
        table.add_row(*cells)
    out.print(table)
    crossings = summary.get("overflight") or []
    if crossings:
        ct = Table(title="over land and territorial seas", header_style="bold")
        for col in ("nation", "zone", "enter (s)", "exit (s)"):
            ct.add_column(col)
        for c in crossings:
            ct.add_row(c["nation"], c["zone"], f"{c['enter_s']:.0f}", f"{c['exit_s']:.0f}")
        out.print(ct)


def _print_track(track: list[dict[str, float]]) -> None:
    table = Table(title="trajectory", header_style="bold")
    for col in ("t (s)", "lat (deg)", "lon (deg)", "altitude (km)", "speed (m/s)"):
        table.add_column(col, justify="right")
    for p in track:
        table.add_row(
            f"{p['t_s']:.0f}", f"{p['lat']:.3f}", f"{p['lon']:.3f}",
            f"{p['alt_km']:.1f}", f"{p['speed_m_s']:.0f}",
        )
    out.print(table)


@app.command()
def trajectory(
    launch: Annotated[str, typer.Option(help="launch site LAT,LON in decimal degrees")],
    azimuth: Annotated[float, typer.Option(help="bearing from the site to the impact, degrees")],
    apogee_km: Annotated[float, typer.Option(help="published apogee, km")],
    range_km: Annotated[float, typer.Option(help="published ground range, km")],
    missile: Annotated[
        str, typer.Option(help="class (SRBM, MRBM, IRBM, ICBM) or type (e.g. hwasong-17)")
    ] = "ICBM",
    payload_kg: Annotated[
        float | None, typer.Option(help="payload override, kg (default: the profile's)")
    ] = None,
    step_s: Annotated[float, typer.Option(help="spacing of the printed trajectory, s")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
) -> None:
    """Fit a missile flight to a published apogee and range, and report it."""
    from trilink.physics.fit import FitRequest, fit_flight
    from trilink.physics.missiles import get_profile

    lat, lon = _parse_latlon(launch)
    if not 0.0 <= azimuth < 360.0:
        _fail(f"--azimuth: expected degrees in [0, 360), got {azimuth}")
    if not 0.0 < apogee_km <= 10000.0:
        _fail(f"--apogee-km: expected a height in (0, 10000] km, got {apogee_km}")
    if not 0.0 < range_km <= 16000.0:
        _fail(f"--range-km: expected a range in (0, 16000] km, got {range_km}")
    if step_s <= 0:
        _fail(f"--step-s: expected a positive number of seconds, got {step_s}")
    try:
        profile = get_profile(missile)
    except KeyError as exc:
        _fail(f"--missile: {exc.args[0]}")
    if payload_kg is not None:
        if payload_kg <= 0:
            _fail(f"--payload-kg: expected a positive mass, got {payload_kg}")
        profile = profile.model_copy(update={"payload_kg": payload_kg})
    request = FitRequest(
        float(np.radians(lat)), float(np.radians(lon)), float(np.radians(azimuth)),
        apogee_km * 1e3, range_km * 1e3, profile,
    )
    fit = fit_flight(request)
    if not fit.converged:
        _fail(f"--apogee-km/--range-km: {fit.message}")
    summary = _summary_dict(fit)
    summary["impact_zone"] = _impact_zone(fit.summary.impact_lat_rad, fit.summary.impact_lon_rad)
    summary["overflight"] = _zones_along(fit.flight)
    track = _track(fit.flight, step_s)
    if as_json:
        _emit_json({**summary, "track": track})
        return
    _print_summary(f"{profile.name} from {lat:.4f}, {lon:.4f} toward {azimuth:.1f} deg", summary,
                   None)
    _print_track(track)


def _published_dict(launch: Any) -> dict[str, Any]:
    p = launch.published
    return {
        "flight_time_s": p.flight_time_s,
        "apogee_km": p.apogee_km,
        "range_km": p.range_km,
        "impact": p.impact,
        "public_warning": p.public_warning,
    }


@app.command()
def fly(
    scenario: Annotated[str, typer.Argument(help="scenario file, or the id of a shipped one")],
    step_s: Annotated[float, typer.Option(help="spacing of the printed trajectory, s")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
) -> None:
    """Replay a scenario's launches: fitted flights beside the published record."""
    from trilink.sim.flights import fly_scenarios
    from trilink.sim.scenario import load_scenario

    if step_s <= 0:
        _fail(f"--step-s: expected a positive number of seconds, got {step_s}")
    sc = load_scenario(scenario)
    flights = fly_scenarios([sc])
    launches: list[dict[str, Any]] = []
    for lf in flights:
        if not lf.fit.converged:
            _fail(f"{scenario}: launches.{lf.launch.id}: {lf.fit.message}")
        summary = _summary_dict(lf.fit)
        s = lf.fit.summary
        summary["impact_zone"] = _impact_zone(s.impact_lat_rad, s.impact_lon_rad)
        summary["overflight"] = _zones_along(lf.fit.flight)
        launches.append(
            {
                "id": lf.launch.id,
                "time_utc": lf.launch.time_utc.isoformat().replace("+00:00", "Z"),
                "ours": summary,
                "published": _published_dict(lf.launch),
                "track": _track(lf.fit.flight, step_s),
            }
        )
    if as_json:
        _emit_json({"scenario": sc.id, "title": sc.title, "launches": launches})
        return
    out.print(f"[bold]{sc.title}[/bold]")
    for item in launches:
        _print_summary(f"launch {item['id']} at {item['time_utc']}", item["ours"],
                       item["published"])
        _print_track(item["track"])


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="scenario file, or the id of a shipped one")],
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the outputs")],
    seed: Annotated[int, typer.Option(min=0, help="seed of every random draw")] = 0,
    regime: Annotated[
        str | None, typer.Option(help="sharing regime (default: the scenario's)")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False,
) -> None:
    """Run a scenario end to end: sensors, national nodes sharing over the in-memory bus,
    warnings. Writes summary.json, alerts/*.xml (CAP 1.2), audit/<NATION>.sqlite,
    record.json and report.html."""
    from trilink.sharing import AgreementInvalidError
    from trilink.sim.run import run_scenario
    from trilink.sim.scenario import load_scenario

    sc = load_scenario(scenario)
    if out_dir.exists() and not out_dir.is_dir():
        _fail(f"--out: {out_dir} is a file; expected a folder (it is created if missing)")
    started = time.perf_counter()
    try:
        with _SimProgress(f"{sc.id}", quiet) as bar:
            summary = run_scenario(sc, out_dir, seed=seed, regime=regime, progress=bar.update)
    except AgreementInvalidError as exc:
        _fail(f"--regime: {exc.errors[0].problem}")
    except OSError as exc:
        _fail(f"--out: cannot write to {exc.filename or out_dir}: {exc.strerror or exc}")
    wall_s = time.perf_counter() - started
    _say(run_summary_line(summary, out_dir, wall_s, bar.total_s))


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
            TextColumn("simulated {task.completed:,.0f} / {task.total:,.0f} s"),
            TimeElapsedColumn(), console=console, transient=True,
            disable=quiet or not console.is_terminal)
        self._task = self._progress.add_task(label, total=None)

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
            self._progress.update(self._task, completed=done_s, total=total_s)


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
    return (f"{summary['scenario']}: {len(launches)} launch(es), regime {summary['regime']}; "
            f"first warnings: {who}; {alerts} CAP message(s), {false_alarms} false alarm(s); "
            f"{talk}; {simulated_s:,.0f} s simulated in {wall_s:.1f} s "
            f"({factor:,.0f}x real time) -> {out_dir}")


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="folder of a `trilink run`")],
) -> None:
    """Draw DIR/report.html again from DIR/record.json (no re-run)."""
    from trilink.report import write_report

    path = run_dir / "record.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        _fail(f"{path}: no such file (expected the record.json of a `trilink run` folder)")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        _fail(f"{path}: not a readable JSON record: {exc}")
    if not isinstance(record, dict) or record.get("schema_version") != 1:
        _fail(f"{path}: schema_version: expected 1 (a record written by `trilink run`)")
    try:
        written = write_report(record, run_dir)
    except (KeyError, TypeError, ValueError) as exc:
        _fail(f"{path}: malformed record: {exc!r}")
    _say(f"{written}")


@app.command()
def compare(
    scenarios: Annotated[list[str], typer.Argument(help="scenario files or shipped ids")],
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the outputs")],
    regimes: Annotated[str | None, typer.Option(
        help="comma-separated regime ids, e.g. national-only,tisa-relay,trilateral-realtime"
    )] = None,
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
                _fail(f"--dates: {d.strip()!r} is not a date (expected YYYY-MM-DD)")
    if not labels:
        _fail("--regimes/--dates: give at least one regime or date")
    if out_dir.exists() and not out_dir.is_dir():
        _fail(f"--out: {out_dir} is a file; expected a folder (it is created if missing)")
    spec = CompareSpec(tuple(scenarios), tuple(labels), runs, seed, baseline, relay_delay_s)
    started = time.perf_counter()
    try:
        with _TaskProgress("compare", quiet) as bar:
            comparison, rows = run_comparison(spec, workers=workers, dask_address=dask,
                                              progress=bar.update)
        write_outputs(out_dir, comparison, rows)
    except CompareError as exc:
        _fail(str(exc))
    except ExecutorError as exc:
        _fail(f"--dask: {exc}" if dask else str(exc))
    except OSError as exc:
        _fail(f"--out: cannot write to {exc.filename or out_dir}: {exc.strerror or exc}")
    wall = time.perf_counter() - started
    _say(f"compared {len(labels)} regime(s) on {len(scenarios)} scenario(s), {runs} run(s) "
         f"each, in {wall:.1f} s -> {out_dir}")
    for line in headline_lines(comparison):
        _say(f"  {line}")


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


@app.command()
def flights(
    as_json: Annotated[bool, typer.Option("--json", help="JSON array on stdout")] = False,
) -> None:
    """Every shipped historical launch: published flight time versus trilink's fit."""
    from trilink.sim.flights import fly_scenarios
    from trilink.sim.scenario import load_scenario, shipped_scenarios

    results = fly_scenarios([load_scenario(s) for s in shipped_scenarios()])
    rows: list[dict[str, Any]] = []
    for lf in results:
        s = lf.fit.summary
        err_rel = lf.flight_time_error
        rows.append(
            {
                "event": lf.scenario_id,
                "launch": lf.launch.id,
                "missile": lf.fit.request.profile.key,
                "apogee_km": lf.launch.apogee_km,
                "range_km": lf.launch.range_km,
                "fitted_apogee_km": round(s.apogee_m / 1e3, 1),
                "fitted_range_km": round(s.range_m / 1e3, 1),
                "published_flight_time_s": lf.launch.published.flight_time_s,
                "flight_time_s": round(s.flight_time_s, 0),
                "flight_time_error_pct": None if err_rel is None else round(100 * err_rel, 1),
                "converged": lf.fit.converged,
            }
        )
    if as_json:
        _emit_json(rows)
        return
    table = Table(title="Flight time: published vs trilink", header_style="bold")
    for col in ("event", "missile", "apogee km", "range km", "published s", "trilink s", "diff"):
        table.add_column(col, justify="right" if col not in ("event", "missile") else "left")
    for r in rows:
        pub = r["published_flight_time_s"]
        diff = r["flight_time_error_pct"]
        table.add_row(
            f"{r['event']} {r['launch']}", r["missile"], f"{r['apogee_km']:.0f}",
            f"{r['range_km']:.0f}", "" if pub is None else f"{pub:.0f}",
            f"{r['flight_time_s']:.0f}", "" if diff is None else f"{diff:+.1f} %",
        )
    out.print(table)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="scenario YAML files")],
    reachability: Annotated[
        bool, typer.Option(help="also check that every missile can fly the given apogee/range")
    ] = True,
) -> None:
    """Check scenario files: one line per good file; FILE:LINE: field: problem otherwise."""
    from trilink.sim.flights import fly_scenarios
    from trilink.sim.scenario import Scenario, ScenarioInvalidError, ScenarioProblem, load_scenario

    bad = False
    good: list[tuple[Path, Scenario]] = []
    for f in files:
        try:
            good.append((f, load_scenario(f)))
        except ScenarioInvalidError as exc:
            bad = True
            for e in exc.errors:
                _complain(str(e))
    if reachability and good:
        results = fly_scenarios([s for _, s in good])
        lines = _launch_lines(good)
        failed: set[Path] = set()
        for lf in results:
            if not lf.fit.converged:
                path = next(p for p, s in good if s.id == lf.scenario_id)
                line = lines.get((str(path), lf.launch.id), 1)
                e = ScenarioProblem(str(path), line, f"launches.{lf.launch.id}", lf.fit.message)
                _complain(str(e))
                failed.add(path)
        if failed:
            bad = True
            good = [(p, s) for p, s in good if p not in failed]
    for path, sc in good:
        n = len(sc.launches)
        _say(f"{path}: ok ({sc.id}, {n} launch{'es' if n != 1 else ''})")
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


@app.command()
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
        _emit_json(rows)
        return
    table = Table(title="shipped scenarios", header_style="bold")
    for col in ("id", "date", "launches", "sharing", "title"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r["id"]), str(r["date"] or ""), str(r["launches"]), str(r["regime"]),
                      str(r["title"]))
    out.print(table)


@app.command()
def missiles(
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout")] = False,
) -> None:
    """List the missile profiles and the class defaults."""
    from trilink.physics.missiles import catalogue

    cat = catalogue()
    if as_json:
        _emit_json(
            {
                "class_defaults": dict(cat.class_defaults),
                "profiles": {k: p.model_dump(mode="json") for k, p in cat.profiles.items()},
            }
        )
        return
    table = Table(title="missile profiles", header_style="bold")
    for col in ("name", "key", "class", "propellant", "stages", "launch t", "burn s", "default"):
        table.add_column(col)
    defaults = {v: k for k, v in cat.class_defaults.items()}
    for key, p in cat.profiles.items():
        table.add_row(
            p.name, key, p.missile_class, p.propellant, str(len(p.stages)),
            f"{p.launch_mass_kg / 1e3:.1f}", f"{p.total_burn_time_s:.0f}", defaults.get(key, ""),
        )
    out.print(table)


audit_app = typer.Typer(help="Nodes' hash-chained audit logs.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(
    file: Annotated[Path, typer.Argument(help="a node's audit log (SQLite)")],
) -> None:
    """Exit 0 if the hash chain is intact; 1 and the first broken record otherwise."""
    from trilink.sharing.audit import verify_cli

    code = verify_cli(str(file))
    if code:
        raise typer.Exit(code)


bench_app = typer.Typer(help="Benchmarks, side by side with peer libraries.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@bench_app.command("tracking")
def bench_tracking(
    seed: Annotated[int, typer.Option(min=0, help="measurement noise seed")] = 1,
    quick: Annotated[bool, typer.Option(help="smoke-test size: seconds, not minutes")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
) -> None:
    """trilink's tracker against Stone Soup and FilterPy: speed, RMSE, PCRLB.

    Needs the peers: pip install 'trilink[bench]'.
    """
    from trilink.analysis.bench_tracking import (
        PeersMissingError,
        format_table,
        run_tracking_benchmark,
    )

    try:
        result = run_tracking_benchmark(seed=seed, quick=quick)
    except PeersMissingError as exc:
        _fail(str(exc))
    if as_json:
        _emit_json(result)
        return
    out.print(format_table(result))


@bench_app.command("federation")
def bench_federation(
    quick: Annotated[bool, typer.Option(help="smoke-test size: seconds, not minutes")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
) -> None:
    """A node's track updates per second (verify + fuse) and its latency over raw
    JetStream, side by side against a local nats-server."""
    from trilink.analysis.bench_federation import run_federation_benchmark

    result = run_federation_benchmark(quick=quick)
    if as_json:
        _emit_json(result)
        return
    table = Table(title="National node: throughput and latency", header_style="bold")
    for col in ("figure", "value", "target"):
        table.add_column(col)
    table.add_row("track updates/s (one core)", f"{result['updates_per_s']:,.0f}", "≥ 20,000")
    table.add_row("µs per update (of which verify)",
                  f"{result['us_per_update']:.1f} ({result['verify_us_per_update']:.1f})", "")
    table.add_row("p50 / p99 raw JetStream (ms)",
                  f"{result['p50_ms_raw']:.2f} / {result['p99_ms_raw']:.2f}", "")
    table.add_row("p50 / p99 via the node (ms)",
                  f"{result['p50_ms_node']:.2f} / {result['p99_ms_node']:.2f}", "")
    table.add_row("p99 node / raw", f"{result['p99_node_over_raw']:.2f}", "≤ 2.0")
    out.print(table)


@bench_app.command("run")
def bench_run(
    scenario: Annotated[str, typer.Option(help="scenario to run")] = "2022-11-02-day",
    regime: Annotated[str, typer.Option(help="sharing regime")] = "trilateral-realtime",
    quick: Annotated[bool, typer.Option(help="smoke-test size: one short launch")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
) -> None:
    """`trilink run` against the clock: simulated seconds per wall second, peak memory."""
    from trilink.analysis.bench_run import run_benchmark

    result = run_benchmark(scenario="2022-11-02-srbm-south-of-nll" if quick else scenario,
                           regime=regime)
    if as_json:
        _emit_json(result)
        return
    table = Table(title=f"trilink run: {result['scenario']} ({result['regime']})",
                  header_style="bold")
    for col in ("figure", "value"):
        table.add_column(col)
    table.add_row("launches", str(result["launches"]))
    table.add_row("simulated span (s)", f"{result['simulated_s']:,.0f}")
    table.add_row("  of which a missile is in flight (s)", f"{result['in_flight_s']:,.0f}")
    table.add_row("wall time (s)", f"{result['wall_s']:.1f}")
    table.add_row("real-time factor", f"{result['realtime_factor']:,.0f}x")
    table.add_row("in-flight time / wall time", f"{result['in_flight_factor']:,.1f}x")
    table.add_row("peak RSS (MB)", f"{result['peak_rss_mb']:,.0f}")
    out.print(table)


# -- live mode: keys, nodes and the hotline ------------------------------------------

NATS_DEFAULT = "nats://127.0.0.1:4222"

keys_app = typer.Typer(help="Signing keys of live nodes.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _nation_flag(text: str, flag: str) -> str:
    from trilink.live.keys import parse_nations

    try:
        nations = parse_nations(text, flag)
    except ValueError as exc:
        _fail(str(exc))
    if len(nations) != 1:
        _fail(f"{flag}: expected one ISO alpha-3 code (e.g. JPN), got {text!r}")
    return nations[0]


def _positive(value: float, flag: str) -> float:
    if not value > 0:
        _fail(f"{flag}: expected a positive number of seconds, got {value}")
    return value


@keys_app.command("new")
def keys_new(
    nations: Annotated[str, typer.Option(help="comma-separated nations, e.g. USA,JPN,KOR")],
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the key files")],
    force: Annotated[bool, typer.Option("--force", help="replace existing key files")] = False,
) -> None:
    """Generate a signing key per nation: DIR/<NATION>.key (private, mode 0600; give each
    only to its own node) and DIR/registry.json (public keys, for every node)."""
    from trilink.live.keys import KeyFileError, parse_nations, write_keys

    try:
        written = write_keys(parse_nations(nations), out_dir, force=force)
    except (KeyFileError, ValueError) as exc:
        _fail(str(exc))
    for path in written:
        _say(str(path))


@app.command()
def node(
    nation: Annotated[str, typer.Option(help="the nation this node runs for, e.g. JPN")],
    keys: Annotated[Path, typer.Option(help="folder written by `trilink keys new`")],
    nats: Annotated[str, typer.Option(help="NATS server URL (JetStream enabled)")] = NATS_DEFAULT,
    regime: Annotated[str | None, typer.Option(
        help="sharing regime (default: the agreements in force today)")] = None,
    date: Annotated[str | None, typer.Option(
        help="read the agreements as in force on this date, YYYY-MM-DD")] = None,
    audit: Annotated[Path | None, typer.Option(help="audit log (SQLite) to append to")] = None,
    ack_deadline_s: Annotated[float, typer.Option(
        "--ack-deadline-s", help="seconds to wait for a read acknowledgement per step")] = 120.0,
    state: Annotated[Path | None, typer.Option(
        help="hotline journal: replayed at start, appended to while running, so a "
             "restarted node resumes its consultations")] = None,
) -> None:
    """Run a national node live over NATS until Ctrl-C or SIGTERM: partners' envelopes in,
    hotline escalations on the wall clock, control API on trilink.ctl.<NATION>."""
    import asyncio
    import datetime as dt
    import sqlite3

    from trilink.hotline.desk import DeskConfig
    from trilink.live.client import LiveError, check_url
    from trilink.live.keys import KeyFileError, load_keys_dir
    from trilink.live.node import LiveNode, live_national_node
    from trilink.sharing import AgreementInvalidError
    from trilink.sharing.audit import AuditFileError, AuditLog
    from trilink.sharing.policy import policy_for

    me = _nation_flag(nation, "--nation")
    _positive(ack_deadline_s, "--ack-deadline-s")
    try:
        check_url(nats)
    except LiveError as exc:
        _fail(str(exc))
    day = None
    if date is not None:
        try:
            day = dt.date.fromisoformat(date)
        except ValueError:
            _fail(f"--date: {date!r} is not a date (expected YYYY-MM-DD)")
    try:
        key, registry = load_keys_dir(keys, me)
    except KeyFileError as exc:
        _fail(str(exc))
    try:
        policy = policy_for(regime, day)
    except AgreementInvalidError as exc:
        _fail(f"--regime: {exc.errors[0].problem}")
    log = None
    if audit is not None:
        try:
            log = AuditLog(audit)
        except (OSError, AuditFileError, ValueError, sqlite3.Error) as exc:
            _fail(f"--audit: cannot open {audit}: {exc}")
    national = live_national_node(me, key, registry, policy, audit=log,
                                  desk_config=DeskConfig(ack_deadline_s=ack_deadline_s))
    if state is not None:
        from trilink.hotline.journal import FileJournal, JournalError, restore

        try:
            replayed = restore(national.hotline, state) if state.exists() else 0
            national.hotline.journal = FileJournal(state).append
        except (JournalError, OSError) as exc:
            _fail(f"--state: {exc}")
        if replayed:
            sys.stdout.write(f"{me}: resumed from {state} ({replayed} input(s) replayed, "
                             f"{len(national.hotline.consultations)} consultation(s))\n")

    def show(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    async def serve() -> LiveNode:
        import signal

        live = LiveNode(national, nats, log=show)
        await live.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        show(f"{me}: node running (nations {', '.join(live.nations)}; policy {policy.name}; "
             f"ack deadline {ack_deadline_s:g} s); Ctrl-C to stop")
        await stop.wait()
        await live.stop()
        return live

    try:
        live = asyncio.run(serve())
    except LiveError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:  # before the node was up
        _complain(f"{me}: interrupted")
        raise typer.Exit(130) from None
    finally:
        if log is not None:
            log.close()
    show(f"{me}: stopped ({live.received} received, {live.sent} sent, {live.queued} unsent)")


hotline_app = typer.Typer(
    help="The crisis hotline through a running node (`trilink node`), and offline "
         "verification of released statements.", no_args_is_help=True)
app.add_typer(hotline_app, name="hotline")

NodeOpt = Annotated[str, typer.Option("--node", help="the node to act through, e.g. JPN")]
NatsOpt = Annotated[str, typer.Option("--nats", help="NATS server URL")]
TimeoutOpt = Annotated[float, typer.Option("--timeout-s", help="wait this long for the node")]
AuthorityOpt = Annotated[str | None, typer.Option(
    help="who acts: joint_staff, defence_ministry, foreign_ministry, nsa, leader_office")]
JsonOpt = Annotated[bool, typer.Option("--json", help="the node's JSON reply on stdout")]
ConsultationArg = Annotated[str, typer.Argument(help="consultation id, e.g. JPN-1")]
StatementArg = Annotated[str, typer.Argument(help="statement id, e.g. S1 or JPN-1/S1")]


def _ask(node_: str, nats: str, timeout_s: float, request: dict[str, Any]) -> dict[str, Any]:
    """One control request to a running node; its reply (exit 2 with one line if not ok)."""
    import asyncio

    from trilink.live.client import LiveError
    from trilink.live.client import request as ask

    me = _nation_flag(node_, "--node")
    _positive(timeout_s, "--timeout-s")
    if request.get("authority") is None:
        request.pop("authority", None)
    try:
        reply = asyncio.run(ask(nats, me, request, timeout_s))
    except LiveError as exc:
        _fail(str(exc))
    if not reply["ok"]:
        _fail(f"{me}: {reply.get('error')}")
    return reply


def _posted(reply: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _emit_json(reply)
        return
    for m in reply.get("msg_ids", []):
        _say(m)
    if reply.get("queued"):
        _complain(f"(node not connected: {reply['queued']} envelope(s) queued)")


@hotline_app.command("status")
def hotline_status(node: NodeOpt, nats: NatsOpt = NATS_DEFAULT,
                   timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Is the node up? Its nations, policy, consultations and pending posts."""
    r = _ask(node, nats, timeout_s, {"op": "status"})
    if as_json:
        _emit_json(r)
        return
    _say(f"{r['nation']}: up at {r['utc']}; policy {r['policy']}; {r['consultations']} "
         f"consultation(s), {r['unread']} unread, {r['pending']} awaiting acknowledgement")


@hotline_app.command("open")
def hotline_open(
    node: NodeOpt,
    parties: Annotated[str, typer.Option(help="the other parties, e.g. USA,KOR")],
    topic: Annotated[str, typer.Option(help="what the consultation is about")],
    nats: NatsOpt = NATS_DEFAULT, authority: AuthorityOpt = None,
    trigger: Annotated[str, typer.Option(help="what triggered it (free text)")] = "",
    timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False,
) -> None:
    """Open a consultation; prints its id."""
    from trilink.live.keys import parse_nations

    try:
        others = list(parse_nations(parties, "--parties"))
    except ValueError as exc:
        _fail(str(exc))
    r = _ask(node, nats, timeout_s, {"op": "open", "parties": others, "topic": topic,
                                     "authority": authority, "trigger": trigger})
    if as_json:
        _emit_json(r)
    else:
        _say(r["consultation"])


@hotline_app.command("join")
def hotline_join(node: NodeOpt, consultation: ConsultationArg, nats: NatsOpt = NATS_DEFAULT,
                 authority: AuthorityOpt = None, timeout_s: TimeoutOpt = 5.0,
                 as_json: JsonOpt = False) -> None:
    """Join a consultation another party opened; prints the post's id."""
    _posted(_ask(node, nats, timeout_s, {"op": "join", "consultation": consultation,
                                         "authority": authority}), as_json)


@hotline_app.command("send")
@hotline_app.command("say")
def hotline_say(node: NodeOpt, consultation: ConsultationArg,
                text: Annotated[str, typer.Argument(help="what to say")],
                nats: NatsOpt = NATS_DEFAULT, authority: AuthorityOpt = None,
                timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Post a message to a consultation (``send`` is the same command); prints its id."""
    _posted(_ask(node, nats, timeout_s, {"op": "say", "consultation": consultation,
                                         "text": text, "authority": authority}), as_json)


@hotline_app.command("read")
def hotline_read(node: NodeOpt,
                 msg_ids: Annotated[list[str], typer.Argument(help="ids of delivered posts")],
                 nats: NatsOpt = NATS_DEFAULT, authority: AuthorityOpt = None,
                 timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Mark delivered posts read: the node sends read acknowledgements to their senders."""
    r = _ask(node, nats, timeout_s, {"op": "read", "msg_ids": msg_ids, "authority": authority})
    if as_json:
        _emit_json(r)
        return
    for row in r["read"]:
        _say(f"{row['msg_id']}: read by {row['read_by']}")
    for row in r["already_read"]:
        _say(f"{row['msg_id']}: already read by {row['read_by']}")


@hotline_app.command("list")
def hotline_list(node: NodeOpt, nats: NatsOpt = NATS_DEFAULT, timeout_s: TimeoutOpt = 5.0,
                 as_json: JsonOpt = False) -> None:
    """The node's consultations: state, posts, unread."""
    from rich.markup import escape

    r = _ask(node, nats, timeout_s, {"op": "list"})
    if as_json:
        _emit_json(r["consultations"])
        return
    table = Table(title=f"consultations at {_nation_flag(node, '--node')}", header_style="bold")
    for col in ("id", "state", "parties", "posts", "unread", "opened (UTC)", "topic"):
        table.add_column(col)
    for c in r["consultations"]:
        table.add_row(c["consultation"], c["state"], ",".join(c["parties"]), str(c["posts"]),
                      str(c["unread"]), c["opened_utc"] or "", escape(c["topic"]))
    out.print(table)


@hotline_app.command("show")
def hotline_show(node: NodeOpt, consultation: ConsultationArg, nats: NatsOpt = NATS_DEFAULT,
                 timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """A consultation's transcript in the agreed order, its statements and escalations."""
    from rich.markup import escape

    r = _ask(node, nats, timeout_s, {"op": "show", "consultation": consultation})
    if as_json:
        _emit_json({k: v for k, v in r.items() if k != "ok"})
        return
    out.print(f"{r['consultation']} ({r['state']}) {', '.join(r['parties'])}: {r['topic']}",
              markup=False, highlight=False)
    table = Table(header_style="bold")
    for col in ("msg", "time (UTC)", "from", "what", "text", "status"):
        table.add_column(col)
    for p in r["transcript"]:
        if p["refused"]:
            status = f"REFUSED: {p['refused']}"
        elif "unread" in p:
            status = f"unread ({p['unread']})"
        elif "read_by" in p:
            status = f"read ({p['read_by']})"
        elif p.get("awaiting_read"):
            status = f"awaiting read: {','.join(p['awaiting_read'])}"
        else:
            status = ""
        table.add_row(p["msg_id"], (p["utc"] or "")[11:23], f"{p['origin']}/{p['authority']}",
                      p["what"], escape(p["text"]), escape(status))
    out.print(table)
    for s in r["statements"]:
        out.print(f"statement {s['statement_id']} v{s['version']} ({s['status']}): {s['text']}",
                  markup=False, highlight=False)
    for a in r["actions"]:
        state = "authorised" if a["authorised"] else f"consents: {','.join(a['consents'])}"
        out.print(f"action {a['action_id']} ({a['tag']}) by {a['proposer']}: {state}",
                  markup=False, highlight=False)
    for line in r["escalations"]:
        out.print(f"escalation: {line}", markup=False, highlight=False)


@hotline_app.command("draft")
def hotline_draft(node: NodeOpt, consultation: ConsultationArg,
                  text: Annotated[str, typer.Argument(help="the statement's text")],
                  nats: NatsOpt = NATS_DEFAULT, authority: AuthorityOpt = None,
                  timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Draft a joint statement (and approve it); prints the statement id."""
    r = _ask(node, nats, timeout_s, {"op": "draft", "consultation": consultation,
                                     "text": text, "authority": authority})
    if as_json:
        _emit_json(r)
    else:
        _say(r["statement_id"])


@hotline_app.command("amend")
def hotline_amend(node: NodeOpt, consultation: ConsultationArg, statement_id: StatementArg,
                  text: Annotated[str, typer.Argument(help="the new text")],
                  nats: NatsOpt = NATS_DEFAULT, authority: AuthorityOpt = None,
                  timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Amend a statement to a new version (and approve it)."""
    _posted(_ask(node, nats, timeout_s, {"op": "amend", "consultation": consultation,
                                         "statement_id": statement_id, "text": text,
                                         "authority": authority}), as_json)


@hotline_app.command("approve")
def hotline_approve(node: NodeOpt, consultation: ConsultationArg, statement_id: StatementArg,
                    nats: NatsOpt = NATS_DEFAULT, authority: AuthorityOpt = None,
                    timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Sign the statement's current version."""
    _posted(_ask(node, nats, timeout_s, {"op": "approve", "consultation": consultation,
                                         "statement_id": statement_id,
                                         "authority": authority}), as_json)


@hotline_app.command("decline")
def hotline_decline(node: NodeOpt, consultation: ConsultationArg, statement_id: StatementArg,
                    reason: Annotated[str, typer.Option(help="why (goes in the record)")] = "",
                    nats: NatsOpt = NATS_DEFAULT, authority: AuthorityOpt = None,
                    timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Decline to sign a statement (signed, final)."""
    _posted(_ask(node, nats, timeout_s, {"op": "decline", "consultation": consultation,
                                         "statement_id": statement_id, "reason": reason,
                                         "authority": authority}), as_json)


@hotline_app.command("conclude")
def hotline_conclude(node: NodeOpt, consultation: ConsultationArg,
                     reason: Annotated[str, typer.Option(help="why (goes in the record)")] = "",
                     nats: NatsOpt = NATS_DEFAULT, authority: AuthorityOpt = None,
                     timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Conclude a consultation."""
    _posted(_ask(node, nats, timeout_s, {"op": "conclude", "consultation": consultation,
                                         "reason": reason, "authority": authority}), as_json)


@hotline_app.command("propose")
def hotline_propose(node: NodeOpt, consultation: ConsultationArg,
                    action_id: Annotated[str, typer.Argument(help="an id for the action")],
                    tag: Annotated[str, typer.Option(
                        help="tag of the consent rules, e.g. combat-operations-from-japan")],
                    description: Annotated[str, typer.Option(help="what the action is")],
                    nats: NatsOpt = NATS_DEFAULT, authority: AuthorityOpt = None,
                    timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Propose an action that may need partners' prior consent."""
    _posted(_ask(node, nats, timeout_s, {"op": "propose", "consultation": consultation,
                                         "action_id": action_id, "tag": tag,
                                         "description": description,
                                         "authority": authority}), as_json)


@hotline_app.command("consent")
def hotline_consent(node: NodeOpt, consultation: ConsultationArg,
                    action_id: Annotated[str, typer.Argument(help="the proposed action")],
                    nats: NatsOpt = NATS_DEFAULT, authority: AuthorityOpt = None,
                    timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Give this nation's signed consent to a proposed action."""
    _posted(_ask(node, nats, timeout_s, {"op": "consent", "consultation": consultation,
                                         "action_id": action_id,
                                         "authority": authority}), as_json)


@hotline_app.command("authorise")
def hotline_authorise(node: NodeOpt, consultation: ConsultationArg,
                      action_id: Annotated[str, typer.Argument(help="the proposed action")],
                      nats: NatsOpt = NATS_DEFAULT, authority: AuthorityOpt = None,
                      timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Mark one's own proposed action authorised (refused without every consent)."""
    _posted(_ask(node, nats, timeout_s, {"op": "authorise", "consultation": consultation,
                                         "action_id": action_id,
                                         "authority": authority}), as_json)


@hotline_app.command("statement")
def hotline_statement(
    node: NodeOpt, consultation: ConsultationArg,
    file: Annotated[Path, typer.Argument(help="where to write the statement (JSON)")],
    statement_id: Annotated[str | None, typer.Option(
        help="which statement (default: the only released one)")] = None,
    nats: NatsOpt = NATS_DEFAULT, timeout_s: TimeoutOpt = 5.0,
) -> None:
    """Export a released joint statement with its signatures (for `hotline verify`)."""
    r = _ask(node, nats, timeout_s, {"op": "statement", "consultation": consultation,
                                     "statement_id": statement_id})
    doc = r["document"]
    try:
        file.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        _fail(f"{file}: cannot write: {exc.strerror or exc}")
    signers = ", ".join(a["nation"] for a in doc["approvals"])
    _say(f"{file}: {doc['statement_id']} v{doc['version']} signed by {signers}")


@hotline_app.command("verify")
def hotline_verify(
    file: Annotated[Path, typer.Argument(help="statement file from `hotline statement`")],
    keys: Annotated[Path, typer.Option(
        help="registry.json of the parties' public keys (or its folder)")],
) -> None:
    """Check a released statement's signatures offline: exit 0 (valid), 1 (not)."""
    from trilink.hotline.statement import (
        StatementFileError,
        check_release,
        parse_release_document,
    )
    from trilink.live.keys import KeyFileError, load_registry

    try:
        registry = load_registry(keys / "registry.json" if keys.is_dir() else keys)
    except KeyFileError as exc:
        _fail(f"--keys: {exc}")
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        _fail(f"{file}: no such file (expected a statement written by `hotline statement`)")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"{file}: unreadable: {exc}")
    try:
        consultation, parties, release = parse_release_document(text)
    except StatementFileError as exc:
        _fail(f"{file}: {exc}")
    problem = check_release(consultation, parties, release, registry)
    if problem:
        _complain(f"{file}: invalid: {problem}")
        raise typer.Exit(1)
    signers = ", ".join(sorted(s.nation for s in release.approvals))
    declined = ", ".join(sorted(s.nation for s in release.declines))
    _say(f"valid: {release.statement_id} v{release.version} of {consultation} signed by "
         f"{signers}" + (f"; declined by {declined}" if declined else ""))


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="print the version and exit")] = False,
) -> None:
    if version:
        _say(f"trilink {__version__}")
        raise typer.Exit(0)


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the typer app and turns user errors into one line, status 2."""
    from trilink.sim.scenario import ScenarioInvalidError

    try:
        # Outside standalone mode an Exit raised by a command comes back as the return value.
        code = app(args=argv, standalone_mode=False, prog_name="trilink")
    except UserError as exc:
        _complain(f"trilink: error: {exc}")
        return 2
    except ScenarioInvalidError as exc:
        for e in exc.errors:
            _complain(str(e))
        return 2
    except Exit as exc:
        return int(exc.exit_code)
    except Abort:
        _complain("trilink: aborted")
        return 130
    except TyperException as exc:  # usage errors: bad flags, missing arguments
        _complain(f"trilink: error: {exc.format_message()}")
        return int(exc.exit_code)
    return code if isinstance(code, int) else 0


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()

"""Flights: fit a trajectory to published figures, replay a scenario's launches, the
shipped launches against the record, and the missile profiles."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from trilink.cli.common import emit_json, fail, out


def _parse_latlon(text: str) -> tuple[float, float]:
    parts = text.replace(" ", "").split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        fail(f"--launch: expected LAT,LON in decimal degrees (e.g. 39.2,125.67), got {text!r}")
    if not -90.0 <= lat <= 90.0:
        fail(f"--launch: latitude must lie in [-90, 90] degrees, got {lat}")
    if not -180.0 <= lon <= 360.0:
        fail(f"--launch: longitude must lie in [-180, 360] degrees, got {lon}")
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
        "cross_range_km": round(fit.cross_range_m / 1e3, 2),
        "controls": {
            "heading_deg": round(float(np.degrees(fit.controls.heading_rad)), 3),
            "pitch_final_deg": round(float(np.degrees(fit.controls.pitch_final_rad)), 3),
            "energy_fraction": round(fit.controls.energy_fraction, 4),
            "payload_kg": round(fit.request.profile.payload_kg, 1),
            "burn_time_scale": round(fit.burn_time_scale, 4),
            "glide_bank_deg": round(float(np.degrees(fit.controls.glide_bank_rad)), 3),
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
    if summary["controls"].get("glide_bank_deg"):  # a lateral manoeuvre was flown
        rows += [("lateral movement (km, + right)", "cross_range_km")]
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
    cross_range_km: Annotated[float | None, typer.Option(
        help="a glide vehicle's published lateral movement, km to the right of its launch "
             "heading (negative: to the left); the fit banks the glider to fly it")] = None,
    step_s: Annotated[float, typer.Option(help="spacing of the printed trajectory, s")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
) -> None:
    """Fit a missile flight to a published apogee and range, and report it."""
    from trilink.physics.fit import FitRequest
    from trilink.physics.missiles import get_profile, is_class, types_of_class
    from trilink.physics.solve import fit_class, fit_within_limits

    lat, lon = _parse_latlon(launch)
    if not 0.0 <= azimuth < 360.0:
        fail(f"--azimuth: expected degrees in [0, 360), got {azimuth}")
    if not 0.0 < apogee_km <= 20000.0:
        fail(f"--apogee-km: expected a height in (0, 20000] km, got {apogee_km}")
    if not 0.0 < range_km <= 16000.0:
        fail(f"--range-km: expected a range in (0, 16000] km, got {range_km}")
    if step_s <= 0:
        fail(f"--step-s: expected a positive number of seconds, got {step_s}")
    if cross_range_km is not None and not abs(cross_range_km) < range_km:
        fail(f"--cross-range-km: expected a lateral movement smaller than the range "
             f"({range_km:g} km), got {cross_range_km}")
    try:
        profile = get_profile(missile)
    except KeyError as exc:
        fail(f"--missile: {exc.args[0]}")
    gliders = None
    if cross_range_km is not None:
        if is_class(missile):
            gliders = types_of_class(missile, ("glide",))
            if not gliders:
                fail(f"--cross-range-km: no {missile.strip().upper()} type is a glide "
                     "vehicle; a lateral movement needs lift")
            profile = gliders[0]
        elif profile.glide is None:
            fail(f"--cross-range-km: {profile.key} is not a glide vehicle; a lateral "
                 "movement needs lift")
    if payload_kg is not None:
        if payload_kg <= 0:
            fail(f"--payload-kg: expected a positive mass, got {payload_kg}")
        profile = profile.model_copy(update={"payload_kg": payload_kg,
                                             "payload_min_kg": None})
    request = FitRequest(
        float(np.radians(lat)), float(np.radians(lon)), float(np.radians(azimuth)),
        apogee_km * 1e3, range_km * 1e3, profile,
        cross_range_m=None if cross_range_km is None else cross_range_km * 1e3,
    )
    choice_note: str | None = None
    candidates: list[dict[str, Any]] = []
    if is_class(missile) and payload_kg is None:
        choice = fit_class(request, missile, profiles=gliders)
        fit = choice.chosen
        choice_note = choice.reason
        candidates = [{"missile": k, "converged": r.converged,
                       "energy_fraction": round(r.controls.energy_fraction, 4),
                       "payload_kg": r.payload_kg} for k, r in choice.candidates]
    else:
        fit = fit_within_limits([request])[0]
    if not fit.converged:
        fail(f"--apogee-km/--range-km: {fit.message}")
    summary = _summary_dict(fit)
    summary["impact_zone"] = _impact_zone(fit.summary.impact_lat_rad, fit.summary.impact_lon_rad)
    summary["overflight"] = _zones_along(fit.flight)
    if choice_note is not None:
        summary["chosen_for_class"] = missile.strip().upper()
        summary["choice"] = choice_note
        summary["candidates"] = candidates
    track = _track(fit.flight, step_s)
    if as_json:
        emit_json({**summary, "track": track})
        return
    if choice_note is not None:
        out.print(choice_note)
    _print_summary(f"{fit.request.profile.name} from {lat:.4f}, {lon:.4f} toward "
                   f"{azimuth:.1f} deg", summary, None)
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



def fly(
    scenario: Annotated[str, typer.Argument(help="scenario file, or the id of a shipped one")],
    step_s: Annotated[float, typer.Option(help="spacing of the printed trajectory, s")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
) -> None:
    """Replay a scenario's launches: fitted flights beside the published record."""
    from trilink.sim.flights import fly_scenarios
    from trilink.sim.scenario import load_scenario

    if step_s <= 0:
        fail(f"--step-s: expected a positive number of seconds, got {step_s}")
    sc = load_scenario(scenario)
    flights = fly_scenarios([sc])
    launches: list[dict[str, Any]] = []
    for lf in flights:
        if not lf.fit.converged:
            fail(f"{scenario}: launches.{lf.launch.id}: {lf.fit.message}")
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
        emit_json({"scenario": sc.id, "title": sc.title, "launches": launches})
        return
    out.print(f"[bold]{sc.title}[/bold]")
    for item in launches:
        _print_summary(f"launch {item['id']} at {item['time_utc']}", item["ours"],
                       item["published"])
        _print_track(item["track"])



def flights(
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout")] = False,
    cross_validate: Annotated[bool, typer.Option(
        "--cross-validate",
        help="hold out each timed launch, calibrate on the rest, predict its flight time")
    ] = False,
) -> None:
    """Every shipped historical launch: published flight time versus trilink's fit."""
    from trilink.sim.flights import fly_scenarios
    from trilink.sim.scenario import load_scenario, shipped_scenarios

    scenarios = [load_scenario(s) for s in shipped_scenarios()]
    if cross_validate:
        _cross_validate(scenarios, as_json)
        return
    results = fly_scenarios(scenarios)
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
        emit_json(rows)
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


CLASS_ORDER = ("SRBM", "MRBM", "IRBM", "ICBM")
TIME_TARGET = 0.03
SHAPE_TARGET = 0.01


def _cross_validate(scenarios: list[Any], as_json: bool) -> None:
    from trilink.physics.calibration import cross_validate
    from trilink.sim.flights import timed_cases

    preds = cross_validate(timed_cases(scenarios))
    rows: list[dict[str, Any]] = [
        {
            "event": p.case.event_id,
            "launch": p.case.launch_id,
            "missile": p.case.type_key,
            "trained_on": list(p.trained_on),
            "burn_time_scale": round(p.burn_time_scale, 3),
            "payload_kg": p.fit.payload_kg,
            "published_flight_time_s": p.case.published_flight_time_s,
            "published_resolution_s": p.case.published_sigma_s,
            "predicted_flight_time_s": round(p.fit.summary.flight_time_s, 1),
            "flight_time_error_pct": round(100 * p.flight_time_error, 2),
            "apogee_error_pct": round(100 * p.apogee_error, 3),
            "range_error_pct": round(100 * p.range_error, 3),
            "converged": p.fit.converged,
            "within_target": bool(p.fit.converged
                                  and abs(p.flight_time_error) <= TIME_TARGET
                                  and abs(p.apogee_error) <= SHAPE_TARGET
                                  and abs(p.range_error) <= SHAPE_TARGET),
        }
        for p in preds
    ]
    worst = max(rows, key=lambda r: abs(r["flight_time_error_pct"])) if rows else None
    report = {
        "method": "leave-one-out: per-type burn-time scale calibrated on the other launches "
                  "of that type (weighted by published resolution), then the held-out "
                  "flight fitted to its apogee and range alone",
        "target": {"flight_time_pct": 100 * TIME_TARGET, "apogee_range_pct": 100 * SHAPE_TARGET},
        "launches": rows,
        "worst": worst,
        "within_target": sum(r["within_target"] for r in rows),
        "count": len(rows),
    }
    if as_json:
        emit_json(report)
        return
    table = Table(title="Cross-validation (leave one out): predicted vs published",
                  header_style="bold")
    for col in ("event", "missile", "scale", "published s", "predicted s", "time", "apogee",
                "range"):
        table.add_column(col, justify="left" if col in ("event", "missile") else "right")
    for r in rows:
        table.add_row(
            r["event"], r["missile"], f"{r['burn_time_scale']:.3f}",
            f"{r['published_flight_time_s']:.0f}", f"{r['predicted_flight_time_s']:.0f}",
            f"{r['flight_time_error_pct']:+.2f} %", f"{r['apogee_error_pct']:+.3f} %",
            f"{r['range_error_pct']:+.3f} %",
        )
    out.print(table)
    if worst is not None:
        out.print(f"worst: {worst['event']} {worst['flight_time_error_pct']:+.2f} % "
                  f"(published {worst['published_flight_time_s']:.0f} s, resolution "
                  f"{worst['published_resolution_s']:.0f} s); "
                  f"{report['within_target']}/{report['count']} within target")



def missiles(
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout")] = False,
) -> None:
    """List the missile profiles and the class defaults."""
    from trilink.physics.missiles import catalogue

    cat = catalogue()
    if as_json:
        emit_json(
            {
                "class_defaults": dict(cat.class_defaults),
                "profiles": {k: p.model_dump(mode="json") for k, p in cat.profiles.items()},
            }
        )
        return
    table = Table(title="missile profiles", header_style="bold")
    for col in ("key", "name", "class", "propellant", "stages", "launch t", "burn s", "flight",
                "default"):
        table.add_column(col)
    defaults = {v: k for k, v in cat.class_defaults.items()}
    for key, p in sorted(cat.profiles.items(),
                         key=lambda kv: (CLASS_ORDER.index(kv[1].missile_class), kv[0])):
        table.add_row(
            key, p.name, p.missile_class, p.propellant, str(len(p.stages)),
            f"{p.launch_mass_kg / 1e3:.1f}", f"{p.total_burn_time_s:.0f}", p.flight_profile,
            defaults.get(key, ""),
        )
    out.print(table)



def register(app: typer.Typer) -> None:
    for command in (trajectory, fly, flights, missiles):
        app.command()(command)

"""`trilink bench`: benchmarks, side by side with peer libraries."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from trilink.cli.common import emit_json, fail, out

bench_app = typer.Typer(help="Benchmarks, side by side with peer libraries.", no_args_is_help=True)

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
        fail(str(exc))
    if as_json:
        emit_json(result)
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
        emit_json(result)
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
        emit_json(result)
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



def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")

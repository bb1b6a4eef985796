"""The self-contained HTML report of a run: ``DIR/report.html``.

Drawn from the run record (``DIR/record.json``, see :mod:`trilink.sim.record`) alone, so a
report can be made again without running the scenario. The page needs nothing else: the
map, the warning timeline and the consultation timelines (when the record has a
``"consultations"`` list) are SVG embedded as ``data:`` images, the style is inline, there
are no scripts and no fonts or images fetched from anywhere; the only outward links are the
scenario's sources, and the CAP messages link to the run's own ``alerts/`` files.

A record with a ``"cyber"`` campaign (a scenario's ``cyber:`` section) or ``"injects"``
gets a section for each after the CAP messages (:mod:`trilink.report.cyber`).

Deterministic: the same record gives the same bytes (no time of making in the page, fixed
SVG ids and metadata). Text from the record is escaped everywhere. See docs/report.md.

API::

    from trilink.report import render_report, write_report
    html = render_report(record)               # the whole document, a str
    path = write_report(record, out_dir)       # out_dir/report.html, written atomically
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trilink.report.consult_data import parse_consultations
from trilink.report.consultation import consultations_section
from trilink.report.cyber import cyber_section, injects_section
from trilink.report.data import Record, parse_record
from trilink.report.files import write_atomic
from trilink.report.fmt import nation_name
from trilink.report.mapfig import draw_map
from trilink.report.page import page, timeline_caption
from trilink.report.svgfig import figure_html, style, svg_bytes
from trilink.report.timeline import draw_timeline, launch_rows, uses_sqrt_axis

__all__ = ["REPORT_NAME", "render_report", "write_report"]

REPORT_NAME = "report.html"


def _map_alt(rec: Record) -> str:
    names = ", ".join(nation_name(n) for n in rec.nations) or "no nation"
    return (f"Map of the run: land and sea zones of Japan and South Korea, the radars of "
            f"{names} with their maximum ranges, the true ground tracks of "
            f"{len(rec.launches)} launch(es) with launch sites and impact points, predicted "
            f"impact ellipses and the {len(rec.messages)} CAP warning(s)' areas.")


def _timeline_alt(rec: Record) -> str:
    return (f"Timeline of {len(rec.launches)} launch(es): for each nation the times of first "
            "detection, first own track, first partner track and each CAP message after "
            "launch, beside the missile's flight and the published warning times.")


def _figures(rec: Record) -> tuple[str, str]:
    """The map and timeline as HTML ``<figure>`` elements."""
    with style():
        map_svg = svg_bytes(draw_map(rec))
        sqrt = uses_sqrt_axis(launch_rows(rec))
        tl_svg = svg_bytes(draw_timeline(rec))
    map_caption = ("Map (equirectangular at the map's middle latitude; gridlines in degrees). "
                   "Colours by nation; black: the truth.")
    return (figure_html(map_svg, _map_alt(rec), map_caption, "fig-map"),
            figure_html(tl_svg, _timeline_alt(rec), timeline_caption(sqrt), "fig-timeline"))


def render_report(record: Mapping[str, Any]) -> str:
    """The report of a run record (the dict of ``record.json``) as one HTML document."""
    rec = parse_record(record)
    map_fig, tl_fig = _figures(rec)
    extra = [s for s in (cyber_section(record), injects_section(rec, record)) if s is not None]
    return page(rec, map_fig, tl_fig,
                consultations_section(rec, parse_consultations(record)), extra)


def write_report(record: Mapping[str, Any], out_dir: Path) -> Path:
    """Write ``out_dir/report.html`` atomically (temporary file, then rename); its path."""
    return write_atomic(out_dir, REPORT_NAME, render_report(record))

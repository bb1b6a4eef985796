"""Matplotlib figures as deterministic SVG, embedded in the page as ``data:`` images.

No pyplot (no global figure registry, no GUI backend): figures are made with
:class:`matplotlib.figure.Figure` and printed by the Agg-free SVG backend. The same figure
gives the same bytes: fixed hash salt for element ids, no date in the metadata, glyphs drawn
as paths from the bundled DejaVu Sans (so the page needs no font and looks the same
everywhere).
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from html import escape
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.figure import Figure

if TYPE_CHECKING:  # a typing-only name (matplotlib >= 3.9); nothing imported at run time
    from matplotlib.typing import RcKeyType

__all__ = ["RC", "figure_html", "new_figure", "style", "svg_bytes"]

RC: dict[RcKeyType, Any] = {
    "svg.hashsalt": "trilink-report",
    "svg.fonttype": "path",
    "svg.image_inline": True,
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.labelsize": 8.5,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "axes.edgecolor": "#555555",
    "axes.linewidth": 0.6,
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "path.simplify": True,
    "path.simplify_threshold": 0.2,
    "hatch.linewidth": 0.5,
}


@contextmanager
def style() -> Iterator[None]:
    """The report's rcParams, for the duration of building and printing one figure."""
    with matplotlib.rc_context(RC):
        yield


def new_figure(width_in: float, height_in: float) -> Figure:
    """A figure not registered with pyplot (so it is freed with its last reference)."""
    return Figure(figsize=(width_in, height_in), dpi=100)


def svg_bytes(fig: Figure) -> bytes:
    """The figure as SVG bytes without the XML prologue or creation date."""
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None},
                facecolor="white")
    text = buf.getvalue().decode("utf-8")
    text = re.sub(r"^<\?xml[^>]*>\s*", "", text)
    text = re.sub(r"^<!DOCTYPE[^>]*>\s*", "", text)
    return text.encode("utf-8")


def figure_html(svg: bytes, alt: str, caption_html: str, fig_id: str) -> str:
    """A ``<figure>`` with the SVG as a data URI image, its alt text and caption."""
    data = base64.b64encode(svg).decode("ascii")
    return (f'<figure id="{escape(fig_id)}">'
            f'<img src="data:image/svg+xml;base64,{data}" alt="{escape(alt)}">'
            f"<figcaption>{caption_html}</figcaption></figure>")

"""Section 3 of the report: the crisis-hotline consultations of the run, beside the warning
timeline.

For each consultation: a plain sentence on how it ended (a lapse, or a statement never
released, is said in words), its timeline figure (:mod:`trilink.report.consultfig`), its
milestones, the fact sheet the parties were given, the joint statement with its signers,
and every event. Records made before the hotline existed have no ``"consultations"`` key;
the section then says so in one line. Every piece of text from the record is escaped.
"""

from __future__ import annotations

import datetime as dt

from trilink.report.consult_data import Consultation, FactSheet, Statement
from trilink.report.consultfig import (
    LINEAR_MAX_S,
    Reference,
    draw_consultation,
    milestones,
    reference,
    uses_sqrt_axis,
)
from trilink.report.data import Record
from trilink.report.fmt import DASH, num, utc_clock
from trilink.report.page import _level, _nation, _table, esc
from trilink.report.svgfig import figure_html, style, svg_bytes

__all__ = ["MAX_FIGURES", "OPEN_CONSULTATIONS", "consultations_section", "tplus_long"]

OPEN_CONSULTATIONS = 4
"""Consultation sections start open up to this many consultations (collapsed above)."""
MAX_FIGURES = 12
"""At most this many consultation figures are drawn (the rest keep their tables)."""

_STATE_WORDS = {"concluded": "concluded", "lapsed": "lapsed", "opened": "open",
                "all_joined": "all joined"}
_NONE = f'<span class="muted">{DASH}</span>'


def tplus_long(t_s: float | None) -> str:
    """Seconds after the zero as 'T+69 s', 'T+21 min 57 s', 'T+2 h 31 min 40 s'."""
    if t_s is None:
        return DASH
    sign = "+" if t_s >= 0 else "−"
    s = round(abs(t_s))
    if s < 600:
        return f"T{sign}{s} s"
    if s < 3600:
        return f"T{sign}{s // 60} min {s % 60:02d} s"
    return f"T{sign}{s // 3600} h {s % 3600 // 60:02d} min {s % 60:02d} s"


def _at(rec: Record, ref: Reference, t: float | None) -> str:
    """'T+… (hh:mm:ss UTC)' of a time since the epoch, escaped; a dash for None."""
    if t is None:
        return _NONE
    utc = rec.utc(t)
    clock = f' <span class="muted nw">({esc(utc_clock(utc))} UTC)</span>' if utc else ""
    return f'<span class="t nw">{esc(tplus_long(t - ref.t_s))}</span>{clock}'


def _badge(c: Consultation) -> str:
    state = c.state if c.state in _STATE_WORDS else "other"
    return (f'<span class="cst cst-{state}">'
            f"{esc(_STATE_WORDS.get(c.state, c.state or 'state unknown'))}</span>")


def _names(codes: tuple[str, ...]) -> str:
    return ", ".join(_nation(n) for n in codes) or _NONE


def _outcome(rec: Record, ref: Reference, c: Consultation) -> str:
    """One plain sentence on how the consultation ended (HTML)."""
    rel = tplus_long
    if c.state == "lapsed" or (c.lapsed_t_s is not None and c.concluded_t_s is None):
        when = f" at {rel(c.lapsed_t_s - ref.t_s)}" if c.lapsed_t_s is not None else ""
        joined = ("" if c.all_joined_t_s is not None
                  else " Not every party had joined.")
        return (f'<p class="cout cout-bad"><b>Lapsed{esc(when)}: no joint statement was '
                f"released.</b>{esc(joined)}</p>")
    if c.released:
        assert c.statement_released_t_s is not None
        who = (f" signed by {', '.join(c.statement.signers)}"
               if c.statement is not None and c.statement.signers else "")
        end = (f", concluded at {rel(c.concluded_t_s - ref.t_s)}"
               if c.concluded_t_s is not None else ", not concluded by the end of the run")
        return (f'<p class="cout cout-ok"><b>Joint statement released at '
                f"{esc(rel(c.statement_released_t_s - ref.t_s))}</b>{esc(who)}{esc(end)}.</p>")
    if c.end_t_s is None:
        joined = ("all parties had joined" if c.all_joined_t_s is not None
                  else "not every party had joined")
        return (f'<p class="cout cout-bad"><b>Still open at the end of the run: no joint '
                f"statement was released</b> ({esc(joined)}).</p>")
    assert c.concluded_t_s is not None
    return (f'<p class="cout cout-bad"><b>Concluded at {esc(rel(c.concluded_t_s - ref.t_s))}'
            " without releasing a joint statement.</b></p>")


def _milestone_table(rec: Record, ref: Reference, c: Consultation) -> str:
    rows = [["Opened", _at(rec, ref, c.opened_t_s)],
            ["All parties joined", _at(rec, ref, c.all_joined_t_s) if c.all_joined_t_s
             is not None else '<span class="bad">never (not every party joined)</span>'],
            ["Statement released", _at(rec, ref, c.statement_released_t_s)
             if c.released else '<span class="bad">not released</span>']]
    if c.concluded_t_s is not None or c.lapsed_t_s is None:
        rows.append(["Concluded", _at(rec, ref, c.concluded_t_s)])
    if c.lapsed_t_s is not None:
        rows.append(["Lapsed", f'<span class="bad">{_at(rec, ref, c.lapsed_t_s)}</span>'])
    return _table(f"Milestones (after {esc(ref.what)})", ["Milestone", "When"], rows)


def _position(lat: float | None, lon: float | None) -> str:
    if lat is None or lon is None:
        return DASH
    return f"{lat:.2f}°, {lon:.2f}°"


def _fact_table(rec: Record, ref: Reference, fs: FactSheet) -> str:
    if fs.empty:
        return '<p class="muted">The consultation had no fact sheet.</p>'
    ellipse = DASH
    if fs.semi_major_km is not None and fs.semi_minor_km is not None:
        ellipse = (f"{num(fs.semi_major_km, 'km', 1)} × {num(fs.semi_minor_km, 'km', 1)}"
                   + (f", azimuth {fs.azimuth_deg:.0f}°" if fs.azimuth_deg is not None
                      else ""))
    warnings = "<br>".join(
        f"{_nation(w.nation)} {_level(w.level)} {_at(rec, ref, w.t_s)}"
        for w in fs.warnings) or '<span class="muted">none</span>'
    basis = (f' <span class="muted">({esc(fs.launch_t_basis)})</span>'
             if fs.launch_t_basis and fs.launch_t_s is not None else "")
    rows = [["Launch", _at(rec, ref, fs.launch_t_s) + basis],
            ["Launch position", esc(_position(fs.launch_lat_deg, fs.launch_lon_deg))],
            ["Trajectory class", esc(fs.trajectory_class or DASH)],
            ["Predicted impact", esc(_position(fs.impact_lat_deg, fs.impact_lon_deg))],
            ["Predicted impact time", _at(rec, ref, fs.impact_t_s)],
            ["95 % impact ellipse", esc(ellipse)],
            ["Public warnings", warnings]]
    return _table("Fact sheet given to the parties (their estimates, not the truth)",
                  ["", "Value"], rows)


def _statement(rec: Record, ref: Reference, c: Consultation) -> str:
    s: Statement | None = c.statement
    if s is None:
        if c.released:
            return ('<p class="muted">A statement was released, but its text is not in the '
                    "record.</p>")
        return '<p class="bad">No joint statement was drafted.</p>'
    name = esc(s.id or "statement") + (f" version {s.version}" if s.version is not None
                                       else "")
    text = "<br>".join(esc(line) for line in s.text.splitlines()) or _NONE
    declined = _names(s.declined) if s.declined else "none"
    if c.released:
        head = (f"<b>Joint statement</b> {name}, released {_at(rec, ref, c.statement_released_t_s)}"
                f". Signed by {_names(s.signers)}; declined: {declined}.")
        cls = "stmt"
    else:
        head = (f'<b class="bad">Last draft, never released:</b> {name}. '
                f"Approved by {_names(s.signers)}; declined: {declined}.")
        cls = "stmt draft"
    return f'<p>{head}</p><blockquote class="{cls}">{text}</blockquote>'


def _events(rec: Record, ref: Reference, c: Consultation) -> str:
    if not c.events:
        return '<p class="muted">The record lists no events for this consultation.</p>'
    rows = []
    for e in c.events:
        what = esc(e.what or DASH)
        if e.what == "escalate":
            what = f'<span class="esc">{what}</span>'
        elif e.what in ("decline", "reject", "lapse"):
            what = f'<span class="bad">{what}</span>'
        rows.append([_at(rec, ref, e.t_s), _nation(e.nation) if e.nation else _NONE,
                     esc(e.authority.replace("_", " ") or DASH), what, esc(e.detail)])
    table = _table(f"Every event of {esc(c.id)} (after {esc(ref.what)})",
                   ["When", "Nation", "Authority", "What", "Detail"], rows)
    return (f"<details><summary>Events <span class=muted>({len(rows)})</span></summary>"
            f"{table}</details>")


def _launch_links(rec: Record, c: Consultation) -> str:
    index = {lc.id: k for k, lc in enumerate(rec.launches)}
    out = []
    for lid in c.launches:
        if lid in index:
            k = index[lid]
            out.append(f'<a href="#launch-{k + 1}">{esc(rec.launches[k].name)}</a>')
        else:
            out.append(f'{esc(lid)} <span class="muted">(not in this record)</span>')
    return ", ".join(out) or _NONE


def _alt(c: Consultation, ref: Reference) -> str:
    reached = ", ".join(label for label, *_ in milestones(c)) or "no milestone"
    return (f"Timeline of consultation {c.id} after {ref.what}: milestones ({reached}), the "
            f"{len(c.fact_sheet.warnings)} public warning(s) of its fact sheet and one lane "
            f"per party ({', '.join(c.lanes) or 'none'}) with its {len(c.events)} event(s).")


def _caption(c: Consultation, ref: Reference, sqrt: bool) -> str:
    axis = (f"Square-root time axis (linear would squeeze the first minutes): it spans the "
            f"minutes of the flight and public warnings and the hours of the consultation; "
            f"ticks in minutes and hours after {esc(ref.what)}." if sqrt else
            f"Linear time axis, in minutes after {esc(ref.what)}.")
    return (f"Consultation {esc(c.id)}. Top row: milestones, with a line through every lane. "
            "Second row: the public warnings on its fact sheet (▼, coloured by level as in the "
            "warning timeline). Then one lane per party: its events, escalations in purple "
            f"(▲), a pale bar while it took part. Grey band: the missile in flight. {axis}")


def _figure(rec: Record, c: Consultation, ref: Reference, k: int) -> str:
    with style():
        svg = svg_bytes(draw_consultation(rec, c))
    return figure_html(svg, _alt(c, ref), _caption(c, ref, uses_sqrt_axis(rec, c)),
                       f"fig-consult-{k + 1}")


def _one(rec: Record, c: Consultation, k: int, open_: bool, draw: bool) -> str:
    ref = reference(rec, c)
    authority = esc(c.authority.replace("_", " ") or DASH)
    summary = (f"{esc(c.id)} {_badge(c)} <span class=muted>· opened by {esc(c.opener or DASH)}"
               f" at {authority} level · {esc(c.topic)}</span>")
    facts = [f"<b>Topic</b> {esc(c.topic or DASH)}",
             f"<b>Why it opened</b> {esc(c.trigger or DASH)}",
             f"<b>Opened by</b> {_nation(c.opener) if c.opener else _NONE} at {authority} "
             "level",
             f"<b>Parties</b> {_names(c.parties)}",
             f"<b>Launches</b> {_launch_links(rec, c)}"]
    figure = (_figure(rec, c, ref, k) if draw else
              f'<p class="muted">No figure: only the first {MAX_FIGURES} consultations are '
              "drawn.</p>")
    return (f'<details id="consult-{k + 1}"{" open" if open_ else ""}><summary>{summary}'
            f"</summary>{_outcome(rec, ref, c)}<p>{' · '.join(facts)}</p>{figure}"
            f'<div class="cgrid"><div>{_milestone_table(rec, ref, c)}</div>'
            f"<div>{_fact_table(rec, ref, c.fact_sheet)}</div></div>"
            f"{_statement(rec, ref, c)}{_events(rec, ref, c)}</details>")


def _overview(rec: Record, consults: tuple[Consultation, ...]) -> str:
    rows = []
    for k, c in enumerate(consults):
        ref = reference(rec, c)
        end = (_at(rec, ref, c.lapsed_t_s) + " (lapsed)" if c.concluded_t_s is None
               and c.lapsed_t_s is not None else _at(rec, ref, c.concluded_t_s))
        rows.append([f'<a class="nw" href="#consult-{k + 1}">{esc(c.id)}</a>', _badge(c),
                     _nation(c.opener) if c.opener else _NONE, _names(c.parties),
                     _at(rec, ref, c.opened_t_s), _at(rec, ref, c.all_joined_t_s),
                     _at(rec, ref, c.statement_released_t_s) if c.released
                     else '<span class="bad">not released</span>', end])
    return _table("All consultations at a glance (times after the launch each is about, or "
                  "after its opening when no launch is known)",
                  ["Id", "State", "Opener", "Parties", "Opened", "All joined",
                   "Statement released", "Ended"], rows)


def _span(rec: Record, consults: tuple[Consultation, ...]) -> str:
    starts = [c.opened_t_s for c in consults if c.opened_t_s is not None]
    if not starts:
        return ""
    first = rec.utc(min(starts))
    return (f" The first opened at {esc(utc_clock(first, True))} UTC."
            if isinstance(first, dt.datetime) else "")


def consultations_section(rec: Record, consults: tuple[Consultation, ...] | None) -> str:
    """Section 3: every consultation with its timeline, fact sheet and statement; one
    line when there are none (``None``: the record predates consultations)."""
    head = '<section id="consultations"><h2>3. Consultations</h2>'
    if consults is None:
        return (head + '<p class="muted">No consultations in this run: the record holds no '
                "consultation data (it was made before trilink recorded hotline "
                "consultations).</p></section>")
    if not consults:
        return (head + '<p class="muted">No consultations in this run: no government opened '
                "one on the hotline.</p></section>")
    n_lapsed = sum(1 for c in consults if c.state == "lapsed")
    n_released = sum(1 for c in consults if c.released)
    intro = (f"<p>Government-to-government consultations on the crisis hotline: {len(consults)}"
             f" in this run, {n_released} with a released joint statement, {n_lapsed} lapsed."
             f"{_span(rec, consults)} Each is drawn on an axis of time after the launch it "
             "is about, with the public warnings of its fact sheet on the same axis, so the "
             "pace of the consultation can be read against the warnings in section 2. "
             f"Axes beyond {LINEAR_MAX_S / 60:g} minutes are square-root scaled.</p>")
    open_ = len(consults) <= OPEN_CONSULTATIONS
    overview = _overview(rec, consults) if len(consults) > 1 else ""
    body = "".join(_one(rec, c, k, open_, k < MAX_FIGURES) for k, c in enumerate(consults))
    return f"{head}{intro}{overview}{body}</section>"

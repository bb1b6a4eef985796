"""The report's cyber campaign and exercise inject sections, drawn from a run record's
``"cyber"`` and ``"injects"`` keys (layout in :mod:`trilink.sim.record`).

The cyber section: what of the campaign is simulated (an exercise script) and what is the
record, the scripted events, when each nation first held each indicator and from whom,
the correlations and cyber alerts, what the senders withheld and the receivers refused,
and the campaign's sources. Records without these keys render without the sections.
Every piece of text from the record is escaped; the same record gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from trilink.report.comparison_domains import SIM_STYLE, SIMULATED_NOTICE
from trilink.report.consultation import tplus_long
from trilink.report.data import Record, _map, _num, _seq, _text
from trilink.report.fmt import DASH, utc_clock
from trilink.report.page import _nation, _table, esc, source_link

__all__ = ["cyber_section", "injects_section"]

_NONE = f'<span class="muted">{DASH}</span>'


def _epoch(text: str) -> dt.datetime | None:
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def _when(epoch: dt.datetime | None, t_s: float | None) -> str:
    """'T+1 h 30 min 00 s (2025-02-21 15:43:00 UTC)' of a campaign time, escaped."""
    if t_s is None:
        return _NONE
    clock = ""
    if epoch is not None:
        utc = utc_clock(epoch + dt.timedelta(seconds=t_s), True)
        clock = f' <span class="muted nw">({esc(utc)} UTC)</span>'
    return f'<span class="t nw">{esc(tplus_long(t_s))}</span>{clock}'


def _short(object_id: str, address: Mapping[str, str]) -> str:
    """An indicator by its address, any other STIX object by its type."""
    if object_id in address:
        return f"<code>{esc(address[object_id])}</code>"
    return esc(object_id.split("--", 1)[0] or object_id)


def cyber_section(record: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(anchor, contents label, HTML) of the cyber campaign section, or None when the
    record has no campaign."""
    cy = _map(record.get("cyber"))
    if not cy:
        return None
    epoch = _epoch(_text(cy.get("epoch_utc")))
    nations = [_text(n) for n in _seq(cy.get("nations"))]
    indicators = [_map(i) for i in _seq(cy.get("indicators"))]
    address = {_text(i.get("id")): _text(i.get("address")) for i in indicators}
    events = [_map(e) for e in _seq(cy.get("events"))]
    scripted = sum(1 for e in events if e.get("scripted") is not False)
    simulated = _text(cy.get("simulated"))
    if scripted or simulated:
        notice = (f'<p class="sim" style="{SIM_STYLE}"><b>{SIMULATED_NOTICE}: a simulated '
                  f"replay.</b> {esc(simulated or 'the script is an exercise')}. "
                  f"{scripted} of the {len(events)} events are the exercise script "
                  "(marked script), the others are the public record (marked record); "
                  "what each node then did with them is trilink's.</p>")
    else:
        notice = "<p>Every event is from the public record.</p>"
    intro = (f"<p>Campaign <b>{esc(cy.get('name') or cy.get('campaign') or DASH)}</b> "
             f"(<code>{esc(cy.get('campaign'))}</code>) replayed through one cyber book per "
             f"nation under <b>{esc(cy.get('regime') or DASH)}</b>: every object is "
             "validated, released by its originator to a REL TO list, and shared only where "
             "its TLP and the agreements in force both allow (the stricter wins), checked "
             "by the sender and again by the receiver. Times are after the campaign's "
             f"epoch, {esc(utc_clock(epoch, True))} UTC, not the missile scenario's.</p>")
    ev_rows = []
    for e in events:
        action = ("publishes the indicator" if e.get("action") == "detect"
                  else f"sights it ({esc(e.get('count', 1))}×)")
        ev_rows.append([_when(epoch, _num(e.get("t_s"))), _nation(_text(e.get("nation"))),
                        action, f"<code>{esc(e.get('address'))}</code>", esc(e.get("tlp")),
                        esc(", ".join(_text(n) for n in _seq(e.get("rel_to")))),
                        esc(e.get("note")),
                        "script" if e.get("scripted") is not False else "record"])
    ev_table = _table("The campaign's events", ["time", "nation", "action", "address",
                                                 "TLP", "released to", "note", "from"],
                      ev_rows)
    learned: dict[tuple[str, str], Mapping[str, Any]] = {
        (_text(r.get("nation")), _text(r.get("indicator"))): r
        for r in (_map(x) for x in _seq(cy.get("learned")))}
    l_rows = []
    for ind in indicators:
        iid = _text(ind.get("id"))
        cells = [f"<code>{esc(ind.get('address'))}</code>"
                 + (f"<br><small>{esc(ind.get('name'))}</small>" if ind.get("name") else "")]
        for n in nations:
            r = learned.get((n, iid), {})
            t = _num(r.get("t_s"))
            origin = _text(r.get("from"))
            if t is None:
                cells.append('<span class="muted">never</span>')
            else:
                how = "its own" if origin == n else f"from {esc(origin)}" if origin else ""
                cells.append(_when(epoch, t) + (f"<br><small>{how}</small>" if how else ""))
        l_rows.append(cells)
    l_table = _table("When each nation first held each indicator (never: not released to "
                     "it, or no route the agreements and TLP allow)",
                     ["indicator"] + [_nation(n) for n in nations], l_rows)
    a_rows = []
    for a in (_map(x) for x in _seq(cy.get("alerts"))):
        seen = "; ".join(f"{_text(s.get('nation'))} {_text(s.get('count'))}× from "
                         f"{_text(s.get('first_seen_utc'))}"
                         for s in (_map(x) for x in _seq(a.get("sightings"))))
        sent = ", ".join(_text(n) for n in _seq(a.get("shared_with")))
        a_rows.append([_when(epoch, _num(a.get("t_s"))), _nation(_text(a.get("at"))),
                       _short(_text(a.get("indicator")), address), esc(seen),
                       esc(", ".join(_text(n) for n in _seq(a.get("audience")))),
                       esc(a.get("tlp")),
                       esc(sent) if sent else '<span class="muted">nobody (noticed here)'
                                              "</span>"])
    a_table = (_table("Correlations and cyber alerts: a second nation's sighting of an "
                      "indicator raises an alert where it is noticed; the noticing "
                      "publisher sends the alert note to the audience (the intersection of "
                      "the sightings' REL TO lists)",
                      ["time", "at", "indicator", "sighted by", "audience", "TLP",
                       "alert sent to"], a_rows)
               if a_rows else '<p class="muted">No correlation: no indicator was sighted '
                              "by two nations.</p>")
    held = [_map(x) for x in _seq(cy.get("withheld"))]
    refused = [_map(x) for x in _seq(cy.get("refused"))]
    w_rows = [[_when(epoch, _num(w.get("t_s"))), _nation(_text(w.get("from"))),
               _nation(_text(w.get("to"))),
               ", ".join(_short(_text(o), address) for o in _seq(w.get("objects"))),
               esc(w.get("reason"))] for w in held]
    w_rows += [[_when(epoch, _num(r.get("t_s"))), _nation(_text(r.get("origin"))),
                _nation(_text(r.get("nation"))), "refused at the receiver",
                esc("; ".join(_text(p) for p in _seq(r.get("problems"))))] for r in refused]
    w_table = (_table("What the senders withheld and the receivers refused, and why",
                      ["time", "from", "to", "objects", "reason"], w_rows)
               if w_rows else '<p class="muted">Nothing withheld or refused: every share the '
                              "script asked for was allowed.</p>")
    sources = "".join(f"<li>{source_link(_text(s))}</li>" for s in _seq(cy.get("sources")))
    src = (f'<h3>Sources of the campaign</h3><ul class="sources">{sources}</ul>' if sources
           else '<p class="muted">The campaign lists no sources.</p>')
    html = (f'<section id="cyber"><h2>Cyber campaign</h2>{notice}{intro}{ev_table}'
            f"{l_table}{a_table}{w_table}{src}</section>")
    return "cyber", "Cyber campaign", html


def injects_section(rec: Record, record: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(anchor, contents label, HTML) of the exercise injects section, or None when the
    record lists none."""
    injects = [_map(x) for x in _seq(record.get("injects"))]
    if not injects:
        return None
    rows: list[Sequence[str]] = []
    for inj in injects:
        due = _num(inj.get("due_t_s"))
        applied = _num(inj.get("applied_t_s"))
        if inj.get("kind") == "lost_link":
            who = " – ".join(_text(n) for n in _seq(inj.get("between")))
            what = (f"link lost until {esc(tplus_long(_num(inj.get('to_t_s'))))}"
                    + (f": {esc(inj.get('reason'))}" if inj.get("reason") else ""))
        else:
            who = _text(inj.get("nation"))
            parties = ", ".join(_text(n) for n in _seq(inj.get("parties"))) or "every partner"
            what = (f"hotline request by {esc(_text(inj.get('authority')).replace('_', ' '))} "
                    f"to {esc(parties)}: {esc(inj.get('topic'))}"
                    + (f" (consultation {esc(inj.get('consultation'))})"
                       if inj.get("consultation") else ""))
        utc = rec.utc(due) if due is not None else None
        rows.append([esc(tplus_long(due)) + (f' <span class="muted nw">({esc(utc_clock(utc))}'
                                             " UTC)</span>" if utc else ""),
                     esc(who), esc(_text(inj.get("kind")).replace("_", " ")), what,
                     esc(tplus_long(applied)) if applied is not None else _NONE])
    table = _table("The exercise's injects as scripted and as applied (times after the "
                   "scenario epoch)", ["due", "who", "inject", "what", "applied"], rows)
    return ("injects", "Exercise injects",
            f'<section id="injects"><h2>Exercise injects</h2>{table}</section>')

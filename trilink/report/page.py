"""The HTML page: header and outcome, map, timeline, consultations, tables, sources, notes.

Every piece of text that comes from the record goes through :func:`esc`; links are made
only to ``http(s)`` sources and to the run's own relative ``alerts/`` files.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from html import escape

from trilink import __version__
from trilink.report.data import Launch, Message, NationFigures, Record
from trilink.report.fmt import (
    DASH,
    duration,
    level_colour,
    level_name,
    local_clock,
    missile_name,
    num,
    tplus,
    tplus_min,
    utc_clock,
)
from trilink.report.mapfig import MAX_WARNING_SHAPES, thin_assessments
from trilink.report.published import anchors
from trilink.report.story import launch_facts, outcome
from trilink.report.timeline import LINEAR_MAX_S

__all__ = [
    "CSS",
    "esc",
    "launches_section",
    "map_section",
    "messages_section",
    "notes_section",
    "page",
    "source_link",
    "sources_section",
    "timeline_caption",
    "timeline_section",
]

OPEN_LAUNCHES = 4
"""Launch sections start open up to this many launches (collapsed above)."""
MANY_MESSAGES = 40
"""Above this many CAP messages the list is split into one collapsible table per launch."""
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_GITHUB = re.compile(r"^github:([\w.-]+/[\w.-]+)@([0-9a-fA-F]{4,40}):(.+)$")

CSS = """
:root{--ink:#1d2327;--muted:#5b6770;--rule:#d9dee2;--bg:#ffffff;--band:#f5f7f8;
--accent:#1f4e9c;--usa:#1f4e9c;--jpn:#c0392b;--kor:#138d75}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);
font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,
"Noto Sans",sans-serif}
.wrap{max-width:1120px;margin:0 auto;padding:28px 28px 48px}
header{border-bottom:3px solid var(--ink);padding-bottom:14px;margin-bottom:8px}
.kicker{text-transform:uppercase;letter-spacing:.08em;font-size:12px;color:var(--muted);
margin:0 0 4px}
h1{font-size:28px;line-height:1.2;margin:0 0 6px}
h2{font-size:21px;margin:34px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--rule)}
h3{font-size:17px;margin:22px 0 8px}
p{margin:8px 0}
.desc{color:var(--muted);margin-top:2px}
dl.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:8px 18px;
margin:14px 0 0}
dl.facts div{border-left:3px solid var(--rule);padding-left:8px}
dl.facts dt{font-size:11.5px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
dl.facts dd{margin:0;font-weight:600;overflow-wrap:anywhere}
.outcome{background:var(--band);border-left:4px solid var(--accent);padding:10px 16px;
margin:16px 0 0}
.outcome h2{border:0;margin:4px 0 4px;font-size:17px}
nav{margin:14px 0 4px;font-size:14px}
nav ol{display:flex;flex-wrap:wrap;gap:4px 18px;list-style:none;padding:0;margin:0}
a{color:var(--accent)}
figure{margin:12px 0 18px}
figure img{display:block;width:100%;height:auto;border:1px solid var(--rule)}
figcaption{font-size:13.5px;color:var(--muted);margin-top:6px}
table{border-collapse:collapse;width:100%;margin:10px 0 18px;font-size:13.5px}
caption{text-align:left;font-weight:600;padding:4px 0 6px;color:var(--ink)}
th,td{border-bottom:1px solid var(--rule);padding:5px 8px;text-align:left;
vertical-align:top}
thead th{background:var(--band);border-bottom:2px solid #b8c0c6;font-weight:600;
vertical-align:bottom}
tbody tr:nth-child(even){background:#fafbfc}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.n{white-space:nowrap}
td.t{font-variant-numeric:tabular-nums;white-space:nowrap}
td.txt{max-width:520px}
.nat{font-weight:700}
.nat-USA{color:var(--usa)}.nat-JPN{color:var(--jpn)}.nat-KOR{color:var(--kor)}
.lvl{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-size:12px;
white-space:nowrap}
.muted{color:var(--muted)}
details{border:1px solid var(--rule);border-radius:4px;padding:0 14px;margin:10px 0}
details[open]{padding-bottom:6px}
summary{cursor:pointer;padding:9px 0;font-weight:600}
summary .muted{font-weight:400}
.scroll{overflow-x:auto}
ul.sources{padding-left:20px;font-size:14px}
ul.sources li{overflow-wrap:anywhere;margin:2px 0}
.notes li{margin:4px 0}
.cst{display:inline-block;padding:0 6px;border-radius:3px;font-size:12px;font-weight:600;
color:#fff;background:#5b6770;white-space:nowrap}
.cst-concluded{background:#1a7f45}.cst-lapsed{background:#b3141a}
.cst-opened,.cst-all_joined{background:#b9770e}
.cout{border-left:4px solid var(--rule);padding:4px 10px;margin:10px 0}
.cout-ok{border-color:#1a7f45}.cout-bad{border-color:#b3141a;background:#fdf1f1}
.nw{white-space:nowrap}.bad{color:#b3141a;font-weight:600}.esc{color:#7d3c98;font-weight:600}
.cgrid{display:grid;grid-template-columns:repeat(auto-fit,minmax(330px,1fr));gap:0 24px}
blockquote.stmt{margin:6px 0 14px;padding:8px 14px;border-left:4px solid #1a7f45;
background:var(--band);white-space:normal;overflow-wrap:anywhere}
blockquote.draft{border-left:4px dashed #b3141a;color:var(--muted)}
footer{margin-top:36px;padding-top:10px;border-top:1px solid var(--rule);font-size:12.5px;
color:var(--muted)}
@media (max-width:700px){.wrap{padding:16px}h1{font-size:23px}table{font-size:12.5px}}
@media print{body{font-size:11pt}.wrap{max-width:none;padding:0}nav{display:none}
a{color:inherit;text-decoration:none}figure,tr{break-inside:avoid}
h2{break-after:avoid}figure img{border:0}details{border:0;padding:0}
thead{display:table-header-group}}
"""


def esc(value: object) -> str:
    """HTML-escape any value (quotes too: safe in attributes)."""
    return escape(str(value), quote=True)


def source_link(source: str) -> str:
    """A source as a link when it is an http(s) URL or a ``github:`` pin, else as text."""
    m = _GITHUB.match(source)
    if m:
        url = f"https://github.com/{m.group(1)}/blob/{m.group(2)}/{m.group(3)}"
        return f'<a href="{esc(url)}">{esc(source)}</a>'
    if re.match(r"^https?://", source, re.IGNORECASE):
        return f'<a href="{esc(source)}">{esc(source)}</a>'
    return esc(source)


def _alert_href(path: str) -> str | None:
    """The run-relative link of an alert file, or None if it is not a plain relative path."""
    if not path or _SCHEME.match(path) or path.startswith(("/", "\\")) or ".." in path:
        return None
    return path


def _table(caption: str, head: Sequence[str], rows: Iterable[Sequence[str]],
           numeric: Iterable[int] = (), cls: str = "") -> str:
    """A table; cells are HTML already, ``numeric`` columns are right-aligned."""
    nums = set(numeric)
    th = "".join(f'<th scope="col"{" class=n" if i in nums else ""}>{h}</th>'
                 for i, h in enumerate(head))
    body = "".join(
        "<tr>" + "".join(f'<td{" class=n" if i in nums else ""}>{c}</td>'
                         for i, c in enumerate(r)) + "</tr>" for r in rows)
    klass = f' class="{cls}"' if cls else ""
    return (f'<div class="scroll"><table{klass}><caption>{caption}</caption>'
            f"<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>")


def _nation(code: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9]", "", code)
    return f'<span class="nat nat-{safe}">{esc(code)}</span>'


def _level(level: str) -> str:
    if not level or level == "none":
        return f'<span class="muted">{DASH}</span>'
    return (f'<span class="lvl" style="background:{level_colour(level)}">'
            f"{esc(level_name(level))}</span>")


# ---------------------------------------------------------------------------- header
def _header(rec: Record) -> str:
    sc = rec.scenario
    epoch = utc_clock(sc.epoch_utc, with_date=True)
    facts = [
        ("Scenario id", sc.id or DASH),
        ("Date", sc.date or DASH),
        ("Epoch (UTC)", epoch if sc.epoch_utc is None else f"{epoch}Z"),
        ("Regime in force", sc.regime or DASH),
        ("Seed", sc.seed or DASH),
        ("Nations", ", ".join(rec.nations) or DASH),
        ("Launches", str(len(rec.launches))),
        ("CAP messages", str(len(rec.messages))),
    ]
    dl = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in facts)
    paras = "".join(f"<p>{esc(p)}</p>" for p in outcome(rec))
    title = sc.title or sc.id or "Untitled scenario"
    return (f'<header><p class="kicker">trilink run report</p><h1>{esc(title)}</h1>'
            + (f'<p class="desc">{esc(sc.description)}</p>' if sc.description else "")
            + f'<dl class="facts">{dl}</dl>'
            + f'<section class="outcome" id="outcome"><h2>Outcome</h2>{paras}</section>'
            + "</header>")


def _nav(extra: Sequence[tuple[str, str, str]] = ()) -> str:
    items = [("map", "1 Map"), ("timeline", "2 Who knew what when"),
             ("consultations", "3 Consultations"), ("launches", "4 Launches and nations"),
             ("messages", "5 CAP messages"), *((a, t) for a, t, _ in extra),
             ("sources", "6 Sources"), ("notes", "7 Notes and limits")]
    lis = "".join(f'<li><a href="#{a}">{esc(t)}</a></li>' for a, t in items)
    return f'<nav aria-label="Contents"><ol>{lis}</ol></nav>'


# ---------------------------------------------------------------------------- map
def _sensor_table(rec: Record) -> str:
    rows = [[_nation(s.nation), esc(s.id), esc(s.kind.replace("_", " ")), esc(s.name),
             f"{s.lat_deg:.2f}°, {s.lon_deg:.2f}°", num(s.max_range_km, "km")]
            for s in rec.sensors]
    if not rows:
        return '<p class="muted">No radars in the record.</p>'
    table = _table("Radars of the run (position and maximum range drawn on the map)",
                   ["Nation", "Id", "Kind", "Name", "Lat, lon", "Max range"], rows, [5])
    return (f"<details><summary>Radars <span class=muted>({len(rows)})</span></summary>"
            f"{table}</details>")


def map_section(rec: Record, figure: str) -> str:
    """Section 1: the map figure, how to read it, and the radar list."""
    n_ass = sum(1 for a in rec.assessments if a.impact is not None)
    drawn = len(thin_assessments(rec.assessments))
    if drawn == n_ass:
        thin = f"Thin ellipses are the 95 % predicted-impact ellipses of all {n_ass} assessments."
    else:
        thin = (f"Thin ellipses are the 95 % predicted-impact ellipses of {drawn:,} of the "
                f"{n_ass:,} assessments: per nation and track the first, the last and evenly "
                "spaced ones between.")
    n_warn = sum(1 for m in rec.messages if m.msg_type != "Cancel" and m.impact is not None)
    warn = ("Thick ellipses are the predictions attached to CAP warnings"
            + (f" (with {n_warn} warnings, only each track's first, last and changes of level)"
               if n_warn > MAX_WARNING_SHAPES else "")
            + "; dashed, hatched areas are the overflight corridors those warnings named.")
    return (
        '<section id="map"><h2>1. Map</h2>'
        "<p>Where the missiles flew, what each nation's radars could reach, and where each "
        f"warning centre predicted the impact. {thin} {warn} Territorial seas (12 nm) and "
        "200-nm zones are trilink's model (normal baselines, equidistance), not the legal "
        "lines; radar ranges are the maximum instrumented ranges, not what a radar sees "
        "below its horizon.</p>"
        f"{figure}{_sensor_table(rec)}</section>")


# ---------------------------------------------------------------------------- timeline
def _published_rows(rec: Record) -> list[list[str]]:
    rows = []
    for launch in rec.launches:
        utc = rec.utc(launch.launch_t_s)
        text = str(launch.published.get("public_warning") or "")
        if not text:
            continue
        found = anchors(text, utc)
        stated = "<br>".join(f"{esc(a.label)} → about {esc(tplus_min(a.t_after_launch_s))}"
                             for a in found) or f'<span class="muted">{DASH}</span>'
        ours = []
        for n in rec.nations:
            f = launch.figures.get(n)
            if f is not None and f.first_warning_s is not None:
                ours.append(f"{_nation(n)} {esc(tplus(f.first_warning_s))} "
                            f"{_level(f.warning_level)}")
        rows.append([esc(launch.name), esc(text), stated,
                     "<br>".join(ours) or '<span class="muted">no warning</span>'])
    return rows


def timeline_section(rec: Record, figure: str) -> str:
    """Section 2: the timeline figure and the published public warnings beside ours."""
    rows = _published_rows(rec)
    missing = len(rec.launches) - len(rows)
    table = _table(
        "Real public warnings (as published) beside trilink's first warnings",
        ["Launch", "Published public warning", "Times stated (read as UTC+9)",
         "trilink first warning"], rows, cls="pub") if rows else ""
    if missing:
        table += ('<p class="muted">'
                  + ("None of the launches of this record has a published public-warning "
                     "text." if not rows else
                     f"{missing} of the {len(rec.launches)} launches have no published "
                     "public-warning text.") + "</p>")
    return (
        '<section id="timeline"><h2>2. Who knew what when</h2>'
        "<p>For each launch and nation: when its own sensors first detected the missile, "
        "when its tracker first held a track of its own, when it first received a partner's "
        "track under the agreements in force, and every CAP message its warning centre "
        "issued. The last row of a launch shows the times stated in the published record "
        "of the real public warning (J-Alert, ROK air-raid warnings, announcements), to the "
        "minute.</p>"
        f"{figure}{table if rec.launches else ''}</section>")


def timeline_caption(sqrt_axis: bool) -> str:
    """Caption of the timeline figure (HTML)."""
    axis = (f"The time axis is square-root scaled beyond the first minutes (flights of more "
            f"than {LINEAR_MAX_S / 60:g} minutes), so that the first minutes stay readable."
            if sqrt_axis else "The time axis is linear.")
    return ("Who knew what when. Upper marks in a nation's row: tracking (first detection, "
            "own track, partner track); lower marks: CAP messages coloured by level, with a "
            f"bar while a warning was in force. Grey band: the missile in flight. {axis} "
            "Published times are local clock times read as JST/KST (UTC+9), to the minute.")


# ---------------------------------------------------------------------------- launches
def _figures_row(n: str, f: NationFigures | None) -> list[str]:
    if f is None:
        return [_nation(n), DASH, DASH, DASH, DASH, _level("none"), DASH, DASH]
    fa = DASH if f.false_alarms is None else str(f.false_alarms)
    return [_nation(n), esc(tplus(f.first_detection_s)), esc(tplus(f.first_track_s)),
            esc(tplus(f.first_partner_track_s)), esc(tplus(f.first_warning_s)),
            _level(f.warning_level),
            esc(num(f.impact_error_km_at_warning, "km", 1)), esc(fa)]


def _nations_table(rec: Record, launch: Launch) -> str:
    rows = [_figures_row(n, launch.figures.get(n)) for n in rec.nations]
    return _table(
        f"{esc(launch.name)}: each nation's figures (times after launch)",
        ["Nation", "First detection", "First own track", "First partner track",
         "First warning", "Highest level", "Impact error at first warning",
         "False alarms"], rows, numeric=[1, 2, 3, 4, 6, 7])


def _diff(ours: float | None, theirs: float | None, unit: str) -> str:
    if ours is None or theirs is None or theirs == 0:
        return DASH
    d = ours - theirs
    pct = 100.0 * d / theirs
    if round(d) == 0 and round(pct, 1) == 0:
        return f"0\u202f{unit}"
    sign = "+" if d > 0 else "−"
    return f"{sign}{abs(d):,.0f}\u202f{unit} ({sign}{abs(pct):.1f} %)"


def _published_table(launch: Launch, ground_range_km: float | None) -> str:
    pub = launch.published
    p_apogee = _pub_num(pub.get("apogee_km"))
    p_range = _pub_num(pub.get("range_km"))
    p_time = _pub_num(pub.get("flight_time_s"))
    rows = [
        ["Apogee", esc(num(p_apogee, "km")), esc(num(launch.apogee_km, "km")),
         esc(_diff(launch.apogee_km, p_apogee, "km"))],
        ["Ground range", esc(num(p_range, "km")), esc(num(ground_range_km, "km")),
         esc(_diff(ground_range_km, p_range, "km"))],
        ["Flight time", esc(duration(p_time)), esc(duration(launch.flight_time_s)),
         esc(_diff(launch.flight_time_s, p_time, "s"))],
    ]
    table = _table(f"{esc(launch.name)}: published record beside trilink's flight",
                   ["", "Published", "trilink (truth flight)", "Difference"], rows, [1, 2, 3])
    texts = [(k, str(pub.get(k) or "")) for k in
             ("figures_from", "impact", "public_warning", "notes")]
    labels = {"figures_from": "Figures from", "impact": "Impact (published)",
              "public_warning": "Public warning (published)", "notes": "Notes"}
    dl = "".join(f"<tr><th scope=row>{labels[k]}</th><td class=txt>{esc(v)}</td></tr>"
                 for k, v in texts if v)
    if not pub:
        return '<p class="muted">No published figures for this launch.</p>'
    if dl:
        table += ('<div class="scroll"><table><caption>Published account</caption>'
                  f"<tbody>{dl}</tbody></table></div>")
    return table


def _pub_num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _launch_details(rec: Record, k: int, launch: Launch, open_: bool) -> str:
    facts = launch_facts(launch)
    utc = rec.utc(launch.launch_t_s)
    site = launch.site_name or DASH
    pos = (f" ({launch.site_lat_deg:.3f}°, {launch.site_lon_deg:.3f}°)"
           if launch.site_lat_deg is not None and launch.site_lon_deg is not None else "")
    lines = [
        f"<b>Missile</b> {esc(missile_name(launch.missile) or DASH)}",
        f"<b>Site</b> {esc(site)}{esc(pos)}",
        f"<b>Launch</b> {esc(utc_clock(utc, with_date=True))} UTC "
        f"({esc(local_clock(utc))} UTC+9)",
        f"<b>Flight</b> {esc(duration(launch.flight_time_s))}",
    ]
    if facts.where:
        lines.append(f"<b>Came down</b> {esc(facts.where)} "
                     f"({launch.impact_lat_deg:.2f}°, {launch.impact_lon_deg:.2f}°)")
    if launch.failure_t_s is not None:
        lines.append(f"<b>Failure</b> at {esc(tplus(launch.failure_t_s - launch.launch_t_s))}")
    summary = (f"{esc(launch.name)} <span class=muted>· {esc(missile_name(launch.missile))} · "
               f"{esc(utc_clock(utc, _spans_days(rec)))} UTC · {esc(launch.id)}</span>")
    return (f'<details id="launch-{k + 1}"{" open" if open_ else ""}><summary>{summary}</summary>'
            f"<p>{' · '.join(lines)}</p>{_nations_table(rec, launch)}"
            f"{_published_table(launch, facts.ground_range_km)}</details>")


def _spans_days(rec: Record) -> bool:
    days = {t.date() for lc in rec.launches if (t := rec.utc(lc.launch_t_s)) is not None}
    return len(days) > 1


def _overview(rec: Record) -> str:
    rows = []
    with_date = _spans_days(rec)
    for k, launch in enumerate(rec.launches):
        utc = rec.utc(launch.launch_t_s)
        cells = [f'<a href="#launch-{k + 1}">{esc(launch.name)}</a>',
                 esc(missile_name(launch.missile) or DASH),
                 f"<span class=t>{esc(utc_clock(utc, with_date))}</span>",
                 esc(duration(launch.flight_time_s))]
        for n in rec.nations:
            f = launch.figures.get(n)
            if f is None:
                cells.append(DASH)
                continue
            track = (f"track {tplus(f.first_track_s)}" if f.first_track_s is not None
                     else "no track")
            warn = (f"warning {esc(tplus(f.first_warning_s))} {_level(f.warning_level)}"
                    if f.first_warning_s is not None else "")
            cells.append(f"{esc(track)}<br>{warn}" if warn else esc(track))
        rows.append(cells)
    head = ["Launch", "Missile", "UTC", "Flight"] + [
        f"{esc(n)}: first own track, first warning" for n in rec.nations]
    return _table("All launches at a glance (times after each launch)", head, rows)


def launches_section(rec: Record) -> str:
    """Section 4: per launch the nations' figures and the published record."""
    if not rec.launches:
        return ('<section id="launches"><h2>4. Launches and nations</h2>'
                '<p class="muted">No launches in this record.</p></section>')
    open_ = len(rec.launches) <= OPEN_LAUNCHES
    overview = _overview(rec) if len(rec.launches) > 1 else ""
    hint = ("" if open_ else "<p>Open a launch for its details; all start closed because "
            "there are many.</p>")
    body = "".join(_launch_details(rec, k, lc, open_) for k, lc in enumerate(rec.launches))
    return ('<section id="launches"><h2>4. Launches and nations</h2>'
            "<p>First detection, track and warning are seconds after launch; the impact "
            "error is the distance from the predicted impact point of the first warning to "
            "the true impact. A false alarm is a warning whose level the truth did not bear "
            "out (an overflight or impact warning for a missile that did neither).</p>"
            f"{overview}{hint}{body}</section>")


# ---------------------------------------------------------------------------- messages
def _message_row(rec: Record, k: int, m: Message, with_date: bool) -> list[str]:
    i = rec.launch_index(m.missile, m.t_s)
    launch = rec.launches[i] if i is not None else None
    rel = tplus(m.t_s - launch.launch_t_s) if launch is not None else DASH
    href = _alert_href(m.file)
    name = esc(m.identifier or m.file or DASH)
    link = f'<a href="{esc(href)}">{name}</a>' if href else name
    about = esc(launch.name) if launch is not None else DASH
    if m.missile is None:
        about += ' <span class="muted">(no missile: clutter)</span>'
    return [str(k), esc(utc_clock(rec.utc(m.t_s), with_date)), esc(rel), _nation(m.nation),
            esc(m.msg_type), _level(m.level), esc(m.headline), about, esc(m.track), link]


def _messages_by_launch(rec: Record, rows: Sequence[tuple[Message, list[str]]],
                        head: Sequence[str]) -> str:
    """One collapsible table per launch (for runs with many messages)."""
    groups: dict[int | None, list[list[str]]] = {}
    for m, row in rows:
        groups.setdefault(rec.launch_index(m.missile, m.t_s), []).append(row)
    out = []
    for i in sorted(groups, key=lambda k: -1 if k is None else k):
        name = rec.launches[i].name if i is not None else "no launch"
        body = _table(f"CAP messages about {esc(name)}", head, groups[i], numeric=[0])
        out.append(f"<details><summary>{esc(name)} <span class=muted>"
                   f"({len(groups[i])} messages)</span></summary>{body}</details>")
    return "".join(out)


def messages_section(rec: Record) -> str:
    """Section 5: every CAP message with a link to its file (grouped by launch when many)."""
    if not rec.messages:
        return ('<section id="messages"><h2>5. CAP messages</h2>'
                '<p class="muted">No CAP message was issued in this run.</p></section>')
    days = {t.date() for m in rec.messages if (t := rec.utc(m.t_s)) is not None}
    with_date = len(days) > 1
    rows = [(m, _message_row(rec, k, m, with_date)) for k, m in enumerate(rec.messages, 1)]
    head = ["#", "UTC", "After launch", "Nation", "Type", "Level", "Headline", "Launch",
            "Track", "File"]
    intro = ("<p>Each warning centre's messages as written to <code>alerts/</code>: an Alert "
             "opens a warning, an Update changes its level or area, a Cancel lifts it. The "
             "links open the XML files (they work when this page sits in its run folder).")
    if len(rows) > MANY_MESSAGES:
        return ('<section id="messages"><h2>5. CAP messages</h2>' + intro
                + f" The {len(rows)} messages are grouped by launch; open one to see its "
                "messages.</p>" + _messages_by_launch(rec, rows, head) + "</section>")
    table = _table(f"The {len(rows)} CAP 1.2 messages of the run, in time order (files in "
                   "<code>alerts/</code> beside this report)", head, [r for _, r in rows],
                   numeric=[0])
    return f'<section id="messages"><h2>5. CAP messages</h2>{intro}</p>{table}</section>'


# ---------------------------------------------------------------------------- end
def sources_section(rec: Record) -> str:
    """Section 6: the scenario's sources as links."""
    if not rec.scenario.sources:
        return ('<section id="sources"><h2>6. Sources</h2>'
                '<p class="muted">The scenario lists no sources.</p></section>')
    items = "".join(f"<li>{source_link(s)}</li>" for s in rec.scenario.sources)
    return ('<section id="sources"><h2>6. Sources</h2>'
            "<p>The public sources the scenario's launch times, sites, figures and published "
            f'warnings come from.</p><ul class="sources">{items}</ul></section>')


def notes_section() -> str:
    """Section 7: the limits of what the page shows."""
    notes = [
        "Everything here is a simulation. The flights are fitted to published apogee, range "
        "and flight time; radar sites, performance and the sharing agreements are public "
        "approximations, not the systems' real parameters.",
        "Detection, tracking and warning times depend on the random seed (radar noise, "
        "detection draws, false alarms). Compare seeds before drawing conclusions from a "
        "few seconds' difference.",
        "The warning centres follow trilink's rules (documented in the warning model), not "
        "the real J-Alert or ROK procedures; the real decisions also involve people and "
        "communication chains the simulation leaves out.",
        "Published times are quoted as the sources give them, usually to the minute and in "
        "local time; the T+ values beside them are read from that text and inherit its "
        "precision.",
        "Territorial seas and 200-nm zones are trilink's geometric model (normal baselines, "
        "equidistance), not legal boundaries; the NLL and disputed areas are not modelled.",
        "Predicted-impact ellipses are 95 % regions of each tracker's estimate at the time, "
        "not the truth; early ones are large by nature.",
    ]
    lis = "".join(f"<li>{esc(n)}</li>" for n in notes)
    return f'<section id="notes"><h2>7. Notes and limits</h2><ul class="notes">{lis}</ul></section>'


def page(rec: Record, map_figure: str, timeline_figure: str, consultations: str = "",
         extra: Sequence[tuple[str, str, str]] = ()) -> str:
    """The whole HTML document; ``consultations`` is section 3 (HTML), placed right after
    the warning timeline; ``extra`` sections (anchor, contents label, HTML: the cyber
    campaign, the exercise injects) come after the CAP messages."""
    sc = rec.scenario
    title = f"trilink report — {sc.title or sc.id or 'run'}"
    footer = (f"<footer>Made by trilink {esc(__version__)} from the run record (schema "
              f"{esc(rec.schema_version if rec.schema_version is not None else DASH)}). "
              "The same record gives the same page, byte for byte; no time of making is "
              "stamped here.</footer>")
    body = (_header(rec) + _nav(extra) + "<main>" + map_section(rec, map_figure)
            + timeline_section(rec, timeline_figure) + consultations + launches_section(rec)
            + messages_section(rec) + "".join(html for _, _, html in extra)
            + sources_section(rec) + notes_section() + "</main>"
            + footer)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="generator" content="trilink report">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head>"
            f'<body><div class="wrap">{body}</div></body></html>\n')


"""The consultation section of the HTML report (`trilink.report.consultation`): from a small
synthetic run record with a ``"consultations"`` list (concluded, lapsed, still open, nulls,
hostile text), and from records made before the list existed."""

from __future__ import annotations

import base64
import copy
import random
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from matplotlib.text import Text

from trilink.report import consultation, render_report
from trilink.report.consult_data import parse_consultations
from trilink.report.consultation import tplus_long
from trilink.report.consultfig import draw_consultation, reference, uses_sqrt_axis
from trilink.report.data import parse_record
from trilink.report.svgfig import style, svg_bytes

LAUNCH = "2022-10-04-irbm-overflight/L1"
HOSTILE = "<script>alert('x')</script> & \"quoted\" $x$"


def _ev(t: float, nation: str, authority: str, what: str, detail: str) -> dict[str, Any]:
    return {"t_s": t, "nation": nation, "authority": authority, "what": what,
            "detail": detail}


def base_record() -> dict[str, Any]:
    """A one-launch record (IRBM over northern Japan, launch at 100 s after the epoch)
    with one warning, without consultations."""
    t0, flight = 100.0, 1320.0
    track = [[t0 + flight * k / 20, 40.6 - 0.03 * k, 126.4 + 1.09 * k, 900.0 * k * (20 - k)
              / 100.0] for k in range(21)]
    return {
        "schema_version": 1,
        "scenario": {"id": "syn-consult", "title": "Synthetic overflight",
                     "description": "An IRBM over Tohoku", "date": "2022-10-04",
                     "epoch_utc": "2022-10-03T22:20:20Z", "regime": "test", "seed": 0,
                     "nations": ["USA", "JPN", "KOR"], "sources": []},
        "launches": [{"id": LAUNCH, "launch": "L1", "missile": "hwasong-12",
                      "site": {"name": "Mupyong-ni", "lat_deg": 40.6, "lon_deg": 126.4},
                      "launch_t_s": t0, "impact_t_s": t0 + flight, "apogee_km": 970.0,
                      "range_km": 4600.0, "impact": {"lat_deg": 40.0, "lon_deg": 148.2},
                      "published": {}, "failure_t_s": None, "ground_track": track}],
        "sensors": [], "outages": [], "assessments": [],
        "messages": [{"nation": "JPN", "t_s": t0 + 121.0, "identifier": "JPN-0001",
                      "msg_type": "Alert", "level": "take_shelter", "track": "JPN-T1",
                      "missile": LAUNCH, "file": "alerts/JPN-0001.xml",
                      "headline": "Take shelter", "impact": None, "corridor": None}],
        "summary": {"launches": [{"id": LAUNCH, "nations": {
            "JPN": {"first_detection_s": 52.0, "first_track_s": 64.0,
                    "first_warning_s": 121.0, "warning_level": "take_shelter"}}}]},
    }


def fact_sheet(warnings: bool = True) -> dict[str, Any]:
    return {"launch_t_s": 103.0, "launch_t_basis": "no later than the first track",
            "launch_lat_deg": 40.6, "launch_lon_deg": 126.4,
            "trajectory_class": "IRBM", "impact_lat_deg": 40.1, "impact_lon_deg": 148.2,
            "impact_t_s": 1420.0, "semi_major_km": 42.5, "semi_minor_km": 11.2,
            "azimuth_deg": 78.0,
            "warnings": ([{"nation": "JPN", "t_s": 221.0, "level": "take_shelter"},
                          {"nation": "KOR", "t_s": 260.0, "level": "informational"}]
                         if warnings else [])}


def concluded() -> dict[str, Any]:
    """Opened 3 min after launch, all joined at ~T+15 min, released at T+2 h 30 min."""
    t = 100.0  # the launch
    return {
        "id": "JPN-1", "opener": "JPN", "parties": ["JPN", "KOR", "USA"],
        "authority": "defence_ministry", "topic": "IRBM overflight of Tohoku",
        "trigger": "predicted impact in JPN EEZ", "launches": [LAUNCH], "state": "concluded",
        "opened_t_s": t + 180.0, "all_joined_t_s": t + 950.2,
        "statement_released_t_s": t + 9000.0, "concluded_t_s": t + 9100.0, "lapsed_t_s": None,
        "fact_sheet": fact_sheet(),
        "statement": {"id": "JPN-1/S1", "version": 2,
                      "text": "The governments condemn the launch.\nThey will consult.",
                      "signers": ["JPN", "KOR", "USA"], "declined": []},
        "events": [
            _ev(t + 180, "JPN", "defence_ministry", "open", "opened on the hotline"),
            _ev(t + 240, "USA", "defence_ministry", "join", "joined"),
            _ev(t + 950.2, "KOR", "defence_ministry", "join", "joined"),
            _ev(t + 1500, "JPN", "defence_ministry", "draft", "S1 v1"),
            _ev(t + 3600, "KOR", "defence_ministry", "amend", "S1 v2"),
            _ev(t + 5400, "USA", "head_of_government", "escalate", "NSC review"),
            _ev(t + 7000, "JPN", "defence_ministry", "approve", "v2"),
            _ev(t + 7800, "KOR", "defence_ministry", "approve", "v2"),
            _ev(t + 8600, "USA", "head_of_government", "approve", "v2"),
            _ev(t + 9000, "JPN", "defence_ministry", "release", "S1 v2"),
            _ev(t + 9100, "JPN", "defence_ministry", "conclude", "closed"),
        ]}


def lapsed() -> dict[str, Any]:
    """Opened by KOR, USA never joined, JPN declined the draft; lapsed at T+1 h 03 min."""
    t = 100.0
    return {
        "id": "KOR-1", "opener": "KOR", "parties": ["KOR", "JPN", "USA"], "authority": "jcs",
        "topic": "Track sharing gap", "trigger": "partner track lost", "launches": [LAUNCH],
        "state": "lapsed", "opened_t_s": t + 200.0, "all_joined_t_s": None,
        "statement_released_t_s": None, "concluded_t_s": None, "lapsed_t_s": t + 3800.0,
        "fact_sheet": fact_sheet(warnings=False),
        "statement": {"id": "KOR-1/S1", "version": 1, "text": "Draft text",
                      "signers": ["KOR"], "declined": ["JPN"]},
        "events": [_ev(t + 200, "KOR", "jcs", "open", "opened"),
                   _ev(t + 260, "JPN", "defence_ministry", "join", "joined"),
                   _ev(t + 600, "KOR", "jcs", "draft", "v1"),
                   _ev(t + 900, "JPN", "defence_ministry", "decline", "declines v1"),
                   _ev(t + 3800, "KOR", "jcs", "lapse", "timed out")]}


def with_consultations(*consults: Any) -> dict[str, Any]:
    rec = base_record()
    rec["consultations"] = list(consults)
    return rec


@pytest.fixture(scope="module")
def html() -> str:
    return render_report(with_consultations(concluded(), lapsed()))


def section(page: str) -> str:
    m = re.search(r'<section id="consultations">.*?</section>', page, re.DOTALL)
    assert m is not None
    return m.group(0)


def consult_block(page: str, k: int) -> str:
    m = re.search(rf'<details id="consult-{k}"[ >].*?(?=<details id="consult-|</section>)',
                  page, re.DOTALL)
    assert m is not None
    return m.group(0)


def figure_texts(rec: dict[str, Any], k: int) -> list[str]:
    """Every text drawn in the figure of the k-th consultation (by opening time)."""
    parsed = parse_record(rec)
    consults = parse_consultations(rec)
    assert consults is not None
    with style():
        fig = draw_consultation(parsed, consults[k])
        svg_bytes(fig)  # drawn: fails on text matplotlib cannot typeset
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


# ---------------------------------------------------------------------------- the section
def test_section_sits_after_the_warning_timeline(html: str) -> None:
    order = [html.index(f'<section id="{s}"') for s in
             ("map", "timeline", "consultations", "launches", "messages")]
    assert order == sorted(order)
    assert '<a href="#consultations">3 Consultations</a>' in html
    assert "<h2>3. Consultations</h2>" in html and "<h2>4. Launches and nations</h2>" in html
    imgs = re.findall(r'<figure id="(fig-[a-z0-9-]+)"><img src="data:image/svg\+xml;base64,',
                      html)
    assert imgs == ["fig-map", "fig-timeline", "fig-consult-1", "fig-consult-2"]


def test_milestones_fact_sheet_and_statement(html: str) -> None:
    sec = section(html)
    assert "2 in this run, 1 with a released joint statement, 1 lapsed" in sec
    assert "All consultations at a glance" in sec
    jpn = consult_block(html, 1)
    assert '<span class="cst cst-concluded">concluded</span>' in jpn
    # times are after the launch (t = 100 s), with the UTC clock (epoch 22:20:20)
    assert "Joint statement released at T+2 h 30 min 00 s</b> signed by JPN, KOR, USA" in jpn
    assert "concluded at T+2 h 31 min 40 s" in jpn
    for label, when in [("Opened", "T+180 s"), ("All parties joined", "T+15 min 50 s"),
                        ("Statement released", "T+2 h 30 min 00 s"),
                        ("Concluded", "T+2 h 31 min 40 s")]:
        assert re.search(rf"<td>{label}</td><td><span class=\"t nw\">{re.escape(when)}</span>",
                         jpn), label
    assert "(22:25:00 UTC)" in jpn  # opened: 100 + 180 s after 22:20:20
    # the fact sheet and its warnings
    assert "<td>Trajectory class</td><td>IRBM</td>" in jpn
    assert '<span class="muted">(no later than the first track)</span>' in jpn
    assert "42.5\u202fkm × 11.2\u202fkm, azimuth 78°" in jpn
    assert "take shelter</span> <span class=\"t nw\">T+121 s</span>" in jpn
    # the statement with its signers, line breaks kept
    assert "JPN-1/S1 version 2" in jpn
    assert "The governments condemn the launch.<br>They will consult." in jpn
    assert '<a href="#launch-1">L1</a>' in jpn
    assert "Events <span class=muted>(11)</span>" in jpn
    assert '<span class="esc">escalate</span>' in jpn


def test_figure_shows_milestones_warnings_and_lanes() -> None:
    rec = with_consultations(concluded(), lapsed())
    texts = figure_texts(rec, 0)
    for want in ("opened T+180 s", "all joined T+15 min", "statement released T+2 h 30 min",
                 "concluded T+2 h 31 min", "JPN take shelter T+121 s",
                 "KOR informational T+160 s", "↑ head of government", "JPN (opener)", "KOR",
                 "USA", "milestones", "public warnings",
                 "JPN-1: concluded — joint statement released"):
        assert want in texts, want
    assert any("square-root" in t for t in texts)
    assert not any(t.startswith("lapsed") for t in texts)
    rec_p = parse_record(rec)
    consults = parse_consultations(rec)
    assert consults is not None
    assert reference(rec_p, consults[0]).t_s == 100.0  # the truth launch, not the sheet's
    assert uses_sqrt_axis(rec_p, consults[0])


def test_lapsed_consultation_reads_as_lapsed(html: str) -> None:
    kor = consult_block(html, 2)
    assert '<span class="cst cst-lapsed">lapsed</span>' in kor
    assert ("<b>Lapsed at T+1 h 03 min 20 s: no joint statement was released.</b>"
            " Not every party had joined.") in kor
    assert '<span class="bad">not released</span>' in kor
    assert '<span class="bad">never (not every party joined)</span>' in kor
    assert "Last draft, never released:</b> KOR-1/S1 version 1" in kor
    assert '<blockquote class="stmt draft">Draft text</blockquote>' in kor
    assert "Joint statement released" not in kor
    assert '<td>Public warnings</td><td><span class="muted">none</span>' in kor
    texts = figure_texts(with_consultations(concluded(), lapsed()), 1)
    assert "KOR-1: LAPSED — no joint statement released" in texts
    assert "lapsed T+1 h 03 min" in texts and "never joined" in texts
    assert "no public warning on the fact sheet" in texts
    assert not any(t.startswith("statement released") for t in texts)


def test_still_open_and_short_consultation_uses_a_linear_axis() -> None:
    c = copy.deepcopy(lapsed())
    c.update(id="USA-1", state="opened", lapsed_t_s=None, statement=None,
             events=c["events"][:2])
    c["fact_sheet"]["impact_t_s"] = 490.0
    rec = with_consultations(c)
    rec["launches"][0]["impact_t_s"] = 500.0  # a short flight: all within 15 minutes
    out = section(render_report(rec))
    assert ("<b>Still open at the end of the run: no joint statement was released</b> "
            "(not every party had joined).") in out
    assert "No joint statement was drafted." in out
    assert "All consultations at a glance" not in out  # one consultation: no overview
    assert "Linear time axis, in minutes after the launch of L1." in out
    consults = parse_consultations(rec)
    assert consults is not None and not uses_sqrt_axis(parse_record(rec), consults[0])
    assert "USA-1: still open at the end of the run — no statement released" in \
        figure_texts(rec, 0)


# ---------------------------------------------------------------------------- robustness
class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def test_hostile_text_is_escaped() -> None:
    c = concluded()
    c["statement"]["text"] = HOSTILE
    c["statement"]["signers"] = ["<b>JPN</b>"]
    c["topic"] = '"><img src=x onerror=alert(1)>'
    c["trigger"] = HOSTILE
    c["id"] = "<i>id</i>"
    c["events"][0]["detail"] = "<svg onload=alert(1)>"
    c["events"][1]["authority"] = "</td><script>"
    c["events"][5]["authority"] = r"$\nonsense{$"  # the escalation's label in the figure
    c["fact_sheet"]["trajectory_class"] = "<u>IRBM</u>"
    out = render_report(with_consultations(c))
    sec = section(out)
    assert "<script" not in out and "<svg onload" not in out and "<img src=x" not in out
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot; $x$" in sec
    assert "&lt;b&gt;JPN&lt;/b&gt;" in sec and "&lt;i&gt;id&lt;/i&gt;" in sec
    assert "&lt;u&gt;IRBM&lt;/u&gt;" in sec and "&lt;svg onload=alert(1)&gt;" in sec
    p = _Tags()
    p.feed(out)
    assert not [t for t, a in p.tags if t in ("script", "svg", "i", "u")
                or any(k.startswith("on") for k, _ in a)]
    # '$' in figure text is taken literally, not as mathtext (which would fail to draw)
    assert r"↑ \$\nonsense{\$" in figure_texts(with_consultations(c), 0)


def test_record_without_consultations_still_renders() -> None:
    old = render_report(base_record())  # made before the hotline: no "consultations" key
    sec = section(old)
    assert "No consultations in this run: the record holds no consultation data" in sec
    assert "fig-consult" not in old and "<details" not in sec
    empty = section(render_report(with_consultations()))
    assert "No consultations in this run: no government opened one" in empty
    assert parse_consultations(base_record()) is None
    assert parse_consultations({"consultations": None}) is None


def test_nulls_and_junk_render() -> None:
    junk: dict[str, Any] = dict.fromkeys(concluded())
    junk["events"] = [None, {"t_s": None, "what": "join"}, {"t_s": "soon"},
                      {"t_s": 500.0, "nation": None, "what": None}]
    rec = with_consultations(junk, "not a dict", {"id": "X", "fact_sheet": {"warnings": [
        {"nation": "JPN", "t_s": None, "level": None}]}, "statement": {"text": None}})
    out = section(render_report(rec))
    assert "The consultation had no fact sheet." in out
    assert '<details id="consult-2"' in out and '<details id="consult-3"' not in out
    consults = parse_consultations(rec)
    assert consults is not None and len(consults) == 2
    assert [(c.id, len(c.events)) for c in consults] == [("#1", 1), ("X", 0)]


def test_deterministic_and_order_independent() -> None:
    a = render_report(with_consultations(concluded(), lapsed()))
    b = render_report(with_consultations(concluded(), lapsed()))
    assert a == b
    c1, c2 = concluded(), lapsed()
    random.Random(3).shuffle(c1["events"])
    assert render_report(with_consultations(c2, c1)) == a
    figs = re.findall(r'id="fig-consult-\d"><img src="data:image/svg\+xml;base64,([^"]+)"', a)
    svg = base64.b64decode(figs[0]).decode()
    assert svg.startswith("<svg") and "<script" not in svg


def test_many_consultations_collapse_and_cap_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consultation, "MAX_FIGURES", 2)
    many = []
    for k in range(5):
        c = lapsed()
        c["id"] = f"KOR-{k + 1}"
        c["opened_t_s"] += k
        many.append(c)
    out = section(render_report(with_consultations(*many)))
    assert out.count('<details id="consult-') == 5 and " open>" not in out
    assert out.count('<figure id="fig-consult-') == 2
    assert out.count("No figure: only the first 2 consultations are drawn.") == 3
    assert "5 in this run, 0 with a released joint statement, 5 lapsed" in out


def test_tplus_long() -> None:
    assert tplus_long(69.4) == "T+69 s" and tplus_long(950.2) == "T+15 min 50 s"
    assert tplus_long(9100.0) == "T+2 h 31 min 40 s" and tplus_long(None) == "—"
    assert tplus_long(-30.0) == "T−30 s"

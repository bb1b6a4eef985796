"""The HTML report (`trilink.report`): from a real run of a short scenario and from
synthetic records (nulls, nothing flown, a busy day, hostile text)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from trilink.cli import main
from trilink.report import render_report, write_report
from trilink.report.data import parse_record
from trilink.report.fmt import duration, missile_name, tplus, tplus_min
from trilink.report.mapfig import lon_label, map_extent, thin_assessments
from trilink.report.published import anchors

SECTIONS = ("outcome", "map", "timeline", "launches", "messages", "sources", "notes")
_REMOTE = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text of <style> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.style = ""
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data


def external_resources(page: str) -> list[str]:
    """What the page would fetch from elsewhere: remote src/srcset/data/poster values, any
    <link href>, <script>, remote url() or @import in styles."""
    p = _Tags()
    p.feed(page)
    found = []
    for tag, attrs in p.tags:
        for name in ("src", "srcset", "data", "poster", "background"):
            if name in attrs and _REMOTE.match(attrs[name]):
                found.append(f"{tag} {name}={attrs[name]}")
        if tag in ("link", "script", "iframe", "object", "embed", "base"):
            found.append(tag)
        if _REMOTE.search(attrs.get("style", "")) or "url(" in attrs.get("style", ""):
            found.append(f"{tag} style")
    if "url(" in p.style or "@import" in p.style:
        found.append("style url/import")
    return found


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real run of a short shipped scenario, shared by the module."""
    out = tmp_path_factory.mktemp("report") / "run"
    assert main(["run", "2022-11-02-srbm-south-of-nll", "--out", str(out), "--seed", "2"]) == 0
    return out


@pytest.fixture(scope="module")
def record(run_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run_dir / "record.json").read_text())
    return data


@pytest.fixture(scope="module")
def html(record: dict[str, Any]) -> str:
    return render_report(record)


def busy_day(base: dict[str, Any], n: int = 23, every_s: float = 1560.0) -> dict[str, Any]:
    """A synthetic record of ``n`` launches ``every_s`` apart (about 10 hours for 23),
    each a copy of ``base``'s first launch moved in time and slightly in space, with its
    assessments, messages and summary figures; one launch fails, one message has a
    corridor, every third launch has no published data."""
    rec = copy.deepcopy(base)
    (proto,) = base["launches"][:1]
    pid = proto["id"]
    figures = next(x for x in base["summary"]["launches"] if x["id"] == pid)
    rec["launches"], rec["assessments"], rec["messages"] = [], [], []
    rec["summary"]["launches"] = []
    for k in range(n):
        dt_s, dlon = k * every_s, 0.15 * (k % 5)
        lid = f"{pid}-syn{k + 1:02d}"
        launch = copy.deepcopy(proto)
        launch.update(id=lid, launch=f"S{k + 1:02d}",
                      launch_t_s=proto["launch_t_s"] + dt_s,
                      impact_t_s=proto["impact_t_s"] + dt_s)
        launch["ground_track"] = [[t + dt_s, la, lo + dlon, h]
                                  for t, la, lo, h in proto["ground_track"]]
        launch["impact"]["lon_deg"] += dlon
        if k % 3 == 2:
            launch["published"] = {}
        if k == 4:
            launch["failure_t_s"] = launch["launch_t_s"] + 120.0
        rec["launches"].append(launch)
        for a in base["assessments"]:
            b = copy.deepcopy(a)
            b.update(t_s=a["t_s"] + dt_s, track=f"{a['track']}-{k}",
                     missile=lid if a["missile"] == pid else a["missile"])
            b["impact"]["lon_deg"] += dlon
            rec["assessments"].append(b)
        for j, m in enumerate(base["messages"]):
            c = copy.deepcopy(m)
            ident = f"{m['nation']}-9{k:02d}{j:02d}"
            c.update(t_s=m["t_s"] + dt_s, identifier=ident, file=f"alerts/{ident}.xml",
                     missile=lid if m["missile"] == pid else m["missile"])
            if k == 7:
                la, lo = launch["site"]["lat_deg"], launch["site"]["lon_deg"]
                c["corridor"] = [[la, lo], [la + 1, lo + 2], [la - 0.5, lo + 2.5], [la, lo]]
            rec["messages"].append(c)
        rec["summary"]["launches"].append({"id": lid, "nations": figures["nations"]})
    return rec


# ---------------------------------------------------------------------------- real run
def test_report_has_every_section_and_figure(html: str, record: dict[str, Any]) -> None:
    assert html.startswith("<!DOCTYPE html>")
    for sec in SECTIONS:
        assert f'id="{sec}"' in html, sec
    imgs = re.findall(r'<img src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+" alt="([^"]+)"',
                      html)
    # The map, the timeline, and one figure per consultation of the run.
    n_consult = len(record.get("consultations") or [])
    assert len(imgs) == 2 + min(n_consult, 12) and all(len(alt) > 40 for alt in imgs)
    assert html.count("<figcaption>") == 2 + min(n_consult, 12)
    assert html.count("<caption>") >= 4  # every table has a caption
    assert html.count("<table") == html.count("<caption>")


def test_report_lists_every_cap_message_with_its_link(record: dict[str, Any], html: str,
                                                      run_dir: Path) -> None:
    # The run warned: the loop below must have messages to check, one per file on disk.
    assert record["messages"]
    on_disk = sorted(p.name for p in (run_dir / "alerts").glob("*.xml"))
    assert sorted(Path(m["file"]).name for m in record["messages"]) == on_disk
    for m in record["messages"]:
        assert f'<a href="{m["file"]}">{m["identifier"]}</a>' in html
        assert (run_dir / m["file"]).is_file()
    # the published public-warning times are read and shown beside ours
    rec = parse_record(record)
    shown = 0
    for launch in rec.launches:
        text = str(launch.published.get("public_warning") or "")
        for a in anchors(text, rec.utc(launch.launch_t_s)):
            assert f"{escape(a.label)} → about {tplus_min(a.t_after_launch_s)}" in html
            shown += 1
    assert shown >= 1, "no published warning time was read from the scenario"


def test_synthetic_messages_are_listed(record: dict[str, Any]) -> None:
    rec = copy.deepcopy(record)
    t0 = rec["launches"][0]["launch_t_s"]
    base = {"nation": "JPN", "track": "JPN-F0009", "missile": rec["launches"][0]["id"],
            "impact": None, "corridor": None}
    rec["messages"] = [
        {**base, "t_s": t0 + 70.0, "identifier": "JPN-07001", "msg_type": "Alert",
         "level": "take_shelter", "file": "alerts/a.xml", "headline": "Take shelter"},
        {**base, "t_s": t0 + 90.0, "identifier": "JPN-07002", "msg_type": "Update",
         "level": "maritime_warning", "file": "alerts/b.xml", "headline": "Maritime"},
        {**base, "t_s": t0 + 300.0, "identifier": "JPN-07003", "msg_type": "Cancel",
         "level": "maritime_warning", "file": "alerts/c.xml", "headline": "Lifted"},
    ]
    out = render_report(rec)
    for m in rec["messages"]:
        assert f'<a href="{m["file"]}">{m["identifier"]}</a>' in out
    assert out.count('<a href="alerts/') >= 3
    assert ("JPN issued a take-shelter alert at T+70 s, lowered it to maritime warning at "
            "T+90 s and cancelled it at T+300 s") in out


def test_report_is_self_contained(html: str) -> None:
    assert external_resources(html) == []
    assert not re.search(r"""<(img|script|link|source)\b[^>]*(src|href)=["']?https?:""",
                         html, re.IGNORECASE)
    # the sources are links, and only <a> elements point outside
    outward = re.findall(r'<a href="(https?://[^"]+)"', html)
    assert outward and all("src=" not in u for u in outward)


def test_report_is_deterministic_and_written_atomically(record: dict[str, Any], html: str,
                                                        tmp_path: Path) -> None:
    assert render_report(record) == html
    p1 = write_report(record, tmp_path)
    first = p1.read_bytes()
    p2 = write_report(copy.deepcopy(record), tmp_path)
    assert p1 == p2 == tmp_path / "report.html"
    assert p2.read_bytes() == first == html.encode("utf-8")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["report.html"]


# ---------------------------------------------------------------------------- synthetic
def test_hostile_text_is_escaped(record: dict[str, Any]) -> None:
    rec = copy.deepcopy(record)
    rec["scenario"]["title"] = "<script>alert('t')</script>"
    rec["scenario"]["description"] = 'a & b "quoted" <img src=http://evil/x.png>'
    rec["scenario"]["sources"] = ["javascript:alert(1)", "https://example.org/?a=1&b=<2>"]
    rec["launches"][0]["published"]["public_warning"] = "<b>bold</b> 08:55 KST"
    rec["launches"][0]["site"]["name"] = "<i>site</i>"
    if rec["messages"]:
        rec["messages"][0]["headline"] = "<svg onload=alert(1)>"
        rec["messages"][0]["file"] = "javascript:alert(1)"
    out = render_report(rec)
    assert "<script" not in out and "<svg onload" not in out and "<i>site" not in out
    assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt;" in out
    assert "&lt;img src=http://evil/x.png&gt;" in out
    assert 'href="javascript:' not in out
    assert 'href="https://example.org/?a=1&amp;b=&lt;2&gt;"' in out
    assert external_resources(out) == []


def test_nulls_and_missing_fields_render(record: dict[str, Any]) -> None:
    rec = copy.deepcopy(record)
    for f in rec["summary"]["launches"][0]["nations"].values():
        for k in f:
            f[k] = None
    launch = rec["launches"][0]
    launch.update(published={}, site=None, apogee_km=None, impact_t_s=None, missile="")
    launch["failure_t_s"] = launch["launch_t_s"] + 60.0
    rec["scenario"].update(date=None, seed=None, sources=[], epoch_utc=None)
    for a in rec["assessments"][:5]:
        a["impact"] = None
    rec["sensors"].append({"id": "X", "nation": "JPN", "lat_deg": None})
    out = render_report(rec)
    assert "—" in out and "never detected it" in out
    assert "failure" in out.lower()
    assert "No published figures for this launch." in out


def test_nothing_flown_renders() -> None:
    rec = {"schema_version": 1,
           "scenario": {"id": "empty", "title": "Quiet day", "nations": ["USA", "JPN", "KOR"],
                        "epoch_utc": "2024-01-01T00:00:00Z", "sources": []},
           "launches": [], "sensors": [], "assessments": [], "messages": [],
           "summary": {"launches": []}}
    out = render_report(rec)
    assert "The record holds no launches" in out
    assert "No CAP message was issued" in out
    assert render_report({}).startswith("<!DOCTYPE html>")  # not even a scenario


def test_no_detection_and_no_warning(record: dict[str, Any]) -> None:
    rec = copy.deepcopy(record)
    rec["messages"], rec["assessments"] = [], []
    for f in rec["summary"]["launches"][0]["nations"].values():
        f.update(first_detection_s=None, first_track_s=None, first_partner_track_s=None,
                 first_warning_s=None, warning_level="none", impact_error_km_at_warning=None)
    out = render_report(rec)
    assert out.count("never detected it") == 3
    assert "no warning" in out


def test_busy_day_stays_readable_and_fast(record: dict[str, Any]) -> None:
    rec = busy_day(record)
    out = render_report(rec)
    assert len(rec["launches"]) == 23
    # Closed when there are many (speed is a benchmark's business, not a test's).
    assert out.count('<details id="launch-') == 23
    assert not re.search(r'<details id="launch-[^"]*" open>', out)
    assert "All launches at a glance" in out
    # Every launch's copied messages, each listed (the loop checks something).
    assert len(rec["messages"]) >= 23
    for m in rec["messages"]:
        assert f'<a href="{m["file"]}">{m["identifier"]}</a>' in out
    assert "23 launches between" in out
    assert render_report(rec) == out


# ---------------------------------------------------------------------------- parts
def test_published_anchors_read_times_stated() -> None:
    launch = dt.datetime(2022, 10, 3, 22, 22, tzinfo=dt.UTC)
    found = anchors("J-Alert 07:27 (Hokkaido, Tokyo islands in error) and 07:29 (Aomori): "
                    "the alert came when it passed over", launch)
    assert [a.t_after_launch_s for a in found] == [300.0, 420.0]
    assert [a.quoted for a in found] == ["07:27", "07:29"]
    rok = anchors("ROK air-raid warning for Ulleungdo 08:55 KST (~4 min after launch)",
                  dt.datetime(2022, 11, 1, 23, 51, tzinfo=dt.UTC))
    assert [(a.t_after_launch_s, a.quoted) for a in rok] == [(240.0, "08:55 KST")]
    assert [a.t_after_launch_s for a in anchors("MOD announcement ~3 min after launch",
                                                None)] == [180.0]
    assert anchors("none known", launch) == []
    assert anchors("J-Alert 06:00 (hours before launch)", launch) == []


def test_thinning_keeps_first_last_and_budget(record: dict[str, Any]) -> None:
    rec = parse_record(busy_day(record))
    chosen = thin_assessments(rec.assessments, budget=200)
    tracks = {(a.nation, a.track) for a in rec.assessments if a.impact is not None}
    assert len(chosen) <= max(200, 2 * len(tracks))
    for key in list(tracks)[:10]:
        ts = sorted(a.t_s for a in rec.assessments if (a.nation, a.track) == key)
        kept = [a.t_s for a in chosen if (a.nation, a.track) == key]
        assert ts[0] in kept and ts[-1] in kept


def test_map_extent_holds_the_tracks(record: dict[str, Any]) -> None:
    rec = parse_record(record)
    ext = map_extent(rec)
    tr = rec.launches[0].track
    assert ext.west < tr[:, 2].min() and tr[:, 2].max() < ext.east
    assert ext.south < tr[:, 1].min() and tr[:, 1].max() < ext.north
    assert 0.45 - 1e-9 <= ext.aspect <= 0.75 + 1e-9


def test_formatting() -> None:
    assert tplus(69.2) == "T+69 s" and tplus(None) == "—" and tplus(1317.0) == "T+21 min 57 s"
    assert duration(306.0) == "306 s" and duration(4 * 3600.0) == "4 h 00 min"
    assert missile_name("kn-23") == "KN-23" and missile_name("hwasong-12") == "Hwasong-12"
    assert lon_label(190.0) == "170°W" and lon_label(180.0) == "180°"
    assert lon_label(130.0) == "130°E"

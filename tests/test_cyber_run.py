"""A scenario's scripted cyber campaign in `trilink run`: summary, record and report carry
it; what each nation learns follows the rules (TLP and agreements, stricter wins); a bad
``cyber:`` section is one line; the same scenario and seed give the same bytes."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from trilink.cli import main
from trilink.cyber.campaign import (
    CampaignEvent,
    campaign_policy,
    run_campaign,
)
from trilink.cyber.regimes import cyber_policy
from trilink.cyber.rules import cyber_route
from trilink.cyber.tlp import Tlp
from trilink.report import render_report
from trilink.sharing.policy import Denied, Policy, policy_for
from trilink.sim.record import injects_record
from trilink.sim.run import cyber_policy_for
from trilink.sim.scenario import load_scenario

SCENARIO = "whatif-bybit-2025-cyber"
OUTPUTS = ("summary.json", "record.json", "report.html")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cyber-run") / "a"
    assert main(["run", SCENARIO, "--out", str(out), "--seed", "3", "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def record(run_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run_dir / "record.json").read_text())
    return data


def _section(html: str, anchor: str) -> str:
    m = re.search(rf'<section id="{anchor}">.*?</section>', html, re.S)
    assert m, anchor
    return m.group(0)


def test_summary_record_and_report_carry_the_campaign(run_dir: Path,
                                                       record: dict[str, Any]) -> None:
    spec = load_scenario(SCENARIO).cyber_campaign()
    assert spec is not None
    cy = record["cyber"]
    assert cy["campaign"] == "bybit-2025-replay" and cy["epoch_utc"] == "2025-02-21T14:13:00Z"
    assert [e["address"] for e in cy["events"]] == [e.address for e in spec.events]
    assert [e["scripted"] for e in cy["events"]] == [not e.note.startswith("record")
                                                    for e in spec.events]
    assert "with the cyber agreements" in cy["regime"]  # the record of the day, cyber too
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["cyber"] == record["summary"]["cyber"]
    nations = summary["cyber"]["nations"]
    assert set(nations) == {"USA", "JPN", "KOR"}
    addresses = {e.address for e in spec.events}
    for n, fig in nations.items():
        assert set(fig["learned_s"]) == addresses
        own = [e.t_s for e in spec.events if e.nation == n and e.action == "detect"]
        for addr, t in fig["own_detection_s"].items():
            mine = [e.t_s for e in spec.events if e.nation == n and e.action == "detect"
                    and e.address == addr]
            assert t == (min(mine) if mine else None)
            if t is not None:  # never later than its own detection
                assert fig["learned_s"][addr] is not None and fig["learned_s"][addr] <= t
        assert own or fig["learned_from"]
    # two nations sighted the Bybit address: a correlation, an alert sent on to the others
    assert any(a["shared_with"] for a in cy["alerts"])
    assert all(set(a["shared_with"]) <= set(a["audience"]) for a in cy["alerts"])
    assert all(fig["alerts"] >= 1 for fig in nations.values())
    html = (run_dir / "report.html").read_text()
    sec = _section(html, "cyber")
    assert "SIMULATED" in sec and "simulated replay" in sec
    for addr in addresses:
        assert addr in sec
    for src in spec.sources:
        assert f'href="{src}"' in sec
    assert 'href="#cyber"' in html and "<script" not in html.lower()
    assert sec.count(">record<") == sum(1 for e in spec.events if not e.scripted)


def _allowed(policy: Policy, cy: dict[str, Any], nation: str, indicator: str,
             t_s: float, origin: str | None) -> bool:
    """Could ``nation`` hold ``indicator`` at ``t_s`` under the rules: its own detection,
    or an originator's release to it that TLP and the agreements let through in time."""
    import datetime as dt

    epoch = dt.datetime.fromisoformat(cy["epoch_utc"].replace("Z", "+00:00"))
    for e in cy["events"]:
        if e["indicator"] != indicator or e["action"] != "detect" or e["t_s"] > t_s:
            continue
        o = e["nation"]
        if o == nation:
            if origin == nation:
                return True
            continue
        if origin != o or nation not in {*e["rel_to"], o}:
            continue
        route = cyber_route(policy, o, nation, epoch + dt.timedelta(seconds=e["t_s"]),
                            Tlp.parse(e["tlp"]), e["rel_to"], o)
        if not isinstance(route, Denied) and t_s >= e["t_s"] + route.latency_s - 0.05:
            return True
    return False


def _check_against_rules(policy: Policy, cy: dict[str, Any]) -> int:
    """Every indicator a nation held, it could hold by the rules; returns how many
    nation-indicator pairs were never held."""
    never = 0
    for row in cy["learned"]:
        if row["t_s"] is None:
            never += 1
            continue
        assert _allowed(policy, cy, row["nation"], row["indicator"], row["t_s"],
                        row["from"]), row
    return never


def test_no_nation_learns_an_indicator_it_is_not_released_to(record: dict[str, Any]) -> None:
    sc = load_scenario(SCENARIO)
    policy = cyber_policy_for(sc, policy_for(sc.regime, sc.date), None)
    assert record["cyber"]["regime"] == policy.name
    _check_against_rules(policy, record["cyber"])
    # Stricter: no Japan-ROK channel (2023-06), the ROK's flag released to the US only, a
    # RED sighting and an AMBER detection; the same rules must still hold, and bite.
    spec = sc.cyber_campaign()
    assert spec is not None
    ev = list(spec.events)
    ev[0] = ev[0].model_copy(update={"rel_to": ("USA", "KOR")})
    ev.append(CampaignEvent(t_s=30000, nation="JPN", sight=ev[0].address, tlp="red"))
    ev.append(CampaignEvent(t_s=40000, nation="KOR", detect=ev[-2].address, tlp="amber"))
    strict_spec = spec.model_copy(update={"events": tuple(ev)})
    for regime in ("cyber-bilateral-2023", "national-only"):
        pol = campaign_policy(cyber_policy(regime))
        cy = run_campaign(strict_spec, pol, ("USA", "JPN", "KOR"), "test")
        assert _check_against_rules(pol, cy) >= 1, regime
        jpn = {r["indicator"]: r for r in cy["learned"] if r["nation"] == "JPN"}
        assert jpn[cy["events"][0]["indicator"]]["from"] != "KOR"
    held = [r for r in cy["learned"] if r["t_s"] is not None]
    assert all(r["from"] == r["nation"] for r in held)  # national-only: own detections only


@pytest.mark.parametrize(("section", "field", "words"), [
    ("cyber:\n  campaign: no-such-campaign\n", "cyber.campaign", "no shipped campaign"),
    ("cyber:\n  script:\n    name: x\n    epoch: 2025-02-21T00:00:00Z\n    simulated: all\n"
     "    events:\n      - {t_s: 1, nation: KOR, detect: '0xdead'}\n",
     "cyber.script.events.0.detect", "not an address of the corpus"),
    ("cyber:\n  campaign: bybit-2025-replay\n  regime: no-such-regime\n", "cyber.regime",
     "no shipped regime"),
    ("cyber:\n  regime: cyber-bilateral-2023\n", "cyber", "exactly one of"),
])
def test_a_bad_cyber_section_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         section: str, field: str, words: str) -> None:
    base = Path(str(load_scenario(SCENARIO)._source[0]))  # type: ignore[index]
    text = base.read_text(encoding="utf-8")
    text = re.sub(r"^cyber:\n(  .*\n)+", section, text, flags=re.M)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    line = text.splitlines().index(section.splitlines()[0]) + 1
    out = tmp_path / "out"
    assert main(["run", str(bad), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"{bad}:") and f": {field}: " in err[0] and words in err[0], err
    assert int(err[0].split(":")[1]) >= line
    assert "Traceback" not in err[0] and not out.exists()


def test_same_scenario_and_seed_same_bytes(run_dir: Path, tmp_path: Path) -> None:
    again = tmp_path / "b"
    assert main(["run", SCENARIO, "--out", str(again), "--seed", "3", "--quiet"]) == 0
    for name in OUTPUTS:
        assert (run_dir / name).read_bytes() == (again / name).read_bytes(), name


def test_old_records_render_and_text_is_escaped(record: dict[str, Any]) -> None:
    old = copy.deepcopy(record)
    del old["cyber"], old["injects"]
    html = render_report(old)
    assert 'id="cyber"' not in html and 'href="#cyber"' not in html
    hostile = copy.deepcopy(record)
    hostile["cyber"]["events"][0]["note"] = "<script>alert(1)</script>"
    hostile["cyber"]["name"] = '"><img src=x onerror=alert(1)>'
    sec = _section(render_report(hostile), "cyber")
    assert "<script" not in sec and "<img" not in sec and "&lt;script&gt;" in sec


def test_injects_are_in_the_record_and_the_report(record: dict[str, Any]) -> None:
    sc = load_scenario("exercise-pacific-dragon-2024")
    due = sc.injects[0].time_s(sc.epoch, sc.launches)  # type: ignore[union-attr]
    rows = injects_record(sc, sc.epoch, [(0, "KOR", due + 2.0, "KOR-7")])
    assert [r["kind"] for r in rows] == [i.kind for i in sc.injects]
    assert rows[0]["due_t_s"] == round(due, 1) and rows[0]["applied_t_s"] == round(due + 2, 1)
    assert rows[0]["consultation"] == "KOR-7" and rows[1]["to_t_s"] > rows[1]["due_t_s"]
    assert record["injects"] == []  # the what-if has none
    rec = copy.deepcopy(record)
    rec["injects"] = rows
    sec = _section(render_report(rec), "injects")
    assert "KOR-7" in sec and "lost link" in sec and "hotline request" in sec

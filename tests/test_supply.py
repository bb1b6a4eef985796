"""Economic security: export controls answered with citations on a date; the supply
series (published months exact, simulated ones flagged); shock detection on planted
breaks; the replays (sharing never later than alone)."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pytest

from trilink.cli import main
from trilink.supply.controls import ControlsQueryError, changes_between, what_applied
from trilink.supply.detect import ShockDetector
from trilink.supply.replay import compare_replay, load_replay, run_once
from trilink.supply.series import build, shipped_series


def _whats(day: str) -> list[str]:
    return [a.what for a in what_applied("JPN", "KOR", "281111", dt.date.fromisoformat(day))]


def test_hydrogen_fluoride_from_japan_to_korea_over_time() -> None:
    before = _whats("2019-06-01")
    assert not any("jpn-three-materials" in w for w in before)
    assert any("KOR is in Japan's Group A" in w for w in before)
    july = _whats("2019-07-10")
    assert any("individual licence" in w for w in july)
    assert any("KOR is in Japan's Group A" in w for w in july)  # removal came 2019-08-28
    sept = _whats("2019-09-01")
    assert any("KOR is NOT in Japan's Group A" in w for w in sept)
    assert any("individual licence" in w for w in sept)
    spring23 = _whats("2023-05-01")  # materials lifted 2023-03-23, Group A from 2023-07-21
    assert not any("individual licence" in w for w in spring23)
    assert any("NOT in Japan's Group A" in w for w in spring23)
    assert any("KOR is in Japan's Group A" in w for w in _whats("2023-08-01"))
    for a in what_applied("JPN", "KOR", "281111", dt.date(2019, 9, 1)):
        assert a.sources and all(s.startswith("http") for s in a.sources)


def test_gallium_controls_apply_to_every_destination() -> None:
    got = what_applied("CHN", "JPN", "811292", dt.date(2023, 9, 1))
    assert any("chn-gallium-germanium-2023" in a.what for a in got)
    assert what_applied("CHN", "JPN", "811292", dt.date(2023, 7, 15)) == []


def test_list_changes_in_order() -> None:
    changes = changes_between(dt.date(2019, 1, 1), dt.date(2023, 12, 31))
    days = [c.day for c in changes]
    assert days == sorted(days)
    assert dt.date(2019, 8, 28) in days and dt.date(2023, 7, 21) in days
    assert dt.date(2023, 8, 1) in days


def test_unknown_item_and_nation_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ControlsQueryError):
        what_applied("JPN", "KOR", "999999", dt.date(2020, 1, 1))
    assert main(["supply", "controls", "--from", "JPN", "--to", "KOR", "--item", "999999",
                 "--date", "2020-01-01"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "999999" in err


def test_series_keep_published_figures_and_flag_simulated_months() -> None:
    spec = shipped_series()["jpn-exports-kor-hydrogen-fluoride"]
    a, b = build(spec, 3), build(spec, 3)
    assert a == b  # deterministic
    published = {p.month: p.value for p in spec.published}
    for month, value, flag in zip(a.months, a.values, a.published, strict=True):
        assert flag == (month in published)
        if flag:
            assert value == published[month]
    assert build(spec, 4).values != a.values  # the simulated months do vary with the seed
    assert a.available_on(a.months.index("2019-07")) == dt.date(2019, 8, 29)


def test_detector_alarms_on_a_planted_collapse_and_not_on_noise() -> None:
    rng = np.random.default_rng(5)
    flat = np.exp(math.log(1000) + rng.normal(0, 0.1, 36))
    d = ShockDetector()
    assert not any(d.update(float(v)) for v in flat)
    broken = flat.copy()
    broken[24:] *= 0.2
    d = ShockDetector()
    alarms = [k for k, v in enumerate(broken) if d.update(float(v))]
    assert alarms and 24 <= alarms[0] <= 26


@pytest.mark.parametrize("name", ["2019-fluorine", "2023-gallium"])
def test_sharing_is_never_later_than_alone(name: str) -> None:
    replay = load_replay(name)
    for seed in range(20):
        r = run_once(replay, seed)
        for n in replay.nations:
            assert r.warn_day["2024-01-01"][n] <= r.warn_day["record"][n] \
                <= r.warn_day["alone"][n]


def test_replay_report_has_intervals_and_says_what_is_simulated(
        capsys: pytest.CaptureFixture[str]) -> None:
    doc = compare_replay("2019-fluorine", runs=20)
    kor = doc["nations"]["KOR"]  # type: ignore[index]
    # No EWS in 2019: the record shares nothing; today's agreements would have.
    assert kor["record_minus_alone"]["mean"] == 0.0
    assert kor["2024-01-01_minus_alone"]["ci_high"] < 0
    assert kor["watch_day"] == -3.0  # the 2019-07-01 announcement, before 07-04
    assert "simulated" in doc["simulated"]["note"]  # type: ignore[index]
    assert main(["supply", "replay", "2023-gallium", "--runs", "10", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["nations"]) == {"USA", "JPN", "KOR"}


def test_replay_report_page(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert main(["supply", "replay", "2019-fluorine", "--runs", "5", "--out",
                 str(tmp_path)]) == 0
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Partly simulated" in html and "SIMULATED" in html  # hollow-dot tooltips
    assert "KOR removed from Japan" in html and "<script" not in html
    assert json.loads((tmp_path / "replay.json").read_text())["runs"] == 5

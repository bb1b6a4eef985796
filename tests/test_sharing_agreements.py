"""The agreement registry: shipped record, status histories, regimes, bad files."""

from __future__ import annotations

import csv
import datetime as dt
import textwrap
from importlib import resources
from pathlib import Path

import pytest

from trilink.sharing import (
    AgreementInvalidError,
    DataKind,
    EventKind,
    Releasability,
    load_agreements,
    load_regime,
    parse_agreement,
    regime_agreements,
    shipped_agreements_dir,
    shipped_regimes,
)

KST = dt.timezone(dt.timedelta(hours=9))
SHIPPED = {
    "camp-david-2023",
    "gsomia",
    "supply-chain-ews-2023",
    "tisa",
    "trilateral-realtime-2023",
    "us-jpn-alliance",
    "us-rok-alliance",
}
REGIMES = {
    "national-only",
    "bilateral-us",
    "tisa-relay",
    "gsomia-direct",
    "trilateral-realtime",
    "trilateral-realtime-aus",
    "historical",
    "gsomia-terminated-2019",
}


def _by_id() -> dict[str, object]:
    return {a.id: a for a in load_agreements()}


def test_shipped_record_loads() -> None:
    agreements = load_agreements()
    assert {a.id for a in agreements} == SHIPPED
    assert [a.id for a in agreements] == sorted(SHIPPED)
    assert not any(a.hypothetical for a in agreements)
    for a in agreements:
        assert a.sources, a.id
        assert a.latency_assumption, a.id


def test_shipped_files_are_package_data() -> None:
    folder = resources.files("trilink.data").joinpath("agreements")
    names = {f.name for f in folder.iterdir() if f.name.endswith(".yaml")}
    assert {f"{i}.yaml" for i in SHIPPED} == names
    assert folder.joinpath("examples").joinpath("aus-partner.yaml").is_file()
    assert resources.files("trilink.data").joinpath("sharing_reference.csv").is_file()
    assert set(shipped_regimes()) == REGIMES
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"data/**/*"' in pyproject  # subfolders of trilink/data ship as package data


def test_reference_copy_matches_shared_record() -> None:
    text = resources.files("trilink.data").joinpath("sharing_reference.csv").read_text("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert rows[0].keys() >= {"date", "event", "parties", "sources"}
    dates = {r["date"] for r in rows}
    # every source_row cited by a shipped agreement is a row of the reference table
    for a in load_agreements():
        for ev in a.events:
            if ev.source_row:
                assert ev.source_row in dates, (a.id, ev.source_row)


def test_tisa_is_a_relay_through_the_us() -> None:
    tisa = next(a for a in load_agreements() if a.id == "tisa")
    assert tisa.route.mode == "relay" and tisa.route.via == "USA"
    assert tisa.route.relay_delay_s > 0
    assert set(tisa.parties) == {"USA", "JPN", "KOR"}
    assert tisa.status_at(dt.datetime(2014, 12, 28, 12, tzinfo=dt.UTC)).in_force is False
    assert tisa.status_at(dt.datetime(2014, 12, 29, 0, tzinfo=KST)).in_force is True


def test_gsomia_2019_episode() -> None:
    gsomia = next(a for a in load_agreements() if a.id == "gsomia")
    ignore = frozenset({("gsomia", EventKind.NOTICE_SUSPENDED)})
    before_expiry = dt.datetime(2019, 11, 22, 23, 59, tzinfo=KST)
    expiry = dt.datetime(2019, 11, 23, 0, 0, tzinfo=KST)
    # the real record: in force throughout
    for t in (
        dt.datetime(2016, 11, 22, tzinfo=dt.UTC),
        before_expiry,
        expiry,
        dt.datetime(2019, 12, 1, tzinfo=dt.UTC),
        dt.datetime(2023, 6, 1, tzinfo=dt.UTC),
    ):
        status = gsomia.status_at(t)
        assert status.in_force is (t > dt.datetime(2016, 11, 23, tzinfo=dt.UTC)), t
    assert "suspended 2019-11-22 18:00 UTC+09:00" in gsomia.status_at(expiry).explanation
    # before the suspension, the notice is pending
    pending = gsomia.status_at(dt.datetime(2019, 11, 22, 12, tzinfo=KST))
    assert pending.in_force and "to take effect 2019-11-23 00:00 UTC+09:00" in pending.explanation
    # the counterfactual: had the notice not been suspended, GSOMIA ends at 00:00 KST
    assert gsomia.status_at(before_expiry, ignore).in_force is True
    assert gsomia.status_at(expiry, ignore).in_force is False
    later = gsomia.status_at(dt.datetime(2023, 6, 1, tzinfo=dt.UTC), ignore)
    assert later.in_force is False
    assert "terminated 2019-11-23 00:00 UTC+09:00" in later.explanation
    assert "counterfactual" in later.explanation


def _agreement(events: str, extra: str = "") -> str:
    return (
        textwrap.dedent(
            """\
        id: test
        name: Test
        parties: [USA, AUS]
        kinds: [missile_track]
        route: {mode: direct}
        latency_s: 1
        """
        )
        + textwrap.dedent(events)
        + textwrap.dedent(extra)
    )


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        # (event list, [(day, in force?)]) — days of 2020-01
        ("- {at: 2020-01-05, event: signed}\n", [(6, False)]),
        (
            "- {at: 2020-01-05, event: in_force}\n- {at: 2020-01-10, event: terminated}\n",
            [(4, False), (5, True), (9, True), (10, False), (20, False)],
        ),
        (
            "- {at: 2020-01-05, event: in_force}\n- {at: 2020-01-10, event: suspended}\n"
            "- {at: 2020-01-15, event: restored}\n",
            [(9, True), (12, False), (15, True)],
        ),
        (
            "- {at: 2020-01-05, event: in_force}\n"
            "- {at: 2020-01-06, event: notice_of_termination, effective: 2020-01-10}\n"
            "- {at: 2020-01-12, event: notice_withdrawn}\n",
            [(9, True), (10, False), (13, False)],
        ),
        (
            "- {at: 2020-01-05, event: in_force}\n- {at: 2020-01-10, event: terminated}\n"
            "- {at: 2020-01-15, event: restored}\n- {at: 2020-01-20, event: in_force}\n",
            [(16, False), (20, True)],
        ),
    ],
)
def test_status_histories(events: str, expected: list[tuple[int, bool]]) -> None:
    a = parse_agreement(_agreement("events:\n" + textwrap.indent(events, "  ")))
    for day, in_force in expected:
        assert a.status_at(dt.datetime(2020, 1, day, tzinfo=dt.UTC)).in_force is in_force, day


def test_regimes_load_and_resolve() -> None:
    for name in shipped_regimes():
        regime = load_regime(name)
        assert regime.id == name
        agreements = regime_agreements(regime)
        assert all(not a.hypothetical for a in agreements) or name == "trilateral-realtime-aus"
    assert regime_agreements(load_regime("national-only")) == ()
    aus = regime_agreements(load_regime("trilateral-realtime-aus"))
    assert any("AUS" in a.parties for a in aus)
    cf = load_regime("gsomia-terminated-2019")
    assert cf.as_of is None and cf.ignored() == {("gsomia", EventKind.NOTICE_SUSPENDED)}
    assert load_regime("trilateral-realtime").as_of == dt.datetime(2023, 12, 19, 12, tzinfo=dt.UTC)


def test_unknown_regime_is_one_clear_error() -> None:
    with pytest.raises(AgreementInvalidError) as err:
        load_regime("no-such-regime")
    assert "no shipped regime" in str(err.value) and "tisa-relay" in str(err.value)


# ----------------------------------------------------------------------- bad files

BAD_CASES = [
    # (file text, expected "LINE: field: problem" fragment)
    ("id: x\nname: X\nparties: [USA]\n", "3: parties: "),
    (
        _agreement("events:\n  - {at: 2020-01-05, event: in_force}\n", "colour: red\n"),
        "9: colour: Extra inputs are not permitted",
    ),
    (
        _agreement("events:\n  - {at: 2020-01-05, event: in_force}\n").replace(
            "missile_track", "gossip"
        ),
        "4: kinds.0: Input should be",
    ),
    (
        _agreement("events:\n  - {at: 2020-01-05, event: in_force}\n").replace("AUS", "Aus"),
        "3: parties: nation 'Aus' is not an ISO 3166-1 alpha-3 code",
    ),
    (
        _agreement("events:\n  - {at: '2020-01-05T00:00:00', event: in_force}\n"),
        "8: events.0.at: time must carry a UTC offset",
    ),
    (
        _agreement(
            "events:\n  - {at: 2020-01-05, event: in_force}\n"
            "  - {at: 2020-01-01, event: terminated}\n"
        ),
        "8: events: events must be in chronological order",
    ),
    (
        _agreement("events:\n  - {at: 2020-01-05, event: notice_of_termination}\n"),
        "8: events.0: a notice_of_termination needs `effective`",
    ),
    (
        _agreement("events:\n  - {at: 2020-01-05, event: in_force}\n").replace(
            "route: {mode: direct}", "route:\n  mode: relay\n  via: KOR"
        ),
        "(file): route.via KOR is not one of the parties",
    ),
    (_agreement("events: []\n"), "7: events: Tuple should have at least 1 item"),
    ("id: [unclosed\n", "2: yaml: "),
    ("- just\n- a list\n", "1: (file): expected a YAML mapping"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_CASES)
def test_bad_files_give_file_line_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AgreementInvalidError) as err:
        load_agreements([path])
    lines = str(err.value).splitlines()
    assert all(line.startswith(f"{path}:") for line in lines), lines
    assert any(line.startswith(f"{path}:") and expected in line for line in lines), lines
    assert "Traceback" not in str(err.value)


def test_duplicate_id_is_reported_at_its_line(tmp_path: Path) -> None:
    src = shipped_agreements_dir() / "gsomia.yaml"
    dup = tmp_path / "gsomia-copy.yaml"
    dup.write_text("# a copy\n" + src.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(AgreementInvalidError) as err:
        load_agreements([shipped_agreements_dir(), dup])
    line = src.read_text(encoding="utf-8").splitlines().index("id: gsomia") + 2
    assert str(err.value) == (f"{dup}:{line}: id: agreement id 'gsomia' is also used by {src}")


def test_every_error_of_a_file_is_listed(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text(
        _agreement("events:\n  - {at: 2020-01-05, event: in_force}\n")
        .replace("latency_s: 1", "latency_s: -1")
        .replace("name: Test", "name: ''"),
        encoding="utf-8",
    )
    with pytest.raises(AgreementInvalidError) as err:
        load_agreements([path])
    assert [f"{e.line}: {e.field}" for e in err.value.errors] == ["2: name", "6: latency_s"]


# ----------------------------------------------------------------------- releasability


def test_releasability_marking() -> None:
    rel = Releasability.of("JPN", "KOR", "USA")
    assert rel.marking == "REL TO USA, JPN, KOR" == str(rel)
    assert Releasability.of("KOR").marking == "REL TO KOR"  # the originator is always on it
    assert Releasability.parse("rel to jpn ,usa", originator="JPN") == Releasability.of(
        "JPN", "USA"
    )
    assert Releasability.of("AUS", "USA", "GBR").marking == "REL TO USA, AUS, GBR"
    assert not Releasability.of("JPN", "USA").allows("KOR")
    with pytest.raises(ValueError, match="alpha-3"):
        Releasability.of("JPN", "Korea")
    with pytest.raises(ValueError, match="REL TO"):
        Releasability.parse("NOFORN", originator="USA")


def test_kinds_enum() -> None:
    assert {k.value for k in DataKind} >= {
        "missile_track",
        "missile_warning",
        "launch_report",
        "hotline",
        "cyber_indicator",
        "statement",
    }

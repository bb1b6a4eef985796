"""The policy engine: historical routes, originator control, receiver checks, properties."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trilink.sharing import (
    Agreement,
    DataKind,
    Denied,
    Direct,
    EventKind,
    Policy,
    Relay,
    Releasability,
    RouteSpec,
    StatusEvent,
    load_agreements,
    load_regime,
    policy_for,
    shipped_agreements_dir,
    shipped_regimes,
)
from trilink.sharing.policy import CARRIED_KINDS

UTC = dt.UTC
KST = dt.timezone(dt.timedelta(hours=9))
ALL3 = frozenset({"USA", "JPN", "KOR"})
TRACK = DataKind.MISSILE_TRACK


def at(day: str, hour: int = 3) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.fixture(scope="module")
def record() -> Policy:
    return Policy.historical()


@pytest.fixture(scope="module")
def counterfactual() -> Policy:
    return Policy.for_regime("gsomia-terminated-2019")


# ----------------------------------------------------------------------- the record


def test_2015_tisa_relay_through_the_us(record: Policy) -> None:
    route = record.route("JPN", "KOR", TRACK, at("2015-06-01"), ALL3, "JPN")
    assert isinstance(route, Relay)
    assert route.via == "USA" and route.agreement_ids == ("tisa",)
    assert route.relay_delay_s == 3600 and route.latency_s == 2 * 900 + 3600
    assert "TISA" in route.reason and "2014-12-29" in route.reason
    back = record.route("KOR", "JPN", TRACK, at("2015-06-01"), ALL3, "KOR")
    assert isinstance(back, Relay) and back.via == "USA"


def test_before_tisa_japan_and_korea_do_not_share(record: Policy) -> None:
    route = record.route("JPN", "KOR", TRACK, at("2014-06-01"), ALL3, "JPN")
    assert isinstance(route, Denied)
    assert "tisa" in route.reason and "not yet in force" in route.reason


def test_2017_gsomia_direct(record: Policy) -> None:
    route = record.route("JPN", "KOR", TRACK, at("2017-01-01"), ALL3, "JPN")
    assert route == Direct(1800, ("gsomia",), route.reason)
    assert "2016-11-23" in route.reason


def test_2019_suspension_kept_gsomia(record: Policy, counterfactual: Policy) -> None:
    t = at("2019-12-01")
    real = record.route("JPN", "KOR", TRACK, t, ALL3, "JPN")
    assert isinstance(real, Direct) and real.agreement_ids == ("gsomia",)
    assert "suspended 2019-11-22" in real.reason
    # had the notice not been suspended: no direct route, only the TISA relay ...
    cf = counterfactual.route("JPN", "KOR", TRACK, t, ALL3, "JPN")
    assert isinstance(cf, Relay) and cf.via == "USA" and cf.agreement_ids == ("tisa",)
    assert "terminated 2019-11-23 00:00 UTC+09:00" in cf.reason
    # ... and nothing at all for an item Japan did not release to the US
    jk = frozenset({"JPN", "KOR"})
    assert isinstance(record.route("JPN", "KOR", TRACK, t, jk, "JPN"), Direct)
    denied = counterfactual.route("JPN", "KOR", TRACK, t, jk, "JPN")
    assert isinstance(denied, Denied)
    assert "did not release it to USA" in denied.reason and "gsomia" in denied.reason


def test_the_counterfactual_switches_at_the_termination_instant(counterfactual: Policy) -> None:
    before = dt.datetime(2019, 11, 22, 23, 59, tzinfo=KST)
    after = dt.datetime(2019, 11, 23, 0, 0, tzinfo=KST)
    assert isinstance(counterfactual.route("JPN", "KOR", TRACK, before, ALL3, "JPN"), Direct)
    assert isinstance(counterfactual.route("JPN", "KOR", TRACK, after, ALL3, "JPN"), Relay)


def test_2023_gsomia_not_real_time_then_real_time_trilateral(record: Policy) -> None:
    june = record.route("JPN", "KOR", TRACK, at("2023-06-01"), ALL3, "JPN")
    assert isinstance(june, Direct) and june.agreement_ids == ("gsomia",)
    assert june.latency_s >= 600
    new_year = record.route("JPN", "KOR", TRACK, at("2024-01-01"), ALL3, "JPN")
    assert isinstance(new_year, Direct)
    assert new_year.agreement_ids == ("trilateral-realtime-2023",)
    assert new_year.latency_s <= 10
    eve = dt.datetime(2023, 12, 18, 23, 59, tzinfo=KST)
    last_day = record.route("KOR", "JPN", TRACK, eve, ALL3, "KOR")
    assert isinstance(last_day, Direct) and last_day.agreement_ids == ("gsomia",)


@pytest.mark.parametrize("year", range(1995, 2027, 2))
@pytest.mark.parametrize("ally", ["JPN", "KOR"])
def test_us_links_are_always_direct(record: Policy, year: int, ally: str) -> None:
    t = at(f"{year}-07-01")
    for a, b in ((ally, "USA"), ("USA", ally)):
        for kind in (TRACK, DataKind.MISSILE_WARNING, DataKind.LAUNCH_REPORT):
            route = record.route(a, b, kind, t, ALL3, a)
            assert isinstance(route, Direct), (a, b, kind, route)
            assert route.latency_s <= 10


def test_hotline_is_trilateral_only_after_camp_david(record: Policy) -> None:
    kind = DataKind.HOTLINE
    assert isinstance(record.route("JPN", "KOR", kind, at("2023-08-01"), ALL3, "JPN"), Denied)
    route = record.route("JPN", "KOR", kind, at("2023-09-01"), ALL3, "JPN")
    assert isinstance(route, Direct) and route.agreement_ids == ("camp-david-2023",)


def test_named_regimes(record: Policy) -> None:
    t = at("2010-01-01")  # a regime fixes its own date: the event time does not matter
    expect = {
        "national-only": (Denied, Denied),
        "bilateral-us": (Direct, Denied),
        "tisa-relay": (Direct, Relay),
        "gsomia-direct": (Direct, Direct),
        "trilateral-realtime": (Direct, Direct),
        "trilateral-realtime-aus": (Direct, Direct),
    }
    for name, (us_jpn, jpn_kor) in expect.items():
        policy = Policy.for_regime(name)
        assert isinstance(policy.route("USA", "JPN", TRACK, t, ALL3, "USA"), us_jpn), name
        assert isinstance(policy.route("JPN", "KOR", TRACK, t, ALL3, "JPN"), jpn_kor), name
    rt = Policy.for_regime("trilateral-realtime").route("JPN", "KOR", TRACK, t, ALL3, "JPN")
    assert isinstance(rt, Direct) and rt.latency_s == 5
    assert rt.agreement_ids == ("trilateral-realtime-2023",)
    aus = Policy.for_regime("trilateral-realtime-aus")
    rel = frozenset({"JPN", "AUS"})
    assert isinstance(aus.route("JPN", "AUS", TRACK, t, rel, "JPN"), Direct)
    assert isinstance(
        Policy.for_regime("trilateral-realtime").route("JPN", "AUS", TRACK, t, rel, "JPN"), Denied
    )


def test_relay_delay_is_a_parameter() -> None:
    regime = load_regime("tisa-relay").model_copy(update={"relay_delay_s": 120.0})
    route = Policy.for_regime(regime).route("KOR", "JPN", TRACK, at("2030-01-01"), ALL3, "KOR")
    assert isinstance(route, Relay) and route.relay_delay_s == 120
    assert route.latency_s == 2 * 900 + 120


def test_scenario_date_or_regime() -> None:
    by_date = policy_for(date=dt.date(2019, 12, 1))
    assert isinstance(by_date.route("JPN", "KOR", TRACK, at("2030-01-01"), ALL3, "JPN"), Direct)
    by_date = policy_for(date=dt.date(2015, 6, 1))
    assert isinstance(by_date.route("JPN", "KOR", TRACK, at("2030-01-01"), ALL3, "JPN"), Relay)
    by_regime = policy_for(regime="tisa-relay")
    assert isinstance(by_regime.route("JPN", "KOR", TRACK, at("2030-01-01"), ALL3, "JPN"), Relay)
    both = policy_for(regime="gsomia-direct", date=dt.date(2015, 6, 1))
    assert isinstance(both.route("JPN", "KOR", TRACK, at("2030-01-01"), ALL3, "JPN"), Relay)
    live = policy_for()
    assert isinstance(live.route("JPN", "KOR", TRACK, at("2030-01-01"), ALL3, "JPN"), Direct)


# ----------------------------------------------------------------------- originator control


def _dates() -> list[dt.datetime]:
    return [at("2013-01-01") + dt.timedelta(days=45 * i) for i in range(12 * 8 + 10)]


def test_a_japan_only_item_never_reaches_korea() -> None:
    """REL TO USA, JPN: under every regime and date, from every holder, KOR is never a
    recipient nor a relay, and KOR's second check rejects it."""
    policies = [Policy.for_regime(name) for name in shipped_regimes()]
    policies.append(Policy.historical())
    rel = frozenset({"USA", "JPN"})
    for policy, t, kind in itertools.product(policies, _dates()[::3], DataKind):
        for sender in ("JPN", "USA"):
            route = policy.route(sender, "KOR", kind, t, rel, "JPN")
            assert isinstance(route, Denied), (policy.name, t, kind, route)
            assert "no agreement overrides" in route.reason
            check = policy.may_receive("KOR", sender, kind, t, rel, "JPN")
            assert not check.allowed and "REL TO USA, JPN" in check.reason
            for other in ("USA", "JPN", "AUS"):
                r = policy.route(sender, other, kind, t, rel, "JPN")
                assert not (isinstance(r, Relay) and r.via == "KOR")


def test_receiver_second_check(record: Policy) -> None:
    t15, t24 = at("2015-06-01"), at("2024-01-01")
    # under TISA, Korea accepts Japan's item only from the US hub
    assert record.may_receive("KOR", "USA", TRACK, t15, ALL3, "JPN").allowed
    direct = record.may_receive("KOR", "JPN", TRACK, t15, ALL3, "JPN")
    assert not direct.allowed and "through USA" in direct.reason
    # the US hub accepts it for relay to Korea, but only if Korea is on the list
    hub = record.may_receive("USA", "JPN", TRACK, t15, ALL3, "JPN", final_recipient="KOR")
    assert hub.allowed and "relay" in hub.reason
    jus = frozenset({"USA", "JPN"})
    assert not record.may_receive("USA", "JPN", TRACK, t15, jus, "JPN", final_recipient="KOR")[0]
    # with a direct route, nobody relays
    assert not record.may_receive("USA", "JPN", TRACK, t24, ALL3, "JPN", final_recipient="KOR")[0]
    allowed, reason = record.may_receive("KOR", "JPN", TRACK, t24, ALL3, "JPN")
    assert allowed and reason.startswith("accepted")


def test_sender_filter(record: Policy) -> None:
    routes = record.routes_from(
        "JPN", ["USA", "KOR", "JPN", "AUS"], TRACK, at("2015-06-01"), Releasability.of("JPN", "USA")
    )
    assert list(routes) == ["AUS", "KOR", "USA"]
    assert isinstance(routes["USA"], Direct)
    assert isinstance(routes["KOR"], Denied) and isinstance(routes["AUS"], Denied)


def test_bad_arguments(record: Policy) -> None:
    with pytest.raises(ValueError, match="timezone"):
        record.route("JPN", "KOR", TRACK, dt.datetime(2020, 1, 1), ALL3, "JPN")
    with pytest.raises(ValueError):
        record.route("JPN", "KOR", "gossip", at("2020-01-01"), ALL3, "JPN")
    assert isinstance(record.route("JPN", "JPN", TRACK, at("2020-01-01"), ALL3, "JPN"), Denied)


# ----------------------------------------------------------------------- a new partner is data

AUS_FILE = """\
id: us-aus-missile-warning
name: US–Australia missile-warning sharing (test)
parties: [USA, AUS, JPN]
kinds: [missile_track, missile_warning]
route:
  mode: relay
  via: USA
  relay_delay_s: 30
latency_s: 2
events:
  - at: 2025-01-01T00:00:00+10:00
    event: in_force
sources: [test]
"""


def test_adding_australia_is_a_data_file(tmp_path: Path) -> None:
    path = tmp_path / "aus.yaml"
    path.write_text(AUS_FILE, encoding="utf-8")
    policy = Policy(load_agreements([shipped_agreements_dir(), path]))
    rel = frozenset({"USA", "JPN", "KOR", "AUS"})
    before, after = at("2024-06-01"), at("2025-06-01")
    assert isinstance(policy.route("USA", "AUS", TRACK, before, rel, "USA"), Denied)
    direct = policy.route("USA", "AUS", TRACK, after, rel, "USA")
    assert isinstance(direct, Direct) and direct.agreement_ids == ("us-aus-missile-warning",)
    relay = policy.route("JPN", "AUS", TRACK, after, rel, "JPN")
    assert isinstance(relay, Relay) and relay.via == "USA" and relay.latency_s == 34
    assert isinstance(policy.route("KOR", "AUS", TRACK, after, rel, "KOR"), Denied)
    assert isinstance(policy.route("USA", "AUS", DataKind.HOTLINE, after, rel, "USA"), Denied)
    # originator control holds for the newcomer too
    assert isinstance(policy.route("USA", "AUS", TRACK, after, ALL3, "USA"), Denied)
    # a regime file naming it works the same way
    regime = tmp_path / "with-aus.yaml"
    regime.write_text(
        textwrap.dedent(
            """\
            id: with-aus
            name: With Australia
            agreements: [us-jpn-alliance, us-aus-missile-warning]
            as_of: 2025-06-01
            """
        ),
        encoding="utf-8",
    )
    folder = tmp_path / "agreements"
    folder.mkdir()
    for src in shipped_agreements_dir().glob("*.yaml"):
        (folder / src.name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "aus.yaml").write_text(AUS_FILE, encoding="utf-8")
    p2 = Policy.for_regime(regime, agreements_dir=folder)
    assert isinstance(p2.route("JPN", "AUS", TRACK, at("2000-01-01"), rel, "JPN"), Relay)
    assert isinstance(p2.route("JPN", "KOR", TRACK, at("2000-01-01"), rel, "JPN"), Denied)


# ----------------------------------------------------------------------- properties

NATIONS = ("USA", "JPN", "KOR", "AUS", "GBR")
EPOCH = dt.datetime(2010, 1, 1, tzinfo=UTC)
MOVES = [e for e in EventKind if e is not EventKind.NOTICE_OF_TERMINATION]


@st.composite
def agreements_st(draw: st.DrawFn, index: int) -> Agreement:
    parties = draw(st.lists(st.sampled_from(NATIONS), min_size=2, max_size=5, unique=True))
    kinds = draw(st.lists(st.sampled_from(list(DataKind)), min_size=1, max_size=3, unique=True))
    relay = len(parties) >= 3 and draw(st.booleans())
    route = (
        RouteSpec(
            mode="relay",
            via=draw(st.sampled_from(parties)),
            relay_delay_s=draw(st.integers(0, 7200)),
        )
        if relay
        else RouteSpec(mode="direct")
    )
    days = sorted(draw(st.lists(st.integers(0, 5000), min_size=1, max_size=5)))
    events = []
    for i, day in enumerate(days):
        kind = EventKind.IN_FORCE if i == 0 else draw(st.sampled_from(list(EventKind)))
        when = EPOCH + dt.timedelta(days=day)
        if kind is EventKind.NOTICE_OF_TERMINATION:
            eff = when + dt.timedelta(days=draw(st.integers(1, 400)))
            events.append(StatusEvent(at=when, event=kind, effective=eff))
        else:
            events.append(StatusEvent(at=when, event=kind))
    return Agreement(
        id=f"a{index}",
        name=f"Agreement {index}",
        parties=tuple(parties),
        kinds=tuple(kinds),
        route=route,
        latency_s=draw(st.integers(0, 3600)),
        events=tuple(events),
    )


World = tuple[list[Agreement], dt.datetime, str, str, DataKind, frozenset[str], str]


@st.composite
def worlds(
    draw: st.DrawFn,
) -> World:
    n = draw(st.integers(0, 5))
    agreements = [draw(agreements_st(i)) for i in range(n)]
    t = EPOCH + dt.timedelta(days=draw(st.integers(0, 5600)), hours=draw(st.integers(0, 23)))
    sender, recipient = draw(
        st.lists(st.sampled_from(NATIONS), min_size=2, max_size=2, unique=True)
    )
    kind = draw(st.sampled_from(list(DataKind)))
    rel = frozenset(draw(st.lists(st.sampled_from(NATIONS), max_size=5, unique=True)))
    originator = draw(st.sampled_from(sorted(rel | {sender})))
    return agreements, t, sender, recipient, kind, rel, originator


def _oracle(
    agreements: list[Agreement],
    t: dt.datetime,
    x: str,
    y: str,
    kind: DataKind,
    rel: frozenset[str],
    originator: str,
) -> tuple[set[str], set[tuple[str, str]]]:
    """Every agreement allowing a direct hop, and every (agreement, via) allowing a relay.

    Another nation's data moves only under an agreement its originator is party to
    (no chaining); hotline and statement posts may be carried."""
    direct: set[str] = set()
    relay: set[tuple[str, str]] = set()
    if y not in rel or x not in rel:
        return direct, relay
    for a in agreements:
        if kind not in a.kinds or x not in a.parties or y not in a.parties:
            continue
        if not a.status_at(t).in_force:
            continue
        if originator not in a.parties and kind not in CARRIED_KINDS:
            continue
        if a.route.mode == "direct" or a.route.via in (x, y):
            direct.add(a.id)
        elif a.route.via in rel:
            relay.add((a.id, str(a.route.via)))
    return direct, relay


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(worlds())
def test_property_sound_and_complete(world: World) -> None:
    agreements, t, x, y, kind, rel, originator = world
    policy = Policy(agreements)
    route = policy.route(x, y, kind, t, rel, originator)
    full_rel = rel | {originator}
    direct, relay = _oracle(agreements, t, x, y, kind, full_rel, originator)
    # (1) soundness: never outside REL TO, never through a nation outside it, and only
    # under an agreement in force covering the kind and the nations
    if not isinstance(route, Denied):
        assert y in full_rel and x in full_rel
    if isinstance(route, Direct):
        assert route.agreement_ids[0] in direct
        best = min(a.latency_s for a in agreements if a.id in direct)
        assert route.latency_s == best
    if isinstance(route, Relay):
        assert route.via in full_rel and route.via not in (x, y)
        assert (route.agreement_ids[0], route.via) in relay
        assert not direct  # direct is preferred
    # (2) completeness: whatever may be delivered is delivered
    if direct:
        assert isinstance(route, Direct)
    elif relay:
        assert isinstance(route, Relay)
    else:
        assert isinstance(route, Denied)
    # the receiver's second check agrees with the sender's filter
    if isinstance(route, Direct):
        assert policy.may_receive(y, x, kind, t, rel, originator).allowed
    if isinstance(route, Relay):
        assert policy.may_receive(route.via, x, kind, t, rel, originator, y).allowed
        assert not policy.may_receive(y, x, kind, t, rel, originator).allowed
    if y not in full_rel:
        assert not policy.may_receive(y, x, kind, t, rel, originator).allowed


@PROPERTY
@given(worlds(), st.randoms(use_true_random=False))
def test_property_deterministic(world: World, rnd: random.Random) -> None:
    agreements, t, x, y, kind, rel, originator = world
    first = Policy(agreements).route(x, y, kind, t, rel, originator)
    shuffled = list(agreements)
    rnd.shuffle(shuffled)
    assert Policy(shuffled).route(x, y, kind, t, rel, originator) == first
    assert Policy(agreements).route(x, y, kind, t, set(rel), originator) == first


@PROPERTY
@given(
    st.integers(0, 1000),
    st.integers(1, 1000),
    st.one_of(st.none(), st.integers(-200, 1200)),
    st.one_of(st.none(), st.integers(-200, 1200)),
    st.integers(-100, 2500),
)
def test_property_status_oracle(
    start: int, notice_after: int, suspend: int | None, end: int | None, day: int
) -> None:
    """In force iff started, not terminated, and no unsuspended notice has taken effect."""

    def d(n: int) -> dt.datetime:
        return EPOCH + dt.timedelta(days=n)

    notice_at = start + notice_after
    effective = notice_at + 90
    events = [(start, EventKind.IN_FORCE), (notice_at, EventKind.NOTICE_OF_TERMINATION)]
    if suspend is not None and suspend > notice_at:
        events.append((suspend, EventKind.NOTICE_SUSPENDED))
    if end is not None and end > start:
        events.append((end, EventKind.TERMINATED))
    events.sort(key=lambda e: e[0])
    a = Agreement(
        id="x",
        name="X",
        parties=("USA", "JPN"),
        kinds=(TRACK,),
        route=RouteSpec(mode="direct"),
        latency_s=1,
        events=tuple(
            StatusEvent(
                at=d(n),
                event=k,
                effective=d(effective) if k is EventKind.NOTICE_OF_TERMINATION else None,
            )
            for n, k in events
        ),
    )
    t = d(day)
    term = end if end is not None and end > start else None  # a terminated event, if any
    suspended_in_time = suspend is not None and notice_at < suspend < effective
    if term is not None and term <= notice_at:
        expected = cf_expected = start <= day < term  # terminated before the notice
    else:
        ends = [x for x in (term, effective) if x is not None]
        cf_expected = start <= day < min(ends)
        # the suspension counts only if it came before the agreement ended otherwise
        if suspended_in_time and (term is None or term > (suspend or 0)):
            ends = [x for x in (term,) if x is not None]
        expected = start <= day and all(day < x for x in ends)
    assert a.status_at(t).in_force is expected
    ignore = frozenset({("x", EventKind.NOTICE_SUSPENDED)})
    assert a.status_at(t, ignore).in_force is cf_expected

"""TLP and the agreements combine, the stricter winning; nothing reaches a nation it was not
released to, including a nation that joins the group later (MISP issue 1721)."""

from __future__ import annotations

import datetime as dt
import heapq
import json
from typing import Any

from cyber_helpers import EPOCH, indicator, sighting
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trilink.cyber.book import CyberBook, ObjectsStored, Refused
from trilink.cyber.groups import Membership, SharingGroup
from trilink.cyber.regimes import cyber_policy
from trilink.cyber.rules import cyber_route, receiver_check
from trilink.cyber.tlp import Tlp
from trilink.sharing.agreements import load_agreements, shipped_agreements_dir
from trilink.sharing.policy import Denied, Direct, Policy, Relay

NATIONS = ("USA", "JPN", "KOR", "AUS")
TRI = frozenset({"USA", "JPN", "KOR"})
AUS_JOINS = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def _aus_policy() -> Policy:
    folder = shipped_agreements_dir()
    files = [folder, *sorted((folder / "cyber").glob("*.yaml"))]
    return Policy(load_agreements(files), name="cyber-with-aus-later")


POLICIES = {"bilateral": cyber_policy("cyber-bilateral-2023"),
            "trilateral": cyber_policy("cyber-trilateral-2024"), "aus": _aus_policy()}
GROUP = SharingGroup.of("dprk-cyber-wg", [
    *(Membership(n, dt.datetime(2023, 12, 7, tzinfo=dt.UTC)) for n in sorted(TRI)),
    Membership("AUS", AUS_JOINS)])

nations = st.sampled_from(NATIONS)
levels = st.sampled_from(list(Tlp))


@given(st.sampled_from(sorted(POLICIES)), nations, nations, nations,
       st.sets(nations, max_size=4), levels, st.integers(0, 40 * 86400))
@settings(max_examples=300, deadline=None)
def test_tlp_only_narrows_the_agreements(regime: str, sender: str, recipient: str,
                                         originator: str, rel: set[str], tlp: Tlp,
                                         dt_s: int) -> None:
    policy = POLICIES[regime]
    t = EPOCH + dt.timedelta(seconds=dt_s)
    rel_to = frozenset(rel) | {originator}
    if sender == recipient or sender not in rel_to:
        return
    route = cyber_route(policy, sender, recipient, t, tlp, rel_to, originator)
    plain = policy.route(sender, recipient, "cyber_indicator", t, rel_to, originator)
    if not isinstance(route, Denied):
        assert recipient in rel_to
        assert not isinstance(plain, Denied)  # never more than the agreements allow
        assert tlp is not Tlp.RED
        if tlp >= Tlp.AMBER:
            assert isinstance(route, Direct) and sender == originator
    if isinstance(plain, Denied):
        assert isinstance(route, Denied)


def test_receiver_refuses_amber_that_came_through_a_relay() -> None:
    policy = POLICIES["trilateral"]
    v = receiver_check(policy, "KOR", "USA", "JPN", ("USA",), EPOCH, Tlp.AMBER, TRI)
    assert not v.allowed and "relay" in v.reason
    v = receiver_check(policy, "KOR", "JPN", "JPN", (), EPOCH, Tlp.RED, TRI)
    assert not v.allowed and "TLP:RED" in v.reason
    v = receiver_check(policy, "KOR", "USA", "JPN", (), EPOCH, Tlp.AMBER_STRICT, TRI)
    assert not v.allowed and "passed on" in v.reason
    assert receiver_check(policy, "KOR", "JPN", "JPN", (), EPOCH, Tlp.AMBER, TRI).allowed
    # JPN-KOR had no cyber channel in mid-2023: refused at the receiver too
    v = receiver_check(POLICIES["bilateral"], "KOR", "JPN", "JPN", (), EPOCH, Tlp.GREEN, TRI)
    assert not v.allowed


def test_group_release_is_frozen_at_the_release_instant() -> None:
    before = AUS_JOINS - dt.timedelta(seconds=1)
    assert GROUP.release("JPN", before) == TRI
    assert GROUP.release("JPN", AUS_JOINS) == TRI | {"AUS"}


publication = st.tuples(st.sampled_from(("USA", "JPN", "KOR")), levels,
                        st.integers(0, 20 * 86400), st.booleans(),
                        st.sets(nations, max_size=3))


@given(st.sampled_from(sorted(POLICIES)), st.lists(publication, min_size=1, max_size=12))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_no_object_ever_reaches_a_nation_it_is_not_released_to(
        regime: str, pubs: list[tuple[str, Tlp, int, bool, set[str]]]) -> None:
    policy = POLICIES[regime]
    start = AUS_JOINS - dt.timedelta(days=10)  # AUS joins ten days into the run
    books = {n: CyberBook(n, NATIONS, policy, start) for n in NATIONS}
    released: dict[str, tuple[frozenset[str], float, bool]] = {}
    queue: list[tuple[float, int, str, bytes, str, tuple[str, ...], tuple[str, ...]]] = []
    order = 0
    for k, (origin, tlp, t_s, to_group, extra) in enumerate(sorted(pubs, key=lambda p: p[2])):
        t = start + dt.timedelta(seconds=t_s)
        rel = GROUP.release(origin, t) if to_group else frozenset(extra) | {origin}
        obj = indicator(k, origin, tlp)
        released[obj["id"]] = (rel, float(t_s), to_group)
        out = books[origin].publish([obj], rel, float(t_s))
        for share in out.shares:
            route = policy.route(origin, share.to, "cyber_indicator", t, share.rel_to, origin)
            assert not isinstance(route, Denied)
            via = (route.via,) if isinstance(route, Relay) else ()
            heapq.heappush(queue, (t_s + route.latency_s, order, share.to, share.payload,
                                   origin, via, share.rel_to))
            order += 1
    while queue:
        t_s, _, to, payload, origin, via, rel_to = heapq.heappop(queue)
        books[to].receive(payload, originator=origin, sender=via[-1] if via else origin,
                          via=via, rel_to=rel_to, now_s=t_s)
    for n, book in books.items():
        for item in book.store.items:
            if item.obj["type"] != "indicator":
                continue
            rel, t_rel, to_group = released[item.id]
            assert n in rel, (n, item.id)
            if n == "AUS" and to_group:  # never the group's back catalogue (MISP #1721)
                assert start + dt.timedelta(seconds=t_rel) >= AUS_JOINS
            assert item.tlp is not Tlp.RED or n == item.originator
            end = start + dt.timedelta(days=30)  # after AUS joined: may it pull now?
            for reader in NATIONS:
                if book.visible(item, reader, end) and reader != n:
                    assert reader in rel or reader == item.originator
                    if reader == "AUS" and to_group:
                        assert start + dt.timedelta(seconds=t_rel) >= AUS_JOINS


def _book(nation: str, regime: str = "trilateral") -> CyberBook:
    return CyberBook(nation, ("USA", "JPN", "KOR"), POLICIES[regime], EPOCH)


def test_hostile_payloads_are_refused_with_a_reason_and_never_break_the_book() -> None:
    kor = _book("KOR")
    bad_inputs: list[Any] = [
        b"\xff\xfe not json", b"[]", json.dumps({"type": "bundle", "objects": "x"}).encode(),
        json.dumps({"type": "bundle", "id": "bundle--1", "objects": [
            {"type": "indicator", "id": "indicator--nope", "pattern": "[oops"},
            {"type": "bundle", "objects": []}, 7, None]}).encode(),
        json.dumps({"type": "bundle", "objects": [indicator(1, "JPN", Tlp.RED)]}).encode(),
    ]
    for payload in bad_inputs:
        out = kor.receive(payload, originator="JPN", sender="JPN", via=(), rel_to=TRI,
                          now_s=10.0)
        refused = [e for e in out.events if isinstance(e, Refused)]
        assert refused and all(p for e in refused for p in e.problems)
        assert out.notes and not [e for e in out.events if isinstance(e, ObjectsStored)]
    relayed = json.dumps({"type": "bundle", "objects": [indicator(2, "JPN", Tlp.AMBER)]})
    out = kor.receive(relayed.encode(), originator="JPN", sender="USA", via=("USA",),
                      rel_to=TRI, now_s=11.0)
    assert any("relay" in p for e in out.events if isinstance(e, Refused) for p in e.problems)
    good = json.dumps({"type": "bundle", "objects": [indicator(3, "JPN", Tlp.AMBER)]})
    out = kor.receive(good.encode(), originator="JPN", sender="JPN", via=(), rel_to=TRI,
                      now_s=12.0)
    assert [e.object_ids for e in out.events if isinstance(e, ObjectsStored)] == [
        (indicator(3)["id"],)]
    assert len(kor.audit) >= 5


def test_amber_is_sent_directly_or_not_at_all() -> None:
    jpn = _book("JPN", "bilateral")  # JPN-KOR: no cyber channel in 2023
    out = jpn.publish([indicator(1, "JPN", Tlp.AMBER), indicator(2, "JPN", Tlp.GREEN)], TRI,
                      0.0)
    assert {s.to for s in out.shares} == {"USA"}
    # bilateral agreements do not chain: the USA may not hand JPN's items to KOR at all
    usa = _book("USA", "bilateral")
    usa.receive(out.shares[0].payload, originator="JPN", sender="JPN", via=(), rel_to=TRI,
                now_s=10.0)
    assert not any(usa.visible(i, "KOR") for i in usa.store.items)
    # under the trilateral group the USA may serve JPN's GREEN item to KOR, never its AMBER
    usa = _book("USA", "trilateral")
    out = _book("JPN", "trilateral").publish(
        [indicator(1, "JPN", Tlp.AMBER), indicator(2, "JPN", Tlp.GREEN)], TRI, 0.0)
    got = usa.receive(next(s for s in out.shares if s.to == "USA").payload, originator="JPN",
                      sender="JPN", via=(), rel_to=TRI, now_s=10.0)
    stored = next(e for e in got.events if isinstance(e, ObjectsStored)).object_ids
    assert len([i for i in stored if i.startswith("indicator--")]) == 2
    inds = [i for i in usa.store.items if i.obj["type"] == "indicator"]
    amber = next(i for i in inds if i.tlp is Tlp.AMBER)
    green = next(i for i in inds if i.tlp is Tlp.GREEN)
    assert not usa.visible(amber, "KOR") and usa.visible(green, "KOR")
    assert usa.visible(amber, "JPN")


def test_two_nations_sighting_one_indicator_raise_an_alert_to_those_allowed() -> None:
    ind = indicator(1, "USA", Tlp.GREEN)
    books = {n: _book(n) for n in ("USA", "JPN", "KOR")}

    def deliver(origin: str, shares: list[Any], t_s: float) -> list[Any]:
        outs = []
        for s in shares:
            outs.append(books[s.to].receive(s.payload, originator=origin, sender=origin,
                                            via=(), rel_to=s.rel_to, now_s=t_s))
        return outs

    deliver("USA", books["USA"].publish([ind], TRI, 0.0).shares, 3600.0)
    deliver("JPN", books["JPN"].publish([sighting(ind["id"], "JPN", count=3)], TRI,
                                        4000.0).shares, 7600.0)
    # KOR's sighting is released only to KOR and JPN: the USA may not see the alert
    out = books["KOR"].publish([sighting(ind["id"], "KOR", count=2)], {"KOR", "JPN"}, 8000.0)
    alerts = [e for e in out.events if type(e).__name__ == "CyberAlert"]
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.correlation.who == ("JPN", "KOR")
    assert [(n.nation, n.count) for n in alert.correlation.nations] == [("JPN", 3), ("KOR", 2)]
    assert alert.correlation.audience == {"KOR", "JPN"}
    assert alert.shared_with == ("JPN",)
    note_shares = [s for s in out.shares if alert.note_id.encode() in s.payload]
    assert [s.to for s in note_shares] == ["JPN"]

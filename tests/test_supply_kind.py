"""The supply and control-list kinds on real national nodes: raised items travel only
where the agreements allow (the EWS from 2023-08-18), arrive checked, and a malformed
item is refused, audited and leaves the desk as it was."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from trilink.node import NationalNode, NodeConfig, partners_of
from trilink.sharing.envelope import Kind, Window, generate_keys
from trilink.sharing.policy import policy_for
from trilink.supply.kind import ControlChange, SupplyAlarm, SupplyDesk, decode_item

NATIONS = ("USA", "JPN", "KOR")


def _nodes(epoch: dt.datetime) -> tuple[dict[str, NationalNode], dict[str, SupplyDesk]]:
    keys, registry = generate_keys(NATIONS, seed=b"supply-kind")
    policy = policy_for(None, None)  # the record, read at each item's time
    desks = {n: SupplyDesk(n, partners_of(n, NATIONS)) for n in NATIONS}
    # The EWS passes items through diplomatic missions in two days: a node running it
    # accepts envelopes that old (the default window is three hours).
    window = Window(past_ns=3 * 86400 * 10**9)
    nodes = {n: NationalNode(NodeConfig(n, partners_of(n, NATIONS), NATIONS, window=window),
                             policy, keys[n], registry, epoch, plugins=[desks[n]])
             for n in NATIONS}
    return nodes, desks


ALARM = SupplyAlarm(1, "chn-exports-gallium", "811292", "CHN", "WORLD", "2023-08", 0.0, 5.2,
                    "2023-09-20")


def test_an_alarm_reaches_every_partner_under_the_ews() -> None:
    epoch = dt.datetime(2023, 9, 20, tzinfo=dt.UTC)
    nodes, desks = _nodes(epoch)
    out = nodes["KOR"].carry(desks["KOR"].raise_item(ALARM, 0.0), 0.0)
    assert sorted(o.next_hop for o in out.outgoing) == ["JPN", "USA"]
    assert all(o.send_at_s == pytest.approx(172800.0) for o in out.outgoing)  # 2 days
    for o in out.outgoing:
        got = nodes[o.next_hop].on_message(o.data, o.send_at_s, deliverer="KOR")
        assert got.rejected == []
        (event,) = got.kind_events
        assert event.originator == "KOR" and event.item == ALARM
        assert desks[o.next_hop].received[0].item == ALARM
    # The same bytes again are a replay: refused by the envelope check, not kept twice.
    again = nodes["JPN"].on_message(out.outgoing[0].data, 172801.0, deliverer="KOR")
    assert again.kind_events == [] and len(desks["JPN"].received) == 1


def test_before_the_ews_nothing_leaves() -> None:
    nodes, desks = _nodes(dt.datetime(2019, 7, 10, tzinfo=dt.UTC))
    change = ControlChange(1, "2019-07-04", "JPN", "three materials: individual licences",
                           ["KOR"], ["https://www.taiwannews.com.tw/en/news/3757144"])
    out = nodes["KOR"].carry(desks["KOR"].raise_item(change, 0.0), 0.0)
    assert out.outgoing == []
    assert len(out.rejected) == 2 and all("not yet in force" in r for r in out.rejected)


def test_a_malformed_item_is_refused_and_keeps_nothing() -> None:
    epoch = dt.datetime(2023, 9, 20, tzinfo=dt.UTC)
    nodes, desks = _nodes(epoch)
    bad = msgspec.msgpack.encode({"type": "alarm", "schema_version": 1, "series": "x",
                                  "hs6": "81129", "reporter": "CHN", "partner": "WORLD",
                                  "month": "2023-08", "value": float("nan"),
                                  "baseline": 1.0, "detected": "2023-09-20"})
    with pytest.raises(ValueError):
        decode_item(bad)
    env = nodes["KOR"].signer.seal(kind=Kind.SUPPLY_INDICATOR, originator="KOR",
                                   rel_to=NATIONS, recipient="JPN", payload=bad,
                                   created_ns=nodes["KOR"]._ns(0.0))
    from trilink.sharing.envelope import encode

    got = nodes["JPN"].on_message(encode(env), 10.0, deliverer="KOR")
    assert got.kind_events == [] and got.rejected and desks["JPN"].received == []
    # …and a good item right after is still taken.
    out = nodes["KOR"].carry(desks["KOR"].raise_item(ALARM, 20.0), 20.0)
    jpn = next(o for o in out.outgoing if o.next_hop == "JPN")
    assert nodes["JPN"].on_message(jpn.data, jpn.send_at_s, deliverer="KOR").kind_events

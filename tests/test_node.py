"""The national node on its own: hand-made inputs in, its decisions out.

A straight ballistic arc (no scenario, no fit) from the Sea of Japan over northern
Honshu into the Pacific, seen by one hand-made Japanese radar; a partner's track
envelope signed with generated keys. The node must track the arc, share it only where
the agreements allow, fuse the partner's track with its own, warn (CAP Alert, then
Cancel once the missile has passed), open a consultation on the significant track and
send the hotline traffic that goes with it — all decided inside the node; the test only
feeds inputs and calls ``tick`` when the node asks.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import numpy as np
import pytest
from ballistic_arc import arc

from trilink.hotline.factsheet import TriggerRules
from trilink.hotline.opener import OpenerConfig
from trilink.hotline.wire import decode_item
from trilink.kinds.base import AuditNote, PluginOutput, Send
from trilink.kinds.tracks import encode_tracks
from trilink.node import NationalNode, NodeConfig, NodeOutput
from trilink.physics import earth
from trilink.sensors.radar import RadarScan
from trilink.sharing.audit import AuditLog
from trilink.sharing.envelope import Envelope, Kind, Signer, decode, encode, generate_keys
from trilink.sharing.policy import Policy
from trilink.watch import WatchConfig

NATIONS = ("JPN", "KOR", "USA")
EPOCH = dt.datetime(2022, 10, 3, 22, 22, tzinfo=dt.UTC)
SITE = (np.radians(41.3), np.radians(141.1), 800.0)  # a radar at Ominato, Aomori
SIGMA = np.array([60.0, 1e-3, 1e-3])  # range (m), azimuth and elevation (rad)
SCAN_EVERY_S = 4.0


def scan_at(t_s: float, rng: np.random.Generator, sensor: str = "JPN-HAND-OMINATO"
            ) -> RadarScan:
    """One scan of the hand-made radar: the arc's position at ``t_s`` plus noise."""
    r = arc().position(t_s)
    az, el, rng_m = earth.ecef_to_aer(r, *SITE)
    z = np.array([[float(rng_m), float(az), float(el)]]) + rng.standard_normal(3) * SIGMA
    return RadarScan(sensor, "JPN", t_s, SITE[0], SITE[1], SITE[2],
                     earth.geodetic_to_ecef(*SITE), z, SIGMA.copy(), ("L1",))


def make_node(policy: str, *, audit: AuditLog | None = None, opener: bool = True,
              plugins: tuple[object, ...] = ()) -> tuple[NationalNode, dict[str, Signer]]:
    keys, registry = generate_keys(NATIONS, seed=b"test-node")
    watch = WatchConfig(opener=OpenerConfig(NATIONS, "defence_ministry", TriggerRules())
                        if opener else None)
    node = NationalNode(NodeConfig("JPN", ("KOR", "USA"), NATIONS), Policy.for_regime(policy),
                        keys["JPN"], registry, EPOCH, audit, watch_config=watch,
                        plugins=plugins)  # type: ignore[arg-type]
    return node, {n: Signer(keys[n]) for n in NATIONS}


def drive(node: NationalNode, until_s: float, start_s: float = 0.0) -> list[NodeOutput]:
    """Feed a scan every few seconds; tick whenever the node asks to be woken."""
    rng = np.random.default_rng(7)
    outs: list[NodeOutput] = []
    t = start_s
    while t <= until_s:
        outs.append(node.on_scan(scan_at(t, rng)))
        wake = node.next_wakeup_s()
        if wake is not None and wake <= t:
            outs.append(node.tick(t))
        t += SCAN_EVERY_S
    return outs


@pytest.fixture(scope="module")
def run() -> tuple[NationalNode, list[NodeOutput]]:
    node, _ = make_node("bilateral-us")
    return node, drive(node, 260.0)


def _all(outs: list[NodeOutput]) -> NodeOutput:
    total = NodeOutput()
    for o in outs:
        total.extend(o)
    return total


def test_the_node_tracks_the_arc(run: tuple[NationalNode, list[NodeOutput]]) -> None:
    _node, outs = run
    total = _all(outs)
    updates = [e for e in total.track_events if e.kind.value == "updated"]
    assert updates, "no track of a clean arc"
    assert len({e.track_id for e in updates}) == 1  # one object, one track
    last = updates[-1]
    # Metres, after minutes of track.
    assert np.linalg.norm(last.x[:3] - arc().position(last.t_s)) < 2_000.0


def test_tracks_go_only_where_the_agreements_allow(
        run: tuple[NationalNode, list[NodeOutput]]) -> None:
    """bilateral-us: Japan shares with the US, not with Korea."""
    _, outs = run
    envs = [(o, decode(o.data)) for o in _all(outs).outgoing]
    tracks = [o for o, e in envs if isinstance(e, Envelope) and e.kind == Kind.MISSILE_TRACK]
    assert tracks, "no track shared with the US"
    assert {o.next_hop for o in tracks} == {"USA"}
    env = decode(tracks[0].data)
    assert isinstance(env, Envelope) and env.recipient == "USA" and env.originator == "JPN"


def test_an_alert_then_a_cancel_for_the_overflight(
        run: tuple[NationalNode, list[NodeOutput]]) -> None:
    _node, outs = run
    warnings = _all(outs).warnings
    kinds = [w.message.msg_type for w in warnings]
    assert kinds and kinds[0] == "Alert" and kinds[-1] == "Cancel", kinds
    alert = warnings[0]
    assert dict(alert.message.parameters)["trilink_level"] == "take_shelter"
    # Before the arc crosses Honshu (~240 s), and never from a single assessment.
    assert alert.t_s < 240.0
    earlier = [a for tid, a in _all(outs).assessments if a.t_s < alert.t_s
               and tid == alert.track_id]
    assert earlier and earlier[-1].level == "take_shelter"
    assert alert.message.reference in warnings[-1].message.references


def test_assessment_rounds_follow_the_schedule(
        run: tuple[NationalNode, list[NodeOutput]]) -> None:
    _, outs = run
    rounds = [o.assessed_s for o in outs if o.assessed_s is not None]
    assert len(rounds) > 10  # 260 s of scans
    assert all(b - a >= 10.0 for a, b in itertools.pairwise(rounds))


def test_a_significant_track_opens_one_consultation_with_hotline_traffic(
        run: tuple[NationalNode, list[NodeOutput]]) -> None:
    node, outs = run
    total = _all(outs)
    assert len(total.consultations_opened) == 1
    cid = total.consultations_opened[0]
    c = node.hotline.consultations[cid]
    assert c.opener == "JPN" and set(c.parties) == set(NATIONS)
    assert "JPN" in c.opening.body.trigger  # type: ignore[union-attr]
    hotline = [o for o in total.outgoing if o.priority == 1]
    assert hotline, "the opening was not sent"
    # Korea is reached through the US (no direct agreement under bilateral-us).
    assert {o.next_hop for o in hotline} == {"USA"}
    for o in hotline:
        env = decode(o.data)
        assert isinstance(env, Envelope) and env.kind in (Kind.HOTLINE, Kind.STATEMENT)
        decode_item(env.payload)  # a well-formed hotline item
    # A nation that joins adds its public warnings.
    facts = node.join_facts(cid)
    assert facts["warnings"] == [{"nation": "JPN", "t_s": round(total.warnings[0].t_s, 1),
                                  "level": "take_shelter"}]


def test_no_consultation_without_the_trigger_rules() -> None:
    node, _ = make_node("bilateral-us", opener=False)
    total = _all(drive(node, 40.0))
    assert total.warnings and not total.consultations_opened
    assert not [o for o in total.outgoing if o.priority == 1]


def test_a_partner_track_is_fused_with_the_own() -> None:
    node, signers = make_node("trilateral-realtime")
    outs = drive(node, 40.0)
    own = [e for e in _all(outs).track_events if e.kind.value == "updated"][-1]
    now = own.t_s + 1.0
    payload = encode_tracks([own])  # the US sees the same object (same state, for the test)
    env = signers["USA"].seal(kind=Kind.MISSILE_TRACK, originator="USA", rel_to=NATIONS,
                              recipient="JPN", payload=payload,
                              created_ns=node._ns(now))
    out = node.on_message(encode(env), now, deliverer="USA")
    assert out.picture_changed and not out.rejected
    fused = [o for o in node.fused()
             if {s.nation for s in o.sources.values()} == {"JPN", "USA"}]
    assert len(fused) == 1
    assert node.first_seen[f"USA/{own.track_id}"] == now


def test_a_partner_envelope_signed_by_another_key_is_refused() -> None:
    node, signers = make_node("trilateral-realtime")
    env = signers["KOR"].seal(kind=Kind.MISSILE_TRACK, originator="KOR", rel_to=NATIONS,
                              recipient="JPN", payload=encode_tracks([]),
                              created_ns=node._ns(60.0))
    data = bytearray(encode(env))
    data[-1] ^= 0x01  # a flipped bit in the signature
    out = node.on_message(bytes(data), 60.0, deliverer="KOR")
    assert out.rejected and not out.picture_changed


class EchoPlugin:
    """A kind plug-in for the test: answers each supply indicator with one back."""

    kinds = (Kind.SUPPLY_INDICATOR,)

    def __init__(self) -> None:
        self.seen: list[Envelope] = []

    def on_envelope(self, env: Envelope, now_s: float) -> PluginOutput:
        if env.payload == b"bad":
            raise ValueError("not an indicator")
        self.seen.append(env)
        return PluginOutput(sends=[Send(env.originator, Kind.SUPPLY_INDICATOR, NATIONS,
                                        b"ack:" + env.payload)],
                            notes=[AuditNote(now_s, "escalated", env.originator,
                                             "supply_indicator", "answered")],
                            events=[("indicator", env.originator)])

    def tick(self, now_s: float) -> PluginOutput:
        return PluginOutput()

    def next_wakeup_s(self) -> float | None:
        return None


def test_a_kind_plugin_gets_checked_envelopes_and_its_sends_are_sealed(tmp_path: Path) -> None:
    plugin = EchoPlugin()
    audit = AuditLog(tmp_path / "JPN.sqlite", durable=False)
    node, signers = make_node("trilateral-realtime", audit=audit, plugins=(plugin,))
    env = signers["USA"].seal(kind=Kind.SUPPLY_INDICATOR, originator="USA", rel_to=NATIONS,
                              recipient="JPN", payload=b"x1", created_ns=node._ns(5.0))
    out = node.on_message(encode(env), 5.0, deliverer="USA")
    assert [e.payload for e in plugin.seen] == [b"x1"]
    assert out.kind_events == [("indicator", "USA")]
    sent = [decode(o.data) for o in out.outgoing if o.next_hop == "USA"]
    replies = [e for e in sent if isinstance(e, Envelope) and e.kind == Kind.SUPPLY_INDICATOR]
    assert len(replies) == 1 and replies[0].payload == b"ack:x1"
    assert replies[0].originator == "JPN" and "JPN" in replies[0].rel_to
    bad = signers["USA"].seal(kind=Kind.SUPPLY_INDICATOR, originator="USA", rel_to=NATIONS,
                              recipient="JPN", payload=b"bad", created_ns=node._ns(6.0))
    refused = node.on_message(encode(bad), 6.0, deliverer="USA")
    assert refused.rejected and len(plugin.seen) == 1
    audit.close()


def test_a_kind_claimed_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="two handlers"):
        make_node("trilateral-realtime", plugins=(EchoPlugin(), EchoPlugin()))


def test_an_envelope_from_the_future_comes_back_later_and_a_stale_one_never() -> None:
    """Clock skew: a partner ahead of this node's clock is not refused for good (the
    driver must deliver it again after ``retry_after_s``); a too-old one is final."""
    node, signers = make_node("trilateral-realtime")
    now = 600.0
    future_s = node.config.window.future_ns / 1e9

    def sealed(created_s: float) -> bytes:
        return encode(signers["USA"].seal(kind=Kind.MISSILE_TRACK, originator="USA",
                                          rel_to=NATIONS, recipient="JPN",
                                          payload=encode_tracks([]),
                                          created_ns=node._ns(created_s)))

    ahead = sealed(now + future_s + 120.0)  # the sender's clock 120 s past the window
    out = node.on_message(ahead, now, deliverer="USA")
    assert out.rejected and out.retry_after_s is not None
    assert 0 < out.retry_after_s <= node.config.retry_every_s
    # Delivered again once its time is inside the window: taken.
    later = node.on_message(ahead, now + 121.0, deliverer="USA")
    assert not later.rejected and later.retry_after_s is None
    past_s = node.config.window.past_ns / 1e9
    stale = node.on_message(sealed(now - past_s - 60.0), now + 121.0, deliverer="USA")
    assert stale.rejected and stale.retry_after_s is None
    far = node.on_message(sealed(now + future_s + node.config.retry_future_s + 60.0), now,
                          deliverer="USA")
    assert far.rejected and far.retry_after_s is None

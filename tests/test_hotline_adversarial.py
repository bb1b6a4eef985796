"""Partners that misbehave: forged origins, backdated or tied orders, malformed but
signed items, races between posts. Each case was first written as a failing
reproduction in a review of the hotline; here they hold the fixes."""

from __future__ import annotations

from hotline_net import NATIONS, make_net

from trilink.hotline.consultation import State
from trilink.hotline.factsheet import TriggerRules
from trilink.hotline.opener import AutoOpener, OpenerConfig, tell_warning
from trilink.hotline.simulated import Delay, ResponseModel
from trilink.hotline.statement import StatementBoard, content_bytes, decline_bytes
from trilink.hotline.wire import (
    Amend,
    Approve,
    Conclude,
    Decline,
    Deliver,
    Draft,
    Forward,
    Open,
    Post,
    Read,
    Release,
    Say,
    Signature,
    encode_item,
)
from trilink.sharing.agreements import DataKind
from trilink.sharing.envelope import encode, generate_keys

FAST = ResponseModel(read=Delay(20.0, 0.3), join=Delay(60.0, 0.3), draft=Delay(300.0, 0.3),
                     approve=Delay(200.0, 0.3), conclude=Delay(60.0, 0.3))


def seal(net, frm, to, payload, t, kind=DataKind.HOTLINE, originator=None):
    n = net.nodes[frm]
    env = n.signer.seal(kind=kind, originator=originator or frm, rel_to=NATIONS,
                        recipient=to, payload=payload, created_ns=n._ns(t))
    return encode(env)


def joined_net():
    net = make_net()
    cid = net.open("JPN", ["USA", "KOR"])
    net.run(until_s=70.0)
    net.now = 100.0
    for n in ("USA", "KOR"):
        net.do(n, net.desk(n).join(100.0, cid))
    net.run(until_s=200.0)
    return net, cid


# ------------------------------------------------------------------ speaking for another
def test_a_partner_cannot_post_in_another_nations_name():
    net, cid = joined_net()
    assert net.desk("KOR").consultations[cid].state == State.ALL_JOINED
    forged = Post("JPN-999", cid, "JPN", "defence_ministry", 10_000, 210.0,
                  Conclude("forged by USA"))
    data = seal(net, "USA", "KOR", encode_item(Deliver(forged, "defence_ministry")), 210.0,
                originator="JPN")
    out = net.nodes["KOR"].on_message(data, 210.0)
    assert any("is not the signer" in r for r in out.rejected)
    assert "JPN-999" not in net.desk("KOR").consultations[cid].posts


def test_a_partner_cannot_acknowledge_for_another():
    net = make_net()
    cid = net.open("JPN", ["USA", "KOR"])
    net.run(until_s=1.0)
    before = net.desk("JPN").pending()
    data = seal(net, "USA", "JPN", encode_item(Read("JPN-1", cid, "nsa")), 2.0,
                originator="KOR")
    net.nodes["JPN"].on_message(data, 2.0)
    assert net.desk("JPN").pending() == before  # KOR's acknowledgement is still awaited


# ------------------------------------------------------------------ order
def test_a_party_cannot_backdate_a_post_behind_its_own_approval():
    net = make_net(models={n: FAST for n in NATIONS})
    cid = net.open("JPN", ["USA", "KOR"])
    net.run(until_s=3 * 3600)
    c = net.desk("USA").consultations[cid]
    assert c.state == State.CONCLUDED
    (st,) = c.folded.board.statements.values()
    assert st.released is not None
    draft = next(p for p in c.transcript() if p.what == "draft")
    t = net.now + 10
    late = Post("KOR-999", cid, "KOR", "defence_ministry", draft.lamport, t,
                Amend(st.statement_id, 2, "backdated text"))
    for to in ("JPN", "USA"):
        net.nodes[to].on_message(seal(net, "KOR", to, encode_item(
            Deliver(late, "defence_ministry")), t, kind=DataKind.STATEMENT), t + 61)
        c = net.desk(to).consultations[cid]
        assert "KOR-999" not in c.posts
        assert next(iter(c.folded.board.statements.values())).released is not None
    assert any("out of order" in e.detail for e in net.desk("USA").events
               if e.what == "reject")


def test_non_canonical_ids_cannot_tie_the_order():
    net, cid = joined_net()
    net.now = 300.0
    sid, out = net.desk("JPN").draft(300.0, cid, "text v1")
    net.do("JPN", out)
    net.run(until_s=400.0)
    lam = net.desk("JPN").lamport + 1
    a = Post("JPN-70", cid, "JPN", "defence_ministry", lam, 500.0, Amend(sid, 2, "A"))
    b = Post("JPN-070", cid, "JPN", "defence_ministry", lam, 500.0, Amend(sid, 2, "B"))

    def send(to, post, t):
        return net.nodes[to].on_message(seal(net, "JPN", to, encode_item(
            Deliver(post, "defence_ministry")), t, kind=DataKind.STATEMENT), t + 61)

    send("USA", a, 500.0)
    refused = send("USA", b, 501.0).rejected
    send("KOR", b, 500.0)
    send("KOR", a, 501.0)
    assert refused and "JPN-070" not in net.desk("USA").consultations[cid].posts
    usa, kor = (net.desk(n).consultations[cid] for n in ("USA", "KOR"))
    assert [p.msg_id for p in usa.transcript()] == [p.msg_id for p in kor.transcript()]
    assert usa.folded.board.statements[sid].text == kor.folded.board.statements[sid].text


def test_an_opening_under_another_partys_message_id_is_refused():
    net = make_net()
    op = Post("KOR-1", "JPN-7", "JPN", "defence_ministry", 1, 1.0,
              Open("t", ["JPN", "KOR", "USA"], "defence_ministry"))
    for to in ("KOR", "USA"):
        net.nodes[to].on_message(seal(net, "JPN", to, encode_item(
            Deliver(op, "defence_ministry")), 1.0), 2.0)
        assert "JPN-7" not in net.desk(to).consultations
        assert any("is not JPN's" in e.detail for e in net.desk(to).events
                   if e.what == "reject")


# ------------------------------------------------------------------ malformed, signed
def test_signed_but_malformed_items_are_refused_not_raised():
    net = make_net()
    cid = net.open("JPN", ["USA", "KOR"])
    net.run(until_s=70.0)
    inner = seal(net, "JPN", "KOR", b"x", 71.0)
    cases = [
        ("USA", encode_item(Forward("usa", inner))),
        ("KOR", encode_item(Deliver(Post("JPN-2", "JPN-2", "JPN", "defence_ministry", 1, 1.0,
                                         Open("t", ["JPN", "KOR", "usa"],
                                              "defence_ministry")), "defence_ministry"))),
        ("KOR", encode_item(Deliver(Post("JPN-3", "JPN-3", "JPN", "bogus", 1, 1.0,
                                         Open("t", ["JPN", "KOR", "USA"], "bogus")),
                                    "bogus"))),
        ("KOR", encode_item(Deliver(Post("JPN-50", cid, "JPN", "defence_ministry",
                                         2**64 - 1, 71.0, Say("hi")), "defence_ministry"))),
    ]
    for to, payload in cases:
        out = net.nodes[to].on_message(seal(net, "JPN", to, payload, 71.0), 71.0)
        assert out.rejected, payload[:40]
    # The recipient still works: it joins, ticks and posts.
    net.do("KOR", net.desk("KOR").join(72.0, cid))
    for _ in range(3):
        wake = net.desk("KOR").next_wakeup_s()
        if wake is not None:
            net.nodes["KOR"].tick(wake)
    assert "JPN-2" not in net.desk("KOR").consultations
    assert "JPN-3" not in net.desk("KOR").consultations


# ------------------------------------------------------------------ races
def test_updates_before_joining_go_with_the_join_not_into_the_void():
    net = make_net()
    cid = net.open("JPN", ["USA", "KOR"])
    net.run(until_s=70.0)
    opener = AutoOpener("KOR", OpenerConfig(NATIONS, "defence_ministry", TriggerRules()))
    raised, opened, o1 = opener.consider(net.desk("KOR"), 80.0, "KOR/T1",
                                         "KOR: impact in KOR's zone", {"trajectory_class": "SRBM"})
    o2 = tell_warning(net.desk("KOR"), 81.0, {"nation": "KOR", "t_s": 75.0, "level": "x"})
    assert not (o1.sends or o2.sends)  # nothing posted that every node would refuse
    assert opener.held[cid] == [{"trajectory_class": "SRBM"}]
    assert (raised, opened) == (cid, False)
    assert net.desk("KOR").consultations[cid].folded.refused == {}


def test_a_decline_that_crossed_an_amendment_still_stands():
    keys, reg = generate_keys(NATIONS, seed=b"x")
    parties = tuple(sorted(NATIONS))
    board = StatementBoard("JPN-1", parties, reg)
    sid = "JPN-1/S1"

    def mk(i, origin, lam, body):
        return Post(f"{origin}-{i}", "JPN-1", origin, "nsa", lam, float(lam), body)

    assert board.apply(mk(1, "JPN", 2, Draft(sid, "v1"))).ok
    assert board.apply(mk(2, "USA", 3, Amend(sid, 2, "v2"))).ok
    dsig = keys["KOR"].private_key.sign(decline_bytes("JPN-1", sid, "KOR"))
    assert board.apply(mk(3, "KOR", 4, Decline(sid, 1, "no", keys["KOR"].key_id, dsig))).ok
    sigs = []
    for n in ("JPN", "USA"):
        s = keys[n].private_key.sign(content_bytes("JPN-1", sid, 2, "v2", parties))
        assert board.apply(mk(9, n, 10, Approve(sid, 2, keys[n].key_id, s))).ok
        sigs.append(Signature(n, keys[n].key_id, s))
    assert board.apply(mk(10, "JPN", 11, Release(
        sid, 2, "v2", sigs, [Signature("KOR", keys["KOR"].key_id, dsig)]))).ok
    assert set(board.statements[sid].declines) == {"KOR"}


def test_a_refusal_that_an_earlier_post_cures_is_logged_as_reinstated():
    net = make_net()
    net.cut = lambda a, b, t: a == "KOR" and b == "USA" and 100.0 <= t < 101.0
    cid = net.open("JPN", ["USA", "KOR"])
    net.run(until_s=90.0)
    net.now = 100.0
    net.do("KOR", net.desk("KOR").join(100.0, cid))  # to USA: lost, resent later
    net.now = 110.0
    net.do("KOR", net.desk("KOR").say(110.0, cid, "hello"))
    net.run(until_s=1000.0)
    c = net.desk("USA").consultations[cid]
    assert c.folded.refused == {}
    whats = [(e.what, e.msg_id) for e in net.desk("USA").events
             if e.what in ("reject", "reinstate")]
    assert whats == [("reject", "KOR-2"), ("reinstate", "KOR-2")]


def test_only_the_opener_may_conclude_before_everyone_has_joined():
    net = make_net()
    cid = net.open("JPN", ["USA", "KOR"])
    net.run(until_s=70.0)
    net.now = 100.0
    net.do("USA", net.desk("USA").join(100.0, cid))
    net.do("USA", net.desk("USA").conclude(101.0, cid, "enough"))
    net.run(until_s=300.0)
    c = net.desk("JPN").consultations[cid]
    assert c.state == State.OPENED
    assert any("only the opener" in why for why in c.folded.refused.values())

"""The hotline over real nodes, envelopes and agreements (in-process transport)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hotline_net import NATIONS, make_net

from trilink.hotline.consultation import State
from trilink.hotline.desk import DeskConfig, Send
from trilink.hotline.simulated import Delay, ResponseModel
from trilink.hotline.statement import (
    check_release,
    parse_release_document,
    release_document,
)
from trilink.hotline.wire import Deliver, Post, Say, encode_item
from trilink.sharing.agreements import DataKind
from trilink.sharing.audit import verify_audit_file
from trilink.sharing.policy import policy_for

FAST = ResponseModel(read=Delay(20.0, 0.3), join=Delay(60.0, 0.3), draft=Delay(300.0, 0.3),
                     approve=Delay(200.0, 0.3), conclude=Delay(60.0, 0.3))


def transcripts(net, cid):
    return {n: [(p.msg_id, p.what) for p in net.desk(n).consultations[cid].transcript()]
            for n in net.nodes}


def test_consultation_opens_joins_releases_and_concludes_identically_everywhere(tmp_path):
    net = make_net(models={n: FAST for n in NATIONS}, audit_dir=tmp_path)
    cid, out = net.desk("JPN").open(0.0, ["USA", "KOR"], "launch", trigger="test")
    net.do("JPN", out)
    net.run()
    seen = transcripts(net, cid)
    assert seen["USA"] == seen["JPN"] == seen["KOR"]
    whats = [w for _, w in seen["JPN"]]
    assert whats[0] == "open" and whats.count("join") == 2 and whats[-1] == "conclude"
    assert "release" in whats
    for n in NATIONS:
        c = net.desk(n).consultations[cid]
        assert c.state == State.CONCLUDED
        assert c.folded.refused == {}
        (st,) = c.folded.board.statements.values()
        assert st.released is not None and {s.nation for s in st.released.approvals} == set(
            NATIONS)
    # The released statement verifies offline, and stops verifying if the text changes.
    c = net.desk("KOR").consultations[cid]
    release = next(iter(c.folded.board.statements.values())).released
    assert release is not None
    doc = release_document(c.id, c.parties, release)
    cons, parties, parsed = parse_release_document(json.dumps(doc))
    registry = net.desk("KOR").registry
    assert check_release(cons, parties, parsed, registry) == ""
    tampered = parsed.__class__(parsed.statement_id, parsed.version, parsed.text + ".",
                                parsed.approvals, parsed.declines)
    assert "does not verify" in check_release(cons, parties, tampered, registry)
    for n in NATIONS:
        net.nodes[n].audit.close()  # type: ignore[union-attr]
        assert verify_audit_file(tmp_path / f"{n}.sqlite").ok


def test_a_decline_leaves_a_bilateral_statement_signed_by_the_others():
    models = {n: FAST for n in NATIONS}
    models["KOR"] = ResponseModel(**{**FAST.__dict__, "decline_probability": 1.0})
    net = make_net(models=models)
    cid = net.open("USA", ["JPN", "KOR"])
    net.run()
    c = net.desk("JPN").consultations[cid]
    (st,) = c.folded.board.statements.values()
    assert st.released is not None
    assert [s.nation for s in st.released.approvals] == ["JPN", "USA"]
    assert [s.nation for s in st.released.declines] == ["KOR"]
    assert check_release(c.id, c.parties, st.released, c.registry) == ""
    # Without KOR's signed decline the two signatures are not a statement of the three.
    partial = st.released.__class__(st.released.statement_id, st.released.version,
                                    st.released.text, st.released.approvals, [])
    assert "no approval or decline from KOR" in check_release(c.id, c.parties, partial,
                                                              c.registry)


def test_unread_posts_climb_the_ladder_and_every_step_is_audited(tmp_path):
    models = {n: FAST for n in NATIONS}
    models["KOR"] = ResponseModel(**{**FAST.__dict__, "unavailable": {
        "defence_ministry": 1.0, "nsa": 1.0}})
    net = make_net(models=models, audit_dir=tmp_path)
    cid = net.open("JPN", ["USA", "KOR"])
    net.run(until_s=2000.0)
    steps = [e.detail for e in net.desk("JPN").events
             if e.what == "escalate" and "to KOR" in e.detail and e.msg_id == "JPN-1"]
    assert any("raised to KOR/nsa" in s for s in steps)
    assert any("raised to KOR/leader_office" in s for s in steps)
    # The leader's office read it: the read came back and the escalation stopped.
    assert net.desk("KOR").read_by["JPN-1"] == "leader_office"
    assert ("JPN-1", "KOR") not in {(m, p) for m, p, _, _ in net.desk("JPN").pending()}
    # Later posts to KOR start at the level that answered.
    assert net.desk("JPN")._attention[(cid, "KOR")] == "leader_office"
    net.nodes["JPN"].audit.close()  # type: ignore[union-attr]
    rows = verify_audit_file(tmp_path / "JPN.sqlite")
    assert rows.ok
    from trilink.sharing.audit import AuditLog
    with AuditLog(tmp_path / "JPN.sqlite") as log:
        escalated = [r for r in log.records() if r.direction == "escalated"]
    assert any("raised to KOR/nsa" in r.detail for r in escalated)


def test_no_receipt_resends_then_takes_the_alternate_route_through_a_third_party():
    # Everything JPN sends straight to KOR is lost; USA may carry it (Camp David).
    net = make_net(models={n: FAST for n in NATIONS})
    net.cut = lambda a, b, t: (a, b) == ("JPN", "KOR")
    cid = net.open("JPN", ["USA", "KOR"])
    net.run(until_s=1500.0)
    steps = [e.detail for e in net.desk("JPN").events if e.what == "escalate"]
    assert any("resent" in s for s in steps)
    assert any("alternate route via USA" in s for s in steps)
    assert cid in net.desk("KOR").consultations
    net.run()
    seen = transcripts(net, cid)
    assert seen["USA"] == seen["JPN"] == seen["KOR"]


def test_before_camp_david_japan_and_korea_consult_through_washington():
    policy = policy_for(None, __import__("datetime").date(2022, 10, 3))
    net = make_net(policy=policy, models={n: FAST for n in NATIONS})
    routes = net.desk("JPN").routes("KOR", DataKind.HOTLINE, NATIONS, 0.0)
    assert routes and routes[0][0] == "USA"  # no direct JPN-KOR hotline in 2022
    to_usa = net.desk("JPN").routes("USA", DataKind.HOTLINE, NATIONS, 0.0)
    assert to_usa[0][0] is None
    cid = net.open("JPN", ["USA", "KOR"])
    net.run()
    seen = transcripts(net, cid)
    assert seen["USA"] == seen["JPN"] == seen["KOR"]
    assert net.desk("KOR").consultations[cid].state == State.CONCLUDED
    assert net.rejected["KOR"] == [] and net.rejected["USA"] == []


def test_a_partner_cut_off_for_two_hours_converges_without_loss_or_duplicates():
    net = make_net(models={n: FAST for n in NATIONS})
    net.cut = lambda a, b, t: "KOR" in (a, b) and 100.0 <= t < 7300.0
    cid = net.open("JPN", ["USA", "KOR"])
    net.run(until_s=200.0)
    # While cut off, every side keeps talking.
    net.do("USA", net.desk("USA").say(net.now, cid, "USA: assessing"))
    net.do("KOR", net.desk("KOR").say(net.now, cid, "KOR: we are cut off"))
    net.run(until_s=3000.0)
    assert [w for _, w in transcripts(net, cid)["KOR"]].count("say") < 2
    net.run()
    seen = transcripts(net, cid)
    assert seen["USA"] == seen["JPN"] == seen["KOR"]
    ids = [m for m, _ in seen["KOR"]]
    assert len(ids) == len(set(ids))
    assert {"USA: assessing", "KOR: we are cut off"} <= {
        p.body.text for p in net.desk("JPN").consultations[cid].transcript()
        if isinstance(p.body, Say)}
    assert net.dropped > 0


def _inject(net, sender: str, to: str, post: Post, t_s: float = 10.0) -> list[str]:
    """Have ``sender``'s node sign and send a hand-made post; return ``to``'s rejections."""
    node = net.nodes[sender]
    send = Send(to, post.kind, encode_item(Deliver(post, "nsa")), tuple(sorted(NATIONS)),
                None, 0.0)
    o = node._seal(send, t_s)
    before = len(net.desk(to).events)
    net.nodes[to].on_message(o.data, t_s)
    return [e.detail for e in net.desk(to).events[before:] if e.what == "reject"]


def test_posts_from_outside_the_consultation_or_under_a_false_origin_are_refused(tmp_path):
    net = make_net(audit_dir=tmp_path)
    cid = net.open("JPN", ["USA"], "bilateral")
    net.run(until_s=net.now + 600.0)
    outsider = Post("KOR-99", cid, "KOR", "nsa", 50, 10.0, Say("let me in"))
    assert any("KOR is not a party" in r for r in _inject(net, "KOR", "JPN", outsider))
    forged = Post("JPN-99", cid, "JPN", "nsa", 50, 10.0, Say("spoofed"))
    assert any("origin is not its signer" in r for r in _inject(net, "USA", "JPN", forged))
    assert all(p.msg_id not in ("KOR-99", "JPN-99")
               for p in net.desk("JPN").consultations[cid].transcript())
    from trilink.sharing.audit import AuditLog

    net.nodes["JPN"].audit.close()  # type: ignore[union-attr]
    with AuditLog(tmp_path / "JPN.sqlite") as log:
        logged = [r.detail for r in log.records()
                  if r.direction == "rejected" and r.reason == "hotline"]
    assert any("KOR is not a party" in d for d in logged)
    assert any("claims origin JPN but was signed by USA" in d for d in logged)


def test_replayed_and_tampered_hotline_envelopes_are_rejected_by_the_node():
    net = make_net()
    cid, out = net.desk("JPN").open(0.0, ["USA", "KOR"], "launch")
    emitted = net.nodes["JPN"].emit(out, 0.0)
    to_kor = next(o for o in emitted.outgoing if o.next_hop == "KOR")
    assert all(o.priority == 1 for o in emitted.outgoing)  # ahead of routine tracks
    first = net.nodes["KOR"].on_message(to_kor.data, 1.0)
    assert first.rejected == [] and cid in net.desk("KOR").consultations
    again = net.nodes["KOR"].on_message(to_kor.data, 2.0)
    assert any(r.startswith("replay") for r in again.rejected)
    bad = bytearray(to_kor.data)
    bad[-1] ^= 1
    assert any(r.startswith("bad_signature")
               for r in net.nodes["KOR"].on_message(bytes(bad), 3.0).rejected)


def test_stale_approvals_are_refused_and_do_not_count():
    net = make_net()
    cid = net.open_and_join("JPN", ["USA", "KOR"])
    sid, out = net.desk("JPN").draft(net.now, cid, "v1 text")
    net.do("JPN", out)
    net.run(until_s=net.now + 600.0)
    net.do("USA", net.desk("USA").amend(net.now, cid, sid, "v2 text"))
    net.run(until_s=net.now + 600.0)
    # KOR approves version 1 after version 2 exists.
    net.do("KOR", net.desk("KOR").approve(net.now, cid, sid, version=1))
    net.run(until_s=net.now + 600.0)
    for n in NATIONS:
        f = net.desk(n).consultations[cid].folded
        st = f.board.statements[sid]
        assert st.version == 2 and st.released is None
        assert "KOR" not in st.approvals
        assert any("stale version 1" in why for why in f.refused.values())
    net.do("KOR", net.desk("KOR").approve(net.now, cid, sid))
    net.run(until_s=net.now + 600.0)
    net.do("JPN", net.desk("JPN").approve(net.now, cid, sid))
    net.run(until_s=net.now + 600.0)
    st = net.desk("USA").consultations[cid].folded.board.statements[sid]
    assert st.released is not None and st.released.version == 2


def test_an_action_needing_korean_consent_cannot_be_authorised_without_it():
    net = make_net()
    cid = net.open_and_join("USA", ["JPN", "KOR"], "response options")
    net.do("USA", net.desk("USA").propose(net.now, cid, "A1", "military-action-korean-peninsula",
                                          "strike the launcher"))
    net.run(until_s=net.now + 600.0)
    net.do("USA", net.desk("USA").authorise(net.now, cid, "A1"))
    net.run(until_s=net.now + 600.0)
    book = net.desk("KOR").consultations[cid].folded.consents
    assert not book.actions["A1"].authorised
    assert any("without the signed consent of KOR" in why
               for why in net.desk("KOR").consultations[cid].folded.refused.values())
    net.do("JPN", net.desk("JPN").consent(net.now, cid, "A1"))  # the wrong party
    net.run(until_s=net.now + 600.0)
    net.do("USA", net.desk("USA").authorise(net.now, cid, "A1"))
    net.run(until_s=net.now + 600.0)
    f = net.desk("JPN").consultations[cid].folded
    assert not f.consents.actions["A1"].authorised
    assert any("JPN's consent does not count" in why for why in f.refused.values())
    net.do("KOR", net.desk("KOR").consent(net.now, cid, "A1"))
    net.run(until_s=net.now + 600.0)
    net.do("USA", net.desk("USA").authorise(net.now, cid, "A1"))
    net.run(until_s=net.now + 600.0)
    for n in NATIONS:
        assert net.desk(n).consultations[cid].folded.consents.actions["A1"].authorised


def test_an_unconcluded_consultation_lapses_at_its_deadline():
    net = make_net(config=DeskConfig(lapse_after_s=3600.0))
    cid = net.open("KOR", ["USA", "JPN"], "quiet")
    net.run()
    for n in NATIONS:
        c = net.desk(n).consultations[cid]
        assert c.state == State.LAPSED
        assert c.folded.lapsed_t_s == pytest.approx(3600.0)


def test_identical_runs_give_identical_transcripts(tmp_path: Path):
    def once():
        net = make_net(models={n: ResponseModel(amend_probability=0.3) for n in NATIONS},
                       seed=7)
        cid = net.open("JPN", ["USA", "KOR"])
        net.run()
        return transcripts(net, cid), [e for e in net.desk("KOR").events]
    assert once() == once()


def test_a_desk_restored_from_its_journal_resumes_where_it_stopped(tmp_path):
    from trilink.hotline.journal import FileJournal, restore

    net = make_net(models={n: FAST for n in NATIONS})
    journal = FileJournal(tmp_path / "JPN.journal")
    net.desk("JPN").journal = journal.append
    cid = net.open("JPN", ["USA", "KOR"])
    net.run(until_s=2500.0)  # joined, drafted, part-way through approvals
    journal.close()
    before = net.desk("JPN")
    before.journal = None
    # The node process restarts: a fresh desk, same key and settings, fed the journal.
    again = make_net(models={n: FAST for n in NATIONS}).desk("JPN")
    assert restore(again, tmp_path / "JPN.journal") > 3
    assert [p.msg_id for p in again.consultations[cid].transcript()] == [
        p.msg_id for p in before.consultations[cid].transcript()]
    assert again.consultations[cid].state == before.consultations[cid].state
    assert again.pending() == before.pending() and again.unread.keys() == before.unread.keys()
    # Counters resume: the next consultation and post ids are new ones.
    assert again.open(2600.0, ["USA"], "next")[0] == before.open(2600.0, ["USA"], "next")[0]
    assert again._msg_counter == before._msg_counter
    # A torn last record (a crash mid-write) is ignored.
    data = (tmp_path / "JPN.journal").read_bytes()
    (tmp_path / "torn.journal").write_bytes(data + data[:7])
    assert restore(make_net().desk("JPN"), tmp_path / "torn.journal") == restore(
        make_net().desk("JPN"), tmp_path / "JPN.journal")


def test_a_party_sending_two_different_posts_under_one_id_is_caught():
    net = make_net()
    cid = net.open("JPN", ["USA", "KOR"])
    net.run(until_s=300.0)
    first = Post("KOR-50", cid, "KOR", "nsa", 50, 10.0, Say("version A"))
    other = Post("KOR-50", cid, "KOR", "nsa", 50, 10.0, Say("version B"))
    assert not any("conflicts" in r for r in _inject(net, "KOR", "JPN", first))
    refused = _inject(net, "KOR", "JPN", other)
    assert any("conflicts with the post already held" in r for r in refused)
    held = net.desk("JPN").consultations[cid].posts["KOR-50"]
    assert held.body == Say("version A")


def test_a_carrier_refuses_to_carry_anything_but_hotline_traffic():
    from trilink.hotline.wire import Forward
    from trilink.sharing.envelope import encode

    policy = policy_for(None, __import__("datetime").date(2022, 10, 3))
    net = make_net(policy=policy)
    jpn = net.nodes["JPN"]
    # A track envelope for KOR, wrapped as hotline traffic to the US (the carrier).
    inner = jpn.signer.seal(kind=DataKind.MISSILE_TRACK, originator="JPN",
                            rel_to=NATIONS, recipient="KOR", payload=b"x",
                            created_ns=jpn._ns(0.0))
    outer = jpn.signer.seal(kind=DataKind.HOTLINE, originator="JPN", rel_to=NATIONS,
                            recipient="USA", created_ns=jpn._ns(0.0),
                            payload=encode_item(Forward("KOR", encode(inner))))
    out = net.nodes["USA"].on_message(encode(outer), 0.0)
    assert out.outgoing == []
    assert any("forward" in r for r in out.rejected)

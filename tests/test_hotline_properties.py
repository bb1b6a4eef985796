"""Property tests: statement and consent rules under random interleavings."""

from __future__ import annotations

import datetime as dt

from hotline_net import NATIONS, make_net
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trilink.hotline.simulated import Delay, ResponseModel
from trilink.hotline.statement import (
    StatementBoard,
    check_release,
    content_bytes,
    decline_bytes,
)
from trilink.hotline.wire import (
    Amend,
    Approve,
    Decline,
    Draft,
    Post,
    Release,
    Signature,
)
from trilink.sharing.envelope import generate_keys

PARTIES = ("JPN", "KOR", "USA")
KEYS, REGISTRY = generate_keys((*PARTIES, "AUS"), seed=b"props")
CID = "JPN-1"
SID = "JPN-1/S1"

op = st.tuples(
    # Honest approvals are weighted up so that releases (and races around them) happen.
    st.sampled_from(["approve"] * 6 + ["approve_stale", "approve_future", "approve_forged",
                                       "amend", "decline", "release_any", "release_ready",
                                       "release_ready"]),
    st.sampled_from((*PARTIES, "AUS")),
    st.lists(st.integers(0, 30), max_size=4),
)


def _post(n: int, origin: str, body) -> Post:
    return Post(f"{origin}-{n}", CID, origin, "nsa", n + 2, float(n), body)


@settings(max_examples=300, deadline=None)
@given(ops=st.lists(op, max_size=40))
def test_no_statement_is_released_without_every_approval_of_one_version(ops):
    board = StatementBoard(CID, PARTIES, REGISTRY)
    assert board.apply(_post(0, "JPN", Draft(SID, "text v1"))).ok
    harvested: list[tuple[int, Signature]] = []  # every signature ever seen, any version
    for n, (what, who, picks) in enumerate(ops, start=1):
        s = board.statements[SID]
        key = KEYS[who]
        v = s.version
        if what.startswith("approve"):
            ver = {"approve_stale": v - 1, "approve_future": v + 1}.get(what, v)
            text = dict(s.history).get(ver, s.text)
            sig = key.private_key.sign(content_bytes(CID, SID, ver, text, PARTIES))
            if what == "approve_forged":  # signed by someone else's key
                sig = KEYS["AUS"].private_key.sign(content_bytes(CID, SID, v, s.text,
                                                                 PARTIES))
            harvested.append((ver, Signature(who, key.key_id, sig)))
            body = Approve(SID, ver, key.key_id, sig)
        elif what == "amend":
            body = Amend(SID, v + 1, f"text v{v + 1}")
        elif what == "decline":
            sig = key.private_key.sign(decline_bytes(CID, SID, who))
            body = Decline(SID, v, "no", key.key_id, sig)
        elif what == "release_ready":
            ready = board.ready(SID)
            if ready is None:
                continue
            body = ready
        else:  # an arbitrary bundle of harvested signatures, any versions
            chosen = [harvested[i % len(harvested)][1] for i in picks] if harvested else []
            body = Release(SID, v, s.text, chosen, list(s.declines.values()))
        was_released = s.released is not None
        board.apply(_post(n, who, body))
        s = board.statements[SID]
        if s.released is not None:
            r = s.released
            # The released version is the one every non-declining party signed, and
            # the bundle verifies on its own.
            assert check_release(CID, PARTIES, r, REGISTRY) == ""
            assert {x.nation for x in r.approvals} == set(PARTIES) - set(s.declines)
            assert len(r.approvals) >= 2
            assert r.version == s.version and r.text == s.text
            if was_released:
                assert r is s.released  # nothing changes a release
    # Liveness: once every party that has not declined signs the current version, the
    # statement can be released — by those parties, if at least two remain.
    s = board.statements[SID]
    if s.released is None:
        needed = sorted(set(PARTIES) - set(s.declines))
        for i, who in enumerate(needed):
            sig = KEYS[who].private_key.sign(content_bytes(CID, SID, s.version, s.text,
                                                           PARTIES))
            board.apply(_post(100 + i, who, Approve(SID, s.version, KEYS[who].key_id, sig)))
        ready = board.ready(SID)
        assert (ready is not None) == (len(needed) >= 2)
        if ready is not None:
            assert board.apply(_post(200, needed[0], ready)).ok
            assert check_release(CID, PARTIES, ready, REGISTRY) == ""


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000),
       cuts=st.lists(st.tuples(st.sampled_from(NATIONS), st.sampled_from(NATIONS),
                               st.floats(0, 5000), st.floats(0, 4000)), max_size=4),
       amend=st.floats(0, 0.6), decline=st.floats(0, 0.4),
       before_camp_david=st.booleans())
def test_random_partitions_and_responses_converge_and_keep_the_rules(
        seed, cuts, amend, decline, before_camp_david):
    from trilink.sharing.policy import policy_for

    policy = (policy_for(None, dt.date(2022, 10, 3)) if before_camp_david
              else policy_for("trilateral-realtime"))
    model = ResponseModel(read=Delay(30, 1.0), join=Delay(200, 0.8), draft=Delay(600, 0.5),
                          approve=Delay(400, 0.8), amend_probability=amend,
                          decline_probability=decline)
    net = make_net(policy=policy, models={n: model for n in NATIONS}, seed=seed)
    net.cut = lambda a, b, t: any((a, b) == (x, y) and t0 <= t < t0 + w
                                  for x, y, t0, w in cuts)
    cid = net.open("KOR", ["USA", "JPN"])
    net.run()
    seen = {n: [p.msg_id for p in net.desk(n).consultations[cid].transcript()]
            for n in NATIONS}
    assert seen["USA"] == seen["JPN"] == seen["KOR"]
    assert len(set(seen["KOR"])) == len(seen["KOR"])
    folded = [net.desk(n).consultations[cid].folded for n in NATIONS]
    assert len({(f.state, f.all_joined_t_s, tuple(sorted(f.refused.items())))
                for f in folded}) == 1
    for f in folded:
        for s in f.board.statements.values():
            if s.released is not None:
                assert check_release(cid, NATIONS, s.released, net.desk("KOR").registry) == ""
                assert {x.nation for x in s.released.approvals} == set(NATIONS) - set(
                    s.declines)


consent_op = st.tuples(st.sampled_from(["consent", "consent", "consent_forged", "authorise",
                                        "authorise", "authorise_forged", "propose"]),
                       st.sampled_from((*PARTIES, "AUS")),
                       st.sampled_from(["military-action-korean-peninsula",
                                        "combat-operations-from-japan", "exercise"]))


@settings(max_examples=300, deadline=None)
@given(ops=st.lists(consent_op, max_size=30))
def test_no_action_is_authorised_without_the_signed_consent_the_rules_require(ops):
    from trilink.hotline.consent import (
        ConsentBook,
        carried_consents,
        consent_bytes,
        shipped_rules,
    )
    from trilink.hotline.wire import Authorise, Consent, Propose

    rules = shipped_rules()
    book = ConsentBook(CID, PARTIES, REGISTRY, rules)
    proposed = 0
    authorised = 0
    for n, (what, who, tag) in enumerate(ops, start=1):
        if what == "propose" or not book.actions:
            proposed += 1
            body = Propose(f"A{proposed}", tag, "act")
        else:
            action = list(book.actions.values())[n % len(book.actions)]
            if what == "authorise":  # carrying the consents held so far
                body = Authorise(action.action_id, carried_consents(action))
            elif what == "authorise_forged":  # consents signed with the wrong key
                fake = [Signature(n, KEYS[n].key_id, KEYS["AUS"].private_key.sign(
                    book.consent_content(action, n))) for n in action.required]
                body = Authorise(action.action_id, fake)
            else:
                signer = KEYS["AUS" if what == "consent_forged" else who]
                sig = signer.private_key.sign(consent_bytes(
                    CID, action.action_id, action.tag, action.description, action.proposer,
                    who))
                body = Consent(action.action_id, KEYS[who].key_id, sig)
        before = {a: x.authorised for a, x in book.actions.items()}
        book.apply(_post(n, who, body))
        for a in book.actions.values():
            if a.authorised:
                need = {r for rule in rules if rule.tag == a.tag for r in rule.requires}
                need.discard(a.proposer)
                assert set(a.required) == need
                assert need <= set(a.consents)
                for nation, c in a.consents.items():
                    assert nation in need
                    pub = REGISTRY.get(nation, c.key_id)
                    assert pub is not None
                    pub.verify(c.signature, book.consent_content(a, nation))
            elif before.get(a.action_id):
                raise AssertionError("an authorisation was undone")
        authorised = sum(a.authorised for a in book.actions.values())
    # Liveness: with every required consent in hand, the proposer can authorise.
    for a in book.actions.values():
        if a.authorised:
            continue
        for i, nation in enumerate(a.required):
            sig = KEYS[nation].private_key.sign(book.consent_content(a, nation))
            assert book.apply(_post(900 + i, nation, Consent(a.action_id, KEYS[nation].key_id,
                                                            sig))).ok or nation in a.consents
        assert book.apply(_post(990, a.proposer,
                                Authorise(a.action_id, carried_consents(a)))).ok
        authorised += 1
    assert authorised == sum(a.authorised for a in book.actions.values())


def test_an_authorisation_does_not_borrow_a_consent_it_did_not_carry():
    """A consent and an authorisation made at the same time may sort either way; the
    authorisation counts only the consents it carries."""
    from trilink.hotline.consent import ConsentBook, shipped_rules
    from trilink.hotline.wire import Authorise, Consent, Propose

    book = ConsentBook(CID, PARTIES, REGISTRY, shipped_rules())
    tag = "military-action-korean-peninsula"
    assert book.apply(Post("USA-1", CID, "USA", "nsa", 2, 1.0, Propose("A1", tag, "x"))).ok
    action = book.actions["A1"]
    sig = KEYS["KOR"].private_key.sign(book.consent_content(action, "KOR"))
    # Equal Lamport times: KOR's consent sorts before USA's authorisation.
    assert book.apply(Post("KOR-1", CID, "KOR", "nsa", 3, 2.0,
                           Consent("A1", KEYS["KOR"].key_id, sig))).ok
    verdict = book.apply(Post("USA-2", CID, "USA", "nsa", 3, 2.0, Authorise("A1", [])))
    assert not verdict.ok and "consent of KOR" in verdict.reason
    assert not action.authorised

"""HotlineDesk: one nation's hotline as a sans-I/O state machine.

Inputs: what the nation's authorities do (open, join, say, draft, approve, read …), the
hotline items its node accepted from partners, and the time (seconds since the epoch).
Outputs: :class:`Send` orders for the node (which seals them into signed envelopes),
notes for the audit log, and events for records. No clocks, no sockets.

Delivery and escalation. Every post goes to every other party as a :class:`Deliver`
for the attention of that party's authority at the consultation's level. The receiving
node answers with a :class:`Receipt` at once; the authority answers with a
:class:`Read` when it reads. When no read acknowledgement has come ``ack_deadline_s``
after a step, the sender takes the next step, and audits it:

1. **resend** on the same route (skipped if a receipt came: the post is there, unread);
2. **alternate route**: carried by a third party over agreements that allow both hops
   (skipped if a receipt came, or no third party may carry it);
3. **next authority up** (joint staff → defence ministry → NSA → leader's office;
   foreign ministry → NSA); later posts of the consultation go to that level too.

At the top of the ladder the desk keeps resending, less and less often, until a receipt
proves delivery (so transcripts converge after a partition), then gives up on the read.

Routes come from the policy (agreements in force): direct where an agreement covering
hotline traffic (or statements) joins the two nations, else through a third party to
which the originator released the post and which may exchange it directly with both.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Concatenate, Final, ParamSpec, TypeVar

import msgspec

from trilink.hotline.consent import (
    ConsentRule,
    carried_consents,
    consent_bytes,
    shipped_rules,
)
from trilink.hotline.consultation import Consultation, State
from trilink.hotline.errors import DeskError as DeskError
from trilink.hotline.journal import encode_entry
from trilink.hotline.statement import content_bytes, decline_bytes
from trilink.hotline.wire import (
    Amend,
    Approve,
    Authorise,
    Authority,
    Body,
    Conclude,
    Consent,
    Decline,
    Deliver,
    Draft,
    Item,
    Join,
    Lapse,
    Open,
    Post,
    Propose,
    Read,
    Receipt,
    Say,
    decode_item,
    describe,
    encode_item,
    superior,
)
from trilink.sharing.agreements import DataKind
from trilink.sharing.envelope import KeyRegistry, NodeKey
from trilink.sharing.policy import Direct, Policy

MAX_BACKOFF_S: Final = 900.0


@dataclass(frozen=True)
class DeskConfig:
    """Deadlines, in seconds."""

    # Wait this long for a read acknowledgement per step, beyond the route's round trip.
    ack_deadline_s: float = 120.0
    lapse_after_s: float = 6 * 3600.0  # the opener declares an unconcluded consultation lapsed
    give_up_after_s: float = 24 * 3600.0  # stop resending an undelivered post
    consent_rules: tuple[ConsentRule, ...] | None = None  # None: the shipped rules


@dataclass(frozen=True)
class Send:
    """An order to the node: deliver ``payload`` (an encoded hotline item) to ``to``.

    ``via`` is the third party that carries it (None: direct); ``latency_s`` the
    route's latency under the agreements (the simulation delays delivery by it).
    """

    to: str
    kind: DataKind
    payload: bytes
    rel_to: tuple[str, ...]
    via: str | None
    latency_s: float


@dataclass(frozen=True)
class AuditNote:
    """A line for the node's audit log: ``direction`` is ``escalated`` or ``rejected``."""

    t_s: float
    direction: str
    peer: str | None
    kind: str
    detail: str


@dataclass(frozen=True)
class HotlineEvent:
    """Something this desk's nation did (or refused), for records and reports."""

    t_s: float
    consultation: str
    nation: str
    authority: str
    what: str
    detail: str
    msg_id: str = ""


@dataclass
class DeskOutput:
    sends: list[Send] = field(default_factory=list)
    notes: list[AuditNote] = field(default_factory=list)
    events: list[HotlineEvent] = field(default_factory=list)
    delivered: list[tuple[Post, str]] = field(default_factory=list)  # (post, attention)

    def extend(self, other: DeskOutput) -> DeskOutput:
        self.sends += other.sends
        self.notes += other.notes
        self.events += other.events
        self.delivered += other.delivered
        return self


@dataclass
class _Pending:
    """A post on its way to one party, awaiting that party's read acknowledgement."""

    post: Post
    to: str
    attention: str
    sent_t_s: float
    due_s: float
    step: int = 0  # 0 sent, 1 resent, 2 alternate route, 3+ raised up the ladder
    receipt: bool = False
    at_top_since_s: float | None = None
    backoff_s: float = 0.0


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _journaled(fn: Callable[Concatenate[Any, _P], _R]) -> Callable[Concatenate[Any, _P], _R]:
    """Record a successful top-level call in the desk's journal (if one is attached);
    calls made from inside another journaled call are the replay's to repeat."""

    def wrapper(self: Any, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        self._depth += 1
        try:
            result = fn(self, *args, **kwargs)
        finally:
            self._depth -= 1
        if self.journal is not None and self._depth == 0:
            self.journal(encode_entry(fn.__name__, args, kwargs))
        return result

    functools.update_wrapper(wrapper, fn)
    return wrapper


class HotlineDesk:
    """See the module docstring."""

    def __init__(self, nation: str, policy: Policy, epoch: dt.datetime, key: NodeKey,
                 registry: KeyRegistry, nations: Sequence[str],
                 config: DeskConfig | None = None,
                 rules: Sequence[ConsentRule] | None = None) -> None:
        if key.nation != nation:
            raise ValueError(f"key of {key.nation} given to the desk of {nation}")
        self.nation = nation
        self.policy = policy
        self.epoch = epoch
        self.key = key
        self.registry = registry
        self.nations = tuple(sorted(set(nations) | {nation}))
        self.config = config or DeskConfig()
        if rules is None:
            rules = (self.config.consent_rules if self.config.consent_rules is not None
                     else shipped_rules())
        self.rules = tuple(rules)
        self.consultations: dict[str, Consultation] = {}
        self.unread: dict[str, tuple[Post, str]] = {}  # msg_id → (post, attention)
        self.read_by: dict[str, str] = {}  # msg_id → authority that read it
        self.events: list[HotlineEvent] = []
        self.lamport = 0
        self._msg_counter = 0
        self._cons_counter = 0
        self._pending: dict[tuple[str, str], _Pending] = {}
        self._attention: dict[tuple[str, str], str] = {}  # (consultation, party) → level
        self._orphans: dict[str, list[tuple[Post, str]]] = {}
        self._reported_refusals: set[str] = set()
        # Where each successful input is recorded (trilink.hotline.journal), if anywhere.
        self.journal: Callable[[bytes], None] | None = None
        self._depth = 0

    # ------------------------------------------------------------------ routes
    def _when(self, t_s: float) -> dt.datetime:
        return self.epoch + dt.timedelta(seconds=t_s)

    def routes(self, to: str, kind: DataKind, rel_to: Sequence[str],
               t_s: float) -> list[tuple[str | None, float]]:
        """(via, latency_s) options to ``to``, best first: direct, then each third party
        on the release list that may exchange this kind directly with both ends."""
        when = self._when(t_s)
        rel = frozenset(rel_to)
        out: list[tuple[str | None, float]] = []
        first = self.policy.route(self.nation, to, kind, when, rel, self.nation)
        if isinstance(first, Direct):
            out.append((None, first.latency_s))
        for via in self.nations:
            if via in (self.nation, to) or via not in rel:
                continue
            a = self.policy.route(self.nation, via, kind, when, rel, self.nation)
            b = self.policy.route(via, to, kind, when, rel, self.nation)
            if isinstance(a, Direct) and isinstance(b, Direct):
                out.append((via, a.latency_s + b.latency_s))
        return out

    def _send(self, to: str, item: Item, kind: DataKind, rel_to: Sequence[str], t_s: float,
              alternate: bool = False) -> Send | None:
        options = self.routes(to, kind, rel_to, t_s)
        if alternate:
            options = [o for o in options if o[0] is not None][:1]
        if not options:
            return None
        via, latency = options[0]
        return Send(to, kind, encode_item(item), tuple(sorted(rel_to)), via, latency)

    def _deadline(self, send: Send | None) -> float:
        """Seconds to wait for an acknowledgement of ``send``: the deadline plus the
        route's round trip (the answer may come back another way; assume the same)."""
        return self.config.ack_deadline_s + (2.0 * send.latency_s if send else 0.0)

    # ------------------------------------------------------------------ posting
    def _new_post(self, t_s: float, consultation: str, authority: str, body: Body) -> Post:
        """Number and stamp a post of ours; refuses (DeskError) one a receiver would call
        malformed (an unknown authority, an over-long text …), before any state changes."""
        post = Post(f"{self.nation}-{self._msg_counter + 1}", consultation, self.nation,
                    str(authority), self.lamport + 1, float(t_s), body)
        try:
            decode_item(encode_item(Deliver(post, post.authority)))
        except (msgspec.ValidationError, msgspec.DecodeError, OverflowError) as exc:
            raise DeskError(f"cannot post: {exc}") from None
        self._msg_counter += 1
        self.lamport += 1
        return post

    def _event(self, t_s: float, consultation: str, authority: str, what: str, detail: str,
               msg_id: str = "") -> HotlineEvent:
        ev = HotlineEvent(round(float(t_s), 3), consultation, self.nation, str(authority),
                          what, detail, msg_id)
        self.events.append(ev)
        return ev

    @_journaled
    def open(self, t_s: float, parties: Sequence[str], topic: str,
             authority: Authority | str = Authority.DEFENCE_MINISTRY, trigger: str = "",
             fact_sheet: str = "") -> tuple[str, DeskOutput]:
        """Open a consultation with ``parties`` (this nation is added); returns its id."""
        members = sorted(set(parties) | {self.nation})
        if len(members) < 2:
            raise DeskError("a consultation needs at least one other party")
        unknown = [p for p in members if p not in self.nations]
        if unknown:
            raise DeskError(f"parties: {', '.join(unknown)} not known to this desk "
                            f"(known: {', '.join(self.nations)})")
        try:
            level = str(Authority(authority))
        except ValueError:
            raise DeskError(f"authority {authority!r}: expected one of "
                            + ", ".join(a.value for a in Authority)) from None
        cid = f"{self.nation}-{self._cons_counter + 1}"
        body = Open(topic, members, level, trigger, fact_sheet)
        post = self._new_post(t_s, cid, level, body)
        self._cons_counter += 1
        self.consultations[cid] = Consultation(post, self.registry, self.rules)
        for p in members:
            self._attention[(cid, p)] = level
        out = DeskOutput()
        out.events.append(self._event(t_s, cid, level, "open", topic, post.msg_id))
        out.extend(self._distribute(post, t_s))
        return cid, out

    @_journaled
    def post(self, t_s: float, consultation: str, body: Body,
             authority: Authority | str | None = None) -> tuple[str, DeskOutput]:
        """Add a post of this nation to a consultation and deliver it to the others."""
        c = self.consultations.get(consultation)
        if c is None:
            raise DeskError(f"no consultation {consultation!r} at {self.nation}")
        if self.nation not in c.parties:
            raise DeskError(f"{self.nation} is not a party to {consultation}")
        level = str(authority or self._attention.get((consultation, self.nation), _level(c)))
        post = self._new_post(t_s, consultation, level, body)
        why = c.admit(post)
        if why:  # cannot happen for a well-formed desk; never send what we do not hold
            raise DeskError(f"{post.msg_id} not added to {consultation}: {why}")
        out = DeskOutput()
        detail = describe(body)
        out.events.append(self._event(t_s, consultation, level, post.what, detail, post.msg_id))
        refusal = c.folded.refused.get(post.msg_id)
        if refusal:  # our own post breaks a rule: it stays (others refuse it too), say so
            out.notes.append(AuditNote(t_s, "rejected", self.nation, str(post.kind), refusal))
            self._reported_refusals.add(post.msg_id)
        out.extend(self._distribute(post, t_s))
        return post.msg_id, out

    def _distribute(self, post: Post, t_s: float) -> DeskOutput:
        c = self.consultations[post.consultation]
        out = DeskOutput()
        for p in c.parties:
            if p == self.nation:
                continue
            attention = self._attention.get((c.id, p), _level(c))
            send = self._send(p, Deliver(post, attention), post.kind, c.parties, t_s)
            pend = _Pending(post, p, attention, t_s, t_s + self._deadline(send))
            self._pending[(post.msg_id, p)] = pend
            if send is None:
                out.notes.append(AuditNote(t_s, "escalated", p, str(post.kind),
                                           f"{post.msg_id}: no route to {p} under the "
                                           "agreements in force; will retry"))
            else:
                out.sends.append(send)
        return out

    # Convenience wrappers: what authorities do --------------------------------------
    @_journaled
    def join(self, t_s: float, consultation: str, fact: dict[str, Any] | None = None,
             authority: str | None = None) -> DeskOutput:
        text = "" if fact is None else json.dumps(fact, sort_keys=True)
        return self.post(t_s, consultation, Join(text), authority)[1]

    @_journaled
    def say(self, t_s: float, consultation: str, text: str,
            authority: str | None = None, fact: dict[str, Any] | None = None) -> DeskOutput:
        fact_text = "" if fact is None else json.dumps(fact, sort_keys=True)
        return self.post(t_s, consultation, Say(text, fact_text), authority)[1]

    @_journaled
    def conclude(self, t_s: float, consultation: str, reason: str = "",
                 authority: str | None = None) -> DeskOutput:
        return self.post(t_s, consultation, Conclude(reason), authority)[1]

    @_journaled
    def draft(self, t_s: float, consultation: str, text: str,
              authority: str | None = None) -> tuple[str, DeskOutput]:
        """Draft a statement (and approve it); returns the statement id."""
        c = self._get(consultation)
        sid = f"{consultation}/S{len(c.folded.board.statements) + 1}"
        out = self.post(t_s, consultation, Draft(sid, text), authority)[1]
        return sid, out.extend(self.approve(t_s, consultation, sid, authority))

    @_journaled
    def amend(self, t_s: float, consultation: str, statement_id: str, text: str,
              authority: str | None = None) -> DeskOutput:
        """Amend to a new version (and approve it)."""
        st = self._statement(consultation, statement_id)
        out = self.post(t_s, consultation, Amend(statement_id, st.version + 1, text),
                        authority)[1]
        return out.extend(self.approve(t_s, consultation, statement_id, authority))

    @_journaled
    def approve(self, t_s: float, consultation: str, statement_id: str,
                authority: str | None = None, version: int | None = None) -> DeskOutput:
        """Sign the current version (or ``version``, e.g. a stale one in tests)."""
        c = self._get(consultation)
        st = self._statement(consultation, statement_id)
        v = st.version if version is None else version
        text = dict(st.history).get(v, st.text)
        sig = self.key.private_key.sign(content_bytes(c.id, statement_id, v, text, c.parties))
        body = Approve(statement_id, v, self.key.key_id, sig)
        out = self.post(t_s, consultation, body, authority)[1]
        return out.extend(self._release_if_ready(t_s, consultation, statement_id, authority))

    @_journaled
    def decline(self, t_s: float, consultation: str, statement_id: str, reason: str = "",
                authority: str | None = None) -> DeskOutput:
        c = self._get(consultation)
        st = self._statement(consultation, statement_id)
        sig = self.key.private_key.sign(decline_bytes(c.id, statement_id, self.nation))
        body = Decline(statement_id, st.version, reason, self.key.key_id, sig)
        return self.post(t_s, consultation, body, authority)[1]

    def _release_if_ready(self, t_s: float, consultation: str, statement_id: str,
                          authority: str | None = None) -> DeskOutput:
        c = self._get(consultation)
        st = c.folded.board.statements.get(statement_id)
        # The drafter releases (one release, not one per party); a party takes over if
        # the drafter has declined.
        if st is None or (st.drafter != self.nation and st.drafter not in st.declines):
            return DeskOutput()
        if st.drafter in st.declines and self.nation != min(
                set(c.parties) - set(st.declines)):
            return DeskOutput()
        release = c.folded.board.ready(statement_id)
        if release is None:
            return DeskOutput()
        return self.post(t_s, consultation, release, authority)[1]

    @_journaled
    def propose(self, t_s: float, consultation: str, action_id: str, tag: str,
                description: str, authority: str | None = None) -> DeskOutput:
        return self.post(t_s, consultation, Propose(action_id, tag, description),
                         authority)[1]

    @_journaled
    def consent(self, t_s: float, consultation: str, action_id: str,
                authority: str | None = None) -> DeskOutput:
        c = self._get(consultation)
        action = c.folded.consents.actions.get(action_id)
        if action is None:
            raise DeskError(f"no action {action_id!r} proposed in {consultation}")
        sig = self.key.private_key.sign(consent_bytes(
            c.id, action.action_id, action.tag, action.description, action.proposer,
            self.nation))
        return self.post(t_s, consultation, Consent(action_id, self.key.key_id, sig),
                         authority)[1]

    @_journaled
    def authorise(self, t_s: float, consultation: str, action_id: str,
                  authority: str | None = None) -> DeskOutput:
        """Mark our action authorised, carrying every consent we hold for it."""
        action = self._get(consultation).folded.consents.actions.get(action_id)
        carried = carried_consents(action) if action is not None else []
        return self.post(t_s, consultation, Authorise(action_id, carried), authority)[1]

    def _get(self, consultation: str) -> Consultation:
        c = self.consultations.get(consultation)
        if c is None:
            raise DeskError(f"no consultation {consultation!r} at {self.nation}")
        return c

    def _statement(self, consultation: str, statement_id: str) -> Any:
        st = self._get(consultation).folded.board.statements.get(statement_id)
        if st is None:
            raise DeskError(f"no statement {statement_id!r} in {consultation}")
        return st

    # ------------------------------------------------------------------ reading
    @_journaled
    def read(self, t_s: float, msg_id: str, authority: str | None = None) -> DeskOutput:
        """An authority of this nation reads a delivered post: acknowledge it."""
        out = DeskOutput()
        entry = self.unread.pop(msg_id, None)
        if entry is None:
            return out
        post, attention = entry
        who = str(authority or attention)
        self.read_by[msg_id] = who
        out.events.append(self._event(t_s, post.consultation, who, "read",
                                      f"{post.msg_id} ({post.what}) from {post.origin}",
                                      post.msg_id))
        c = self.consultations.get(post.consultation)
        rel = c.parties if c is not None else (self.nation, post.origin)
        send = self._send(post.origin, Read(msg_id, post.consultation, who), DataKind.HOTLINE,
                          rel, t_s)
        if send is not None:
            out.sends.append(send)
        return out

    # ------------------------------------------------------------------ receiving
    @_journaled
    def on_item(self, originator: str, payload: bytes, t_s: float) -> DeskOutput:
        """A hotline item from ``originator`` (the signer of the envelope that carried it,
        already verified and allowed by policy)."""
        out = DeskOutput()
        try:
            item = decode_item(payload)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            out.notes.append(AuditNote(t_s, "rejected", originator, "hotline",
                                       f"malformed hotline item: {exc}"))
            return out
        if isinstance(item, Receipt | Read):
            pend = self._pending.get((item.msg_id, originator))
            if pend is not None:
                pend.receipt = True
                if isinstance(item, Read):
                    del self._pending[(item.msg_id, originator)]
            return out
        if not isinstance(item, Deliver):
            out.notes.append(AuditNote(t_s, "rejected", originator, "hotline",
                                       "a forward reached the desk unwrapped"))
            return out
        post = item.post
        if post.origin != originator:
            out.notes.append(AuditNote(
                t_s, "rejected", originator, str(post.kind),
                f"{post.msg_id} claims origin {post.origin} but was signed by {originator}"))
            out.events.append(self._event(t_s, post.consultation, "", "reject",
                                          f"{post.msg_id}: origin is not its signer"))
            return out
        return out.extend(self._accept(post, item.attention, t_s))

    def _accept(self, post: Post, attention: str, t_s: float) -> DeskOutput:
        out = DeskOutput()
        c = self.consultations.get(post.consultation)
        if c is None and isinstance(post.body, Open):
            why = Consultation.check_opening(post)
            if not why and self.nation not in post.body.parties:
                why = f"{self.nation} is not a party to {post.consultation}"
            if why:
                return self._refuse(out, post, why, t_s)
            c = Consultation(post, self.registry, self.rules)
            self.consultations[post.consultation] = c
            for p in c.parties:
                self._attention[(c.id, p)] = post.body.authority
            self.lamport = max(self.lamport, post.lamport)
            out.extend(self._receipt_and_deliver(post, attention, t_s, new=True))
            for orphan, att in self._orphans.pop(c.id, []):
                out.extend(self._accept(orphan, att, t_s))
            return out
        if c is None:  # before its opening: keep it, acknowledge delivery
            held = self._orphans.setdefault(post.consultation, [])
            if all(p.msg_id != post.msg_id for p, _ in held):
                held.append((post, attention))
            send = self._send(post.origin, Receipt(post.msg_id, post.consultation),
                              DataKind.HOTLINE, (self.nation, post.origin), t_s)
            if send is not None:
                out.sends.append(send)
            return out
        why = c.admit(post)
        if why == "duplicate":
            return out.extend(self._receipt_and_deliver(post, attention, t_s, new=False))
        if why:
            return self._refuse(out, post, why, t_s)
        self.lamport = max(self.lamport, post.lamport)
        out.extend(self._receipt_and_deliver(post, attention, t_s, new=True))
        out.extend(self._report_refusals(c, t_s))
        # A party that now holds every approval of the drafter's statement releases it.
        if isinstance(post.body, Approve | Decline):
            out.extend(self._release_if_ready(t_s, c.id, post.body.statement_id))
        return out

    def _report_refusals(self, c: Consultation, t_s: float) -> DeskOutput:
        """Audit what the transcript now refuses, and what it no longer does: a post can
        arrive before an earlier one it depends on (a join lost and resent), be refused,
        then stand once the earlier post is in — the log says both."""
        out = DeskOutput()
        refused = c.folded.refused
        for msg_id, reason in refused.items():
            if msg_id not in self._reported_refusals:
                self._reported_refusals.add(msg_id)
                bad = c.posts[msg_id]
                out.notes.append(AuditNote(t_s, "rejected", bad.origin, str(bad.kind),
                                           f"{msg_id} ({bad.what}): {reason}"))
                out.events.append(self._event(t_s, c.id, "", "reject",
                                              f"{msg_id} ({bad.what}) from {bad.origin}: "
                                              f"{reason}", msg_id))
        for msg_id in sorted(m for m in self._reported_refusals
                             if m in c.posts and m not in refused):
            self._reported_refusals.discard(msg_id)
            ok = c.posts[msg_id]
            detail = (f"{msg_id} ({ok.what}) from {ok.origin} now stands: an earlier post "
                      "it depends on has arrived")
            out.notes.append(AuditNote(t_s, "received", ok.origin, str(ok.kind), detail))
            out.events.append(self._event(t_s, c.id, "", "reinstate", detail, msg_id))
        return out

    def _refuse(self, out: DeskOutput, post: Post, why: str, t_s: float) -> DeskOutput:
        out.notes.append(AuditNote(t_s, "rejected", post.origin, str(post.kind),
                                   f"{post.msg_id} ({post.what}): {why}"))
        out.events.append(self._event(t_s, post.consultation, "", "reject",
                                      f"{post.msg_id} ({post.what}) from {post.origin}: {why}",
                                      post.msg_id))
        return out

    def _receipt_and_deliver(self, post: Post, attention: str, t_s: float,
                             new: bool) -> DeskOutput:
        out = DeskOutput()
        c = self.consultations[post.consultation]
        send = self._send(post.origin, Receipt(post.msg_id, post.consultation),
                          DataKind.HOTLINE, c.parties, t_s)
        if send is not None:
            out.sends.append(send)
        if post.msg_id in self.read_by:  # read already: the acknowledgement was lost
            again = self._send(post.origin, Read(post.msg_id, post.consultation,
                                                 self.read_by[post.msg_id]),
                               DataKind.HOTLINE, c.parties, t_s)
            if again is not None:
                out.sends.append(again)
            return out
        held = self.unread.get(post.msg_id)
        if new or held is None or _rank(attention) > _rank(held[1]):
            self.unread[post.msg_id] = (post, attention)
            out.delivered.append((post, attention))
            self._attention[(c.id, self.nation)] = max(
                attention, self._attention.get((c.id, self.nation), attention), key=_rank)
        return out

    # ------------------------------------------------------------------ time
    def next_wakeup_s(self) -> float | None:
        """When :meth:`tick` next has something to do (None: nothing pending)."""
        times = [p.due_s for p in self._pending.values()]
        for c in self.consultations.values():
            if c.opener == self.nation and not c.closed:
                times.append(c.opening.t_s + self.config.lapse_after_s)
        return min(times) if times else None

    @_journaled
    def tick(self, t_s: float) -> DeskOutput:
        """Take every escalation step and lapse that is due at ``t_s``."""
        out = DeskOutput()
        for key in sorted(self._pending, key=lambda k: (self._pending[k].due_s, k)):
            pend = self._pending.get(key)
            if pend is not None and pend.due_s <= t_s:
                out.extend(self._escalate(pend, t_s))
        for c in list(self.consultations.values()):
            if (c.opener == self.nation and not c.closed
                    and t_s >= c.opening.t_s + self.config.lapse_after_s):
                hours = self.config.lapse_after_s / 3600.0
                out.extend(self.post(t_s, c.id, Lapse(
                    f"not concluded within {hours:g} h of opening"))[1])
        return out

    def _escalate(self, pend: _Pending, t_s: float) -> DeskOutput:
        out = DeskOutput()
        post, to = pend.post, pend.to
        c = self.consultations[post.consultation]
        deadline = self.config.ack_deadline_s
        note = ""
        send: Send | None = None
        if pend.at_top_since_s is not None:
            # Top of the ladder: only delivery matters now.
            if pend.receipt or t_s - pend.sent_t_s > self.config.give_up_after_s:
                del self._pending[(post.msg_id, to)]
                why = ("delivered, never read" if pend.receipt
                       else f"undelivered after {self.config.give_up_after_s:g} s")
                note = f"{post.msg_id} to {to}: gave up ({why})"
                out.notes.append(AuditNote(t_s, "escalated", to, str(post.kind), note))
                out.events.append(self._event(t_s, c.id, pend.attention, "escalate", note,
                                              post.msg_id))
                return out
            pend.backoff_s = min(MAX_BACKOFF_S, max(deadline, 2 * pend.backoff_s))
            pend.due_s = t_s + pend.backoff_s
            send = self._send(to, Deliver(post, pend.attention), post.kind, c.parties, t_s,
                              alternate=pend.step % 2 == 1)
            send = send or self._send(to, Deliver(post, pend.attention), post.kind,
                                      c.parties, t_s)
            pend.step += 1
            note = f"{post.msg_id} to {to}: still no receipt; resent"
        elif pend.step == 0 and not pend.receipt:
            pend.step = 1
            send = self._send(to, Deliver(post, pend.attention), post.kind, c.parties, t_s)
            note = (f"{post.msg_id} to {to}/{pend.attention}: no acknowledgement in "
                    f"{deadline:g} s; resent")
        elif (pend.step <= 1 and not pend.receipt
              and (send := self._send(to, Deliver(post, pend.attention), post.kind,
                                      c.parties, t_s, alternate=True)) is not None):
            pend.step = 2
            note = (f"{post.msg_id} to {to}/{pend.attention}: no acknowledgement; "
                    f"alternate route via {send.via}")
        else:
            up = superior(pend.attention)
            pend.step = max(pend.step, 2) + 1
            if up is None:
                pend.at_top_since_s = t_s
                pend.backoff_s = deadline
                note = (f"{post.msg_id} to {to}/{pend.attention}: no acknowledgement at the "
                        "top of the ladder")
            else:
                old, pend.attention = pend.attention, str(up)
                self._attention[(c.id, to)] = max(str(up), self._attention.get(
                    (c.id, to), str(up)), key=_rank)
                send = self._send(to, Deliver(post, pend.attention), post.kind, c.parties,
                                  t_s, alternate=not pend.receipt)
                send = send or self._send(to, Deliver(post, pend.attention), post.kind,
                                          c.parties, t_s)
                note = (f"{post.msg_id} to {to}: {to}/{old} did not acknowledge; raised to "
                        f"{to}/{up}")
        pend.due_s = t_s + (pend.backoff_s if pend.at_top_since_s is not None
                            else self._deadline(send))
        if send is not None:
            out.sends.append(send)
        out.notes.append(AuditNote(t_s, "escalated", to, str(post.kind), note))
        out.events.append(self._event(t_s, c.id, pend.attention, "escalate", note,
                                      post.msg_id))
        return out

    # ------------------------------------------------------------------ views
    def pending(self) -> list[tuple[str, str, int, bool]]:
        """(msg_id, party, step, receipt) of every post awaiting a read acknowledgement."""
        return sorted((p.post.msg_id, p.to, p.step, p.receipt) for p in self._pending.values())

    def state_of(self, consultation: str) -> State:
        return self._get(consultation).state


_ORDER = [str(a) for a in (Authority.JOINT_STAFF, Authority.DEFENCE_MINISTRY,
                           Authority.FOREIGN_MINISTRY, Authority.NSA, Authority.LEADER_OFFICE)]


def _rank(authority: str) -> int:
    """Height on the ladder (defence and foreign ministries share a rung)."""
    a = str(authority)
    if a not in _ORDER:
        return -1
    return {0: 0, 1: 1, 2: 1, 3: 2, 4: 3}[_ORDER.index(a)]


def _level(c: Consultation) -> str:
    body = c.opening.body
    return body.authority if isinstance(body, Open) else str(Authority.DEFENCE_MINISTRY)


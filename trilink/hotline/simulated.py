"""Simulated authorities: the people behind a desk, for runs and exercises.

They read what is delivered to them, join consultations, draft, approve (or amend, or
decline) joint statements and conclude — each after a delay drawn from the response
model (log-normal: a median and a spread), from a seeded generator per nation. An
authority may be *unavailable* for a whole consultation (drawn once per consultation
and level): it never reads, and the sender's escalation ladder has to find someone who
does. Everything they do goes through the desk's public methods, like a person at a
console would.

:class:`Agenda` is the one scheduler of their plans, sans I/O: the simulation's driver
(``trilink.sim.federation``, through :func:`plans_for`) and a live node
(``trilink.live.node``) hand it each desk output and carry out what falls due, on their
own clocks.
"""

from __future__ import annotations

import heapq
import itertools
import math
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from trilink.hotline.consultation import Consultation, State
from trilink.hotline.desk import DeskError, DeskOutput, HotlineDesk
from trilink.hotline.statement import StatementState
from trilink.hotline.wire import Amend, Draft, Join, Open, Post, Release

Act = Callable[[HotlineDesk, float], DeskOutput]


@dataclass(frozen=True)
class Delay:
    """A log-normal delay: ``median_s`` and ``sigma`` (of the log)."""

    median_s: float
    sigma: float = 0.5

    def draw(self, rng: np.random.Generator) -> float:
        return float(self.median_s * math.exp(self.sigma * rng.standard_normal()))


@dataclass(frozen=True)
class ResponseModel:
    """How one nation's authorities respond (seconds)."""

    read: Delay = Delay(45.0, 0.8)
    join: Delay = Delay(600.0, 0.5)
    draft: Delay = Delay(3600.0, 0.4)
    approve: Delay = Delay(2400.0, 0.5)
    conclude: Delay = Delay(900.0, 0.5)
    amend_probability: float = 0.0
    decline_probability: float = 0.0
    unavailable: Mapping[str, float] = field(default_factory=dict)  # authority → P(absent)
    statement_text: str = ("The three parties condemn the launch as a violation of UN "
                           "Security Council resolutions and will keep consulting closely.")


@dataclass(frozen=True)
class Scheduled:
    t_s: float
    label: str
    act: Act


class SimAuthorities:
    """One nation's simulated authorities (see the module docstring)."""

    def __init__(self, nation: str, model: ResponseModel, seed: int,
                 facts: Callable[[str], dict[str, object]] | None = None,
                 salt: str = "") -> None:
        """``facts(consultation)``: what this nation adds when it joins (its warnings);
        ``salt`` (e.g. the scenario id) makes different scenarios draw differently."""
        self.nation = nation
        self.model = model
        self.facts = facts or (lambda cid: {})
        key = zlib.crc32(f"hotline-authorities/{salt}/{nation}".encode())
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, key]))
        self._absent: dict[tuple[str, str], bool] = {}
        self._amended: set[str] = set()
        self._drafted: set[str] = set()
        self._concluding: set[str] = set()

    def absent(self, consultation: str, authority: str) -> bool:
        key = (consultation, authority)
        if key not in self._absent:
            p = self.model.unavailable.get(authority, 0.0)
            self._absent[key] = bool(p > 0.0 and self.rng.random() < p)
        return self._absent[key]

    def react(self, desk: HotlineDesk, out: DeskOutput, now_s: float) -> list[Scheduled]:
        """What the authorities will do about a desk's output (deliveries, own events)."""
        plans: list[Scheduled] = []
        for post, attention in out.delivered:
            if self.absent(post.consultation, attention):
                continue
            t_read = now_s + self.model.read.draw(self.rng)
            plans.append(Scheduled(t_read, f"read {post.msg_id}",
                                   _reader(post.msg_id, attention)))
            plans += self._respond(desk, post, t_read)
        for ev in out.events:
            if ev.what == "release" or (ev.what == "join" and ev.nation == self.nation):
                plans += self._after_change(desk, ev.consultation, now_s)
        return plans

    def _respond(self, desk: HotlineDesk, post: Post, t_read: float) -> list[Scheduled]:
        body, cid = post.body, post.consultation
        if isinstance(body, Open):
            # Two of us opened at nearly the same time: keep the earlier consultation
            # (opening time, then nation code), conclude ours as merged into it.
            mine = [c for c in desk.consultations.values()
                    if c.opener == self.nation and not c.closed and c.id != cid]
            if any((c.opening.t_s, c.opener) < (post.t_s, post.origin) for c in mine):
                return []
            plans = [Scheduled(t_read, f"merge {c.id}", _concluder(c.id, f"merged into {cid}"))
                     for c in mine]
            t = t_read + self.model.join.draw(self.rng)
            return [*plans, Scheduled(t, f"join {cid}", _joiner(cid, self.facts))]
        if isinstance(body, Draft | Amend):
            sid = body.statement_id
            t = t_read + self.model.approve.draw(self.rng)
            u = self.rng.random()
            if u < self.model.decline_probability:
                return [Scheduled(t, f"decline {sid}", _decliner(cid, sid))]
            if (u < self.model.decline_probability + self.model.amend_probability
                    and sid not in self._amended):
                self._amended.add(sid)
                return [Scheduled(t, f"amend {sid}", _amender(cid, sid))]
            return [Scheduled(t, f"approve {sid}", _approver(cid, sid))]
        if isinstance(body, Join | Release):
            return self._after_change(desk, cid, t_read)
        return []

    def _after_change(self, desk: HotlineDesk, cid: str, now_s: float) -> list[Scheduled]:
        """The opener drafts once all have joined, and concludes once a statement is out."""
        c = desk.consultations.get(cid)
        if c is None or c.opener != self.nation or c.closed:
            return []
        f = c.folded
        released = any(st.released is not None for st in f.board.statements.values())
        if released and cid not in self._concluding:
            self._concluding.add(cid)
            t = now_s + self.model.conclude.draw(self.rng)
            return [Scheduled(t, f"conclude {cid}",
                              _concluder(cid, "joint statement released"))]
        if f.state == State.ALL_JOINED and cid not in self._drafted:
            self._drafted.add(cid)
            t = now_s + self.model.draft.draw(self.rng)
            return [Scheduled(t, f"draft {cid}", _drafter(cid, self.model.statement_text))]
        return []


def plans_for(authorities: SimAuthorities, desk: HotlineDesk, out: DeskOutput,
              now_s: float) -> list[Scheduled]:
    """What ``authorities`` will do about one desk output seen at ``now_s``, each plan due
    no earlier than ``now_s`` — the rule every driver follows (only deliveries and
    desk events give them something to react to)."""
    if not (out.delivered or out.events):
        return []
    return [p if p.t_s >= now_s else Scheduled(now_s, p.label, p.act)
            for p in authorities.react(desk, out, now_s)]


class Agenda:
    """One nation's simulated authorities and their plans in time order (sans I/O).

    A driver calls :meth:`observe` with every output of the nation's desk, asks
    :meth:`next_due_s` when to come back, and takes each plan due with :meth:`pop_due`,
    running ``plan.act(desk, t_s)`` on its own clock and handing the desk's output to
    the node (``NationalNode.emit``) — and back to :meth:`observe`. Plans due at the same
    time come out in the order they were made."""

    def __init__(self, authorities: SimAuthorities) -> None:
        self.authorities = authorities
        self._plans: list[tuple[float, int, Scheduled]] = []
        self._order = itertools.count()

    def __len__(self) -> int:
        return len(self._plans)

    def observe(self, desk: HotlineDesk, out: DeskOutput, now_s: float) -> None:
        for plan in plans_for(self.authorities, desk, out, now_s):
            heapq.heappush(self._plans, (plan.t_s, next(self._order), plan))

    def next_due_s(self) -> float | None:
        return self._plans[0][0] if self._plans else None

    def pop_due(self, t_s: float) -> Scheduled | None:
        """The earliest plan due at or before ``t_s`` (None: nothing due yet)."""
        if not self._plans or self._plans[0][0] > t_s:
            return None
        return heapq.heappop(self._plans)[2]


def _safe(act: Act) -> Act:
    """People act on what they see; a step the desk refuses (closed, superseded) is
    simply not taken."""

    def run(desk: HotlineDesk, t_s: float) -> DeskOutput:
        try:
            return act(desk, t_s)
        except DeskError:
            return DeskOutput()

    return run


def _while_open(cid: str, act: Callable[[HotlineDesk, float, Consultation], DeskOutput | None]
                ) -> Act:
    """A step on consultation ``cid``, taken only while it is open (and safely): ``act``
    gets the consultation too, and returns None to skip the step."""

    def run(desk: HotlineDesk, t_s: float) -> DeskOutput:
        c = desk.consultations.get(cid)
        if c is None or c.closed:
            return DeskOutput()
        return act(desk, t_s, c) or DeskOutput()

    return _safe(run)


def _statement(c: Consultation, sid: str) -> StatementState | None:
    """The statement while it can still be acted on (drafted, not yet released)."""
    st = c.folded.board.statements.get(sid)
    return st if st is not None and st.released is None else None


def _reader(msg_id: str, authority: str) -> Act:
    return _safe(lambda desk, t: desk.read(t, msg_id, authority))


def _joiner(cid: str, facts: Callable[[str], dict[str, object]]) -> Act:
    return _while_open(cid, lambda desk, t, c: None if desk.nation in c.folded.joined
                       else desk.join(t, cid, facts(cid) or None))


def _drafter(cid: str, text: str) -> Act:
    return _while_open(cid, lambda desk, t, c: desk.draft(t, cid, text)[1])


def _approver(cid: str, sid: str) -> Act:
    def act(desk: HotlineDesk, t: float, c: Consultation) -> DeskOutput | None:
        st = _statement(c, sid)
        if st is None or desk.nation in st.approvals:
            return None
        return desk.approve(t, cid, sid)
    return _while_open(cid, act)


def _amender(cid: str, sid: str) -> Act:
    def act(desk: HotlineDesk, t: float, c: Consultation) -> DeskOutput | None:
        st = _statement(c, sid)
        return None if st is None else desk.amend(
            t, cid, sid, st.text + f" ({desk.nation} amendment)")
    return _while_open(cid, act)


def _decliner(cid: str, sid: str) -> Act:
    return _while_open(cid, lambda desk, t, c: desk.decline(
        t, cid, sid, "cannot associate itself with the text"))


def _concluder(cid: str, reason: str) -> Act:
    return _while_open(cid, lambda desk, t, c: desk.conclude(t, cid, reason))

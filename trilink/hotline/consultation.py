"""A consultation: its transcript, and the state every node folds from it.

The transcript is the set of posts a node holds, read in the agreed order
(:attr:`Post.order_key`: Lamport time, origin, counter). Everything else — the state
(opened → all joined → concluded / lapsed; before all have joined only the opener may
conclude, e.g. when it merges a consultation into another), the statements, the consents, and which
posts were refused and why — is a pure function of that ordered set. So two nodes that
hold the same posts agree on all of it, whatever order the posts reached them in; after
a partition heals and the missing posts are delivered, the transcripts converge.

Admission (before a post enters the transcript) checks only what does not depend on
order: the post is the consultation's, its origin is a party, its id is the origin's.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from trilink.hotline.consent import ConsentBook, ConsentRule
from trilink.hotline.statement import StatementBoard
from trilink.hotline.wire import (
    Authorise,
    Conclude,
    Consent,
    Join,
    Lapse,
    Open,
    Post,
    Propose,
    counter_of,
)
from trilink.sharing.envelope import KeyRegistry


class State(enum.StrEnum):
    OPENED = "opened"
    ALL_JOINED = "all_joined"
    CONCLUDED = "concluded"
    LAPSED = "lapsed"


@dataclass
class Folded:
    """What the ordered transcript says."""

    state: State
    joined: dict[str, float]  # party → t_s of its join (the opener at opening)
    all_joined_t_s: float | None
    concluded_t_s: float | None
    lapsed_t_s: float | None
    board: StatementBoard
    consents: ConsentBook
    refused: dict[str, str] = field(default_factory=dict)  # msg_id → why


class Consultation:
    """One consultation as one node holds it (see the module docstring)."""

    def __init__(self, opening: Post, registry: KeyRegistry,
                 rules: Sequence[ConsentRule] = ()) -> None:
        if not isinstance(opening.body, Open):
            raise ValueError("a consultation starts with an Open post")
        self.id = opening.consultation
        self.opening = opening
        self.opener = opening.origin
        self.parties: tuple[str, ...] = tuple(sorted(set(opening.body.parties)))
        self.registry = registry
        self.rules = tuple(rules)
        self.posts: dict[str, Post] = {opening.msg_id: opening}
        self._folded: Folded | None = None

    @staticmethod
    def check_opening(post: Post) -> str:
        """'' if ``post`` can open a consultation, else why not."""
        body = post.body
        if not isinstance(body, Open):
            return "not an Open post"
        if not post.consultation.startswith(f"{post.origin}-"):
            return f"consultation id {post.consultation!r} is not {post.origin}'s"
        if not post.msg_id.startswith(f"{post.origin}-"):
            return f"message id {post.msg_id!r} is not {post.origin}'s"
        parties = set(body.parties)
        if post.origin not in parties or len(parties) < 2:
            return "a consultation needs its opener and at least one other party"
        return ""

    # -- admission ----------------------------------------------------------------
    def admit(self, post: Post) -> str:
        """Add ``post``; returns '' (added), 'duplicate', or why it was refused."""
        if post.consultation != self.id:
            return f"post of {post.consultation} offered to {self.id}"
        if post.msg_id in self.posts:
            if self.posts[post.msg_id] != post:
                # The origin sent different posts under one id (equivocation): keep the
                # first, refuse this one, and say so — transcripts cannot agree on it.
                return f"{post.msg_id} conflicts with the post already held under that id"
            return "duplicate"
        if post.origin not in self.parties:
            return (f"{post.origin} is not a party to {self.id} "
                    f"({', '.join(self.parties)})")
        if not post.msg_id.startswith(f"{post.origin}-"):
            return f"message id {post.msg_id!r} is not {post.origin}'s"
        if isinstance(post.body, Open):
            return f"{self.id} is already open"
        if post.lamport <= self.opening.lamport:
            return f"{post.msg_id} claims to precede the opening of {self.id}"
        # One origin's posts keep its own order: a later post (higher counter) may not
        # claim an earlier Lamport time than one it sent before (no backdating behind
        # its own approvals, say), nor share one.
        n = counter_of(post.msg_id)
        for other in self.posts.values():
            if other.origin != post.origin:
                continue
            m = counter_of(other.msg_id)
            if (m < n and other.lamport >= post.lamport) or (
                    m > n and other.lamport <= post.lamport):
                return (f"{post.msg_id} (Lamport {post.lamport}) is out of order with "
                        f"{other.msg_id} (Lamport {other.lamport}) of the same origin")
        self.posts[post.msg_id] = post
        self._folded = None
        return ""

    # -- reading --------------------------------------------------------------------
    def transcript(self) -> list[Post]:
        """Every post held, in the agreed order."""
        return sorted(self.posts.values(), key=lambda p: p.order_key)

    @property
    def folded(self) -> Folded:
        if self._folded is None:
            self._folded = self._fold()
        return self._folded

    @property
    def state(self) -> State:
        return self.folded.state

    @property
    def closed(self) -> bool:
        return self.state in (State.CONCLUDED, State.LAPSED)

    def _fold(self) -> Folded:
        f = Folded(State.OPENED, {self.opener: self.opening.t_s}, None, None, None,
                   StatementBoard(self.id, self.parties, self.registry),
                   ConsentBook(self.id, self.parties, self.registry, self.rules))
        for post in self.transcript():
            if post is self.opening:
                continue
            why = self._apply(f, post)
            if why:
                f.refused[post.msg_id] = why
        return f

    def _apply(self, f: Folded, post: Post) -> str:
        body = post.body
        if f.state in (State.CONCLUDED, State.LAPSED):
            return f"{self.id} was already {f.state}"
        if isinstance(body, Join):
            if post.origin in f.joined:
                return f"{post.origin} had already joined"
            f.joined[post.origin] = post.t_s
            if set(f.joined) == set(self.parties):
                f.state, f.all_joined_t_s = State.ALL_JOINED, post.t_s
            return ""
        if post.origin not in f.joined:
            return f"{post.origin} has not joined {self.id}"
        if isinstance(body, Conclude):
            if f.state == State.OPENED and post.origin != self.opener:
                return (f"only the opener, {self.opener}, may conclude {self.id} before "
                        "every party has joined")
            f.state, f.concluded_t_s = State.CONCLUDED, post.t_s
            return ""
        if isinstance(body, Lapse):
            if post.origin != self.opener:
                return f"only the opener, {self.opener}, may declare {self.id} lapsed"
            f.state, f.lapsed_t_s = State.LAPSED, post.t_s
            return ""
        if isinstance(body, Propose | Consent | Authorise):
            verdict = f.consents.apply(post)
            return "" if verdict.ok else verdict.reason
        if post.kind == "statement":
            verdict = f.board.apply(post)
            return "" if verdict.ok else verdict.reason
        return ""  # Say

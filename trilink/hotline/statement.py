"""Joint statements: draft → approve / amend / decline → release, with multi-signatures.

Rules (applied by :class:`StatementBoard` in transcript order, so every node that holds
the same transcript reaches the same verdicts):

- ``Draft`` makes version 1; ``Amend`` by any party that has not declined makes version
  current + 1, and every approval so far is void;
- ``Approve`` counts only for the current version, from a party of the consultation that
  has not declined, with a valid Ed25519 signature over that version's content;
  an approval of an older version is rejected as *stale*;
- ``Decline`` (signed, of the statement as a whole, whichever version it answered)
  takes a party out of this statement for good;
- ``Release`` is valid only for the current version, carrying a valid signature over it
  from **every** party that has not declined, at least two of them, and the signed
  declines of the others. A decline therefore leaves a bilateral statement possible.
  The signatures travel in the release, so its validity never depends on which
  approvals a node happened to hold; an amendment or a decline ordered before it (they
  may cross in flight) voids it everywhere alike. Nothing after a release changes it.

A released statement is self-contained: :func:`verify_release` checks it with nothing
but the key registry (``trilink hotline verify``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import msgspec

from trilink.errors import TrilinkError
from trilink.hotline.wire import Amend, Approve, Decline, Draft, Post, Release, Signature
from trilink.sharing.envelope import KeyRegistry

STATEMENT_CONTEXT: Final = b"trilink/statement/v1\x00"
DECLINE_CONTEXT: Final = b"trilink/statement-decline/v1\x00"
STATEMENT_FORMAT: Final = "trilink-statement/1"

_ENC = msgspec.msgpack.Encoder()

Signer = Callable[[bytes], bytes]


def content_bytes(consultation: str, statement_id: str, version: int, text: str,
                  parties: Iterable[str]) -> bytes:
    """What an approval signs: the consultation, statement, version, text and the
    parties it was drafted among (sorted)."""
    return STATEMENT_CONTEXT + _ENC.encode(
        [consultation, statement_id, int(version), text, sorted(parties)])


def decline_bytes(consultation: str, statement_id: str, nation: str) -> bytes:
    """What a decline signs: the statement as a whole (a decline is final, whatever
    versions follow)."""
    return DECLINE_CONTEXT + _ENC.encode([consultation, statement_id, nation])


@dataclass
class StatementState:
    """One statement as the board sees it."""

    statement_id: str
    drafter: str
    version: int
    text: str
    approvals: dict[str, Signature] = field(default_factory=dict)
    declines: dict[str, Signature] = field(default_factory=dict)
    released: Release | None = None
    released_t_s: float | None = None
    history: list[tuple[int, str]] = field(default_factory=list)  # (version, text)


@dataclass(frozen=True)
class Verdict:
    """The board's answer to one post: accepted, or rejected with one line of reason."""

    ok: bool
    reason: str = ""


class StatementBoard:
    """The statements of one consultation (sans-I/O; fed posts in transcript order)."""

    def __init__(self, consultation: str, parties: Iterable[str], registry: KeyRegistry) -> None:
        self.consultation = consultation
        self.parties = tuple(sorted(parties))
        self.registry = registry
        self.statements: dict[str, StatementState] = {}

    def content(self, st: StatementState) -> bytes:
        return content_bytes(self.consultation, st.statement_id, st.version, st.text,
                             self.parties)

    def apply(self, post: Post) -> Verdict:
        """Apply one statement post (Draft, Amend, Approve, Decline, Release)."""
        body, who = post.body, post.origin
        if who not in self.parties:
            return Verdict(False, f"{who} is not a party to {self.consultation}")
        if isinstance(body, Draft):
            if body.statement_id in self.statements:
                return Verdict(False, f"statement {body.statement_id} already drafted")
            if not body.statement_id.startswith(f"{self.consultation}/"):
                return Verdict(False, f"statement id {body.statement_id!r} is not under "
                                      f"{self.consultation}/")
            st = StatementState(body.statement_id, who, 1, body.text)
            st.history.append((1, body.text))
            self.statements[body.statement_id] = st
            return Verdict(True)
        assert isinstance(body, Amend | Approve | Decline | Release)
        st_or_none = self.statements.get(body.statement_id)
        if st_or_none is None:
            return Verdict(False, f"no statement {body.statement_id} in {self.consultation}")
        st = st_or_none
        if st.released is not None:
            return Verdict(False, f"{st.statement_id} was already released (version "
                                  f"{st.released.version})")
        if isinstance(body, Amend):
            if who in st.declines:
                return Verdict(False, f"{who} declined {st.statement_id} and may not amend it")
            if body.version != st.version + 1:
                return Verdict(False, f"amendment to version {body.version} of "
                                      f"{st.statement_id}; expected {st.version + 1}")
            st.version, st.text = body.version, body.text
            st.approvals.clear()
            st.history.append((st.version, st.text))
            return Verdict(True)
        if isinstance(body, Approve) and body.version != st.version:
            word = "stale" if body.version < st.version else "unknown"
            return Verdict(False, f"{who}'s {post.what} of {word} version {body.version} of "
                                  f"{st.statement_id}; current version is {st.version}")
        # A decline is of the statement, whatever version it answered (its signature does
        # not name one): one that crossed an amendment still stands.
        if isinstance(body, Approve):
            if who in st.declines:
                return Verdict(False, f"{who} declined {st.statement_id}")
            if not self.registry.verifies(who, body.key_id, body.signature, self.content(st)):
                return Verdict(False, f"{who}'s approval of {st.statement_id} v{st.version} "
                                      "does not verify")
            st.approvals[who] = Signature(who, body.key_id, body.signature)
            return Verdict(True)
        if isinstance(body, Decline):
            if who in st.declines:
                return Verdict(False, f"{who} already declined {st.statement_id}")
            data = decline_bytes(self.consultation, st.statement_id, who)
            if not self.registry.verifies(who, body.key_id, body.signature, data):
                return Verdict(False, f"{who}'s decline of {st.statement_id} does not verify")
            st.declines[who] = Signature(who, body.key_id, body.signature)
            st.approvals.pop(who, None)
            return Verdict(True)
        # Release: of the current version, judged on the signatures it carries.
        if body.version != st.version or body.text != st.text:
            return Verdict(False, f"release of version {body.version} of {st.statement_id}; "
                                  f"current version is {st.version}")
        problem = check_release(self.consultation, self.parties, body, self.registry)
        if problem:
            return Verdict(False, problem)
        withdrawn = sorted({s.nation for s in body.approvals} & set(st.declines))
        if withdrawn:
            return Verdict(False, f"release of {st.statement_id} carries the approval of "
                                  f"{', '.join(withdrawn)}, which declined it")
        st.released, st.released_t_s = body, post.t_s
        return Verdict(True)

    def ready(self, statement_id: str) -> Release | None:
        """The release this board would accept now, or None: every party that has not
        declined approved the current version, and at least two of them."""
        st = self.statements.get(statement_id)
        if st is None or st.released is not None:
            return None
        needed = set(self.parties) - set(st.declines)
        if len(needed) < 2 or set(st.approvals) != needed:
            return None
        return Release(st.statement_id, st.version, st.text,
                       [st.approvals[n] for n in sorted(needed)],
                       [st.declines[n] for n in sorted(st.declines)])


def check_release(consultation: str, parties: Iterable[str], release: Release,
                  registry: KeyRegistry) -> str:
    """'' if ``release`` is a properly signed statement of ``parties``, else why not.

    Every approval must verify over the same version's content; every decline over its
    decline content; each party appears once; approvals + declines = the parties; at
    least two approve.
    """
    parties = tuple(sorted(parties))
    content = content_bytes(consultation, release.statement_id, release.version,
                            release.text, parties)
    seen: set[str] = set()
    for s in release.approvals:
        if s.nation not in parties:
            return f"{s.nation} signed but is not a party ({', '.join(parties)})"
        if s.nation in seen:
            return f"{s.nation} appears twice"
        seen.add(s.nation)
        if not registry.verifies(s.nation, s.key_id, s.signature, content):
            return (f"{s.nation}'s signature ({s.key_id}) does not verify over version "
                    f"{release.version}")
    for s in release.declines:
        if s.nation not in parties or s.nation in seen:
            return f"decline by {s.nation} is not by a distinct party"
        seen.add(s.nation)
        data = decline_bytes(consultation, release.statement_id, s.nation)
        if not registry.verifies(s.nation, s.key_id, s.signature, data):
            return f"{s.nation}'s decline ({s.key_id}) does not verify"
    if seen != set(parties):
        missing = sorted(set(parties) - seen)
        return f"no approval or decline from {', '.join(missing)}"
    if len(release.approvals) < 2:
        return "a joint statement needs at least two approving parties"
    return ""


# ----------------------------------------------------------------- the file form


def release_document(consultation: str, parties: Iterable[str], release: Release,
                     released_t_s: float | None = None,
                     released_utc: str | None = None) -> dict[str, Any]:
    """The JSON document of a released statement (``trilink hotline verify`` reads it)."""
    return {
        "format": STATEMENT_FORMAT,
        "consultation": consultation,
        "parties": sorted(parties),
        "statement_id": release.statement_id,
        "version": release.version,
        "text": release.text,
        "released_t_s": released_t_s,
        "released_utc": released_utc,
        "approvals": [{"nation": s.nation, "key_id": s.key_id, "signature": s.signature.hex()}
                      for s in release.approvals],
        "declines": [{"nation": s.nation, "key_id": s.key_id, "signature": s.signature.hex()}
                     for s in release.declines],
    }


class StatementFileError(TrilinkError, ValueError):
    """A statement document could not be read."""


def parse_release_document(text: str) -> tuple[str, tuple[str, ...], Release]:
    """(consultation, parties, release) from :func:`release_document` JSON text."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise StatementFileError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != STATEMENT_FORMAT:
        raise StatementFileError(f"format: expected {STATEMENT_FORMAT!r}")
    for name, typ in (("consultation", str), ("statement_id", str), ("text", str),
                      ("version", int), ("parties", list), ("approvals", list),
                      ("declines", list)):
        if not isinstance(doc.get(name), typ):
            raise StatementFileError(f"{name}: expected {typ.__name__}")

    def sigs(name: str) -> list[Signature]:
        out = []
        for i, row in enumerate(doc[name]):
            try:
                out.append(Signature(str(row["nation"]), str(row["key_id"]),
                                     bytes.fromhex(row["signature"])))
            except (KeyError, TypeError, ValueError):
                raise StatementFileError(
                    f"{name}[{i}]: expected nation, key_id and hex signature") from None
        return out

    release = Release(doc["statement_id"], doc["version"], doc["text"], sigs("approvals"),
                      sigs("declines"))
    return doc["consultation"], tuple(str(p) for p in doc["parties"]), release

"""Prior-consultation rules as data: actions that need another party's signed consent.

A rule names an action tag and the nations whose consent it needs
(``trilink/data/consent_rules.yaml``; a scenario may add its own). In a consultation a
party ``Propose``s an action with a tag; the nations the rules name (other than the
proposer) answer with a ``Consent`` signed by their key; the proposer may then post
``Authorise``. :class:`ConsentBook` refuses an ``Authorise`` until every required
consent is present and verifies, and refuses consent by a nation the rules do not ask
(consent by the wrong party). An ``Authorise`` carries the signed consents it relies
on and is judged on those alone, so the rules hold whatever order posts arrive in and
however concurrent posts are ordered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Final

import msgspec
import yaml

from trilink.errors import TrilinkError
from trilink.hotline.statement import Verdict
from trilink.hotline.wire import Authorise, Consent, Post, Propose, Signature
from trilink.sharing.envelope import KeyRegistry

CONSENT_CONTEXT: Final = b"trilink/consent/v1\x00"
_ENC = msgspec.msgpack.Encoder()


@dataclass(frozen=True)
class ConsentRule:
    tag: str
    requires: tuple[str, ...]
    note: str = ""
    source: str = ""


def consent_bytes(consultation: str, action_id: str, tag: str, description: str,
                  proposer: str, nation: str) -> bytes:
    """What a consent signs: the action as proposed, and who consents."""
    return CONSENT_CONTEXT + _ENC.encode(
        [consultation, action_id, tag, description, proposer, nation])


class ConsentRulesError(TrilinkError, ValueError):
    """A consent rule could not be read (one line: where and what)."""


def parse_rules(raw: object, where: str) -> tuple[ConsentRule, ...]:
    """Rules from the parsed YAML list ``raw`` (``where`` names the file in errors)."""
    if not isinstance(raw, list):
        raise ConsentRulesError(f"{where}: rules: expected a list")
    out = []
    for i, row in enumerate(raw):
        if not isinstance(row, dict) or not isinstance(row.get("tag"), str):
            raise ConsentRulesError(f"{where}: rules[{i}].tag: expected a string")
        req = row.get("requires")
        if (not isinstance(req, list) or not req
                or not all(isinstance(n, str) and len(n) == 3 and n.isupper() for n in req)):
            raise ConsentRulesError(f"{where}: rules[{i}].requires: expected a list of "
                                    "ISO alpha-3 codes")
        out.append(ConsentRule(row["tag"], tuple(sorted(set(req))), str(row.get("note", "")),
                               str(row.get("source", ""))))
    return tuple(out)


def shipped_rules() -> tuple[ConsentRule, ...]:
    text = resources.files("trilink.data").joinpath("consent_rules.yaml").read_text("utf-8")
    return parse_rules(yaml.safe_load(text)["rules"], "trilink/data/consent_rules.yaml")


def required_consents(rules: Sequence[ConsentRule], tag: str, proposer: str) -> tuple[str, ...]:
    """Nations whose consent an action with ``tag`` proposed by ``proposer`` needs."""
    need = {n for r in rules if r.tag == tag for n in r.requires}
    need.discard(proposer)
    return tuple(sorted(need))


@dataclass
class Action:
    action_id: str
    tag: str
    description: str
    proposer: str
    required: tuple[str, ...]
    consents: dict[str, Consent] = field(default_factory=dict)
    authorised: bool = False
    authorised_t_s: float | None = None


def carried_consents(action: Action) -> list[Signature]:
    """The consents an authorisation of ``action`` carries (those held, in nation order)."""
    return [Signature(n, c.key_id, c.signature) for n, c in sorted(action.consents.items())]


class ConsentBook:
    """The proposed actions of one consultation and their consents (sans-I/O)."""

    def __init__(self, consultation: str, parties: Iterable[str], registry: KeyRegistry,
                 rules: Sequence[ConsentRule]) -> None:
        self.consultation = consultation
        self.parties = frozenset(parties)
        self.registry = registry
        self.rules = tuple(rules)
        self.actions: dict[str, Action] = {}

    def consent_content(self, action: Action, nation: str) -> bytes:
        return consent_bytes(self.consultation, action.action_id, action.tag,
                             action.description, action.proposer, nation)

    def apply(self, post: Post) -> Verdict:
        body, who = post.body, post.origin
        if who not in self.parties:
            return Verdict(False, f"{who} is not a party to {self.consultation}")
        if isinstance(body, Propose):
            if body.action_id in self.actions:
                return Verdict(False, f"action {body.action_id} already proposed")
            self.actions[body.action_id] = Action(
                body.action_id, body.tag, body.description, who,
                required_consents(self.rules, body.tag, who))
            return Verdict(True)
        assert isinstance(body, Consent | Authorise)
        action = self.actions.get(body.action_id)
        if action is None:
            return Verdict(False, f"no action {body.action_id} proposed in {self.consultation}")
        if isinstance(body, Consent):
            if who not in action.required:
                asked = ", ".join(action.required) or "nobody"
                return Verdict(False, f"{who}'s consent does not count for {action.action_id} "
                                      f"({action.tag}): the rules ask {asked}")
            if not self.registry.verifies(who, body.key_id, body.signature,
                                          self.consent_content(action, who)):
                return Verdict(False, f"{who}'s consent to {action.action_id} does not verify")
            action.consents[who] = body
            return Verdict(True)
        # Authorise: judged on the consents it carries, not on what this node holds.
        if who != action.proposer:
            return Verdict(False, f"only {action.proposer}, the proposer, may authorise "
                                  f"{action.action_id}")
        if action.authorised:
            return Verdict(False, f"{action.action_id} is already authorised")
        carried: set[str] = set()
        for sig in body.consents:
            if sig.nation not in action.required:
                return Verdict(False, f"{action.action_id}: {sig.nation}'s consent does not "
                                      "count; the rules ask "
                                      + (", ".join(action.required) or "nobody"))
            if not self.registry.verifies(sig.nation, sig.key_id, sig.signature,
                                          self.consent_content(action, sig.nation)):
                return Verdict(False, f"{action.action_id}: {sig.nation}'s consent carried by "
                                      "the authorisation does not verify")
            carried.add(sig.nation)
        missing = [n for n in action.required if n not in carried]
        if missing:
            return Verdict(False, f"{action.action_id} ({action.tag}) cannot be authorised "
                                  f"without the signed consent of {', '.join(missing)}")
        action.authorised, action.authorised_t_s = True, post.t_s
        return Verdict(True)

"""The policy engine: may nation X send item I to nation Y at time T, and how?

Rules, in order (the same for the sender's filter and the receiver's second check):

1. Originator control. An item may reach a nation only if the originator released it to
   that nation (its REL TO list). No agreement overrides it; a relay must itself be on the
   list, since it holds the item on the way.
2. Agreements. A **direct** hop X → Y needs an agreement in force at T that covers the
   kind and has both as parties — and the originator too, when X passes on another
   nation's data (agreements do not chain: the US may not pass Japan's tracks to the ROK
   under its two alliances; hotline and statement posts, messages the originator
   released to both, may be carried: :data:`CARRIED_KINDS`) — with a direct route — or
   a relay route whose hub is X or Y (the spokes of a hub-and-spoke agreement are direct
   hops). A **relay** X → Z → Y needs an agreement in force covering the kind with X, Y
   and Z as parties and route relay via Z; Z receives from X and sends to Y under it.
3. Choice. Direct beats relay (the item is exposed to fewer hands); among routes of one
   form the lowest latency wins, ties broken by the narrower agreement (fewer parties),
   then by agreement id. Latency: the agreement's
   ``latency_s`` for a direct hop; ``2 × latency_s + relay_delay_s`` through a relay.

Times are timezone-aware datetimes (UTC in the simulation); latencies in seconds. Pure,
deterministic: the same agreements and arguments give the same answer, whatever the
order the agreements were given in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from trilink.sharing.agreements import (
    Agreement,
    AgreementStatus,
    DataKind,
    EventKind,
    Regime,
    as_of_instant,
    fmt_time,
    load_agreements,
    load_regime,
    regime_agreements,
)
from trilink.sharing.releasability import Releasability, check_nation

CARRIED_KINDS: frozenset[DataKind] = frozenset({DataKind.HOTLINE, DataKind.STATEMENT})
"""Kinds a third party may carry on for their originator (a government's message to
another, released to both): agreements restrict passing on *data*, not delivering a
message. Every other kind moves on only under an agreement its originator is party to."""


@dataclass(frozen=True)
class Direct:
    """Send straight to the recipient; ``latency_s`` in seconds."""

    latency_s: float
    agreement_ids: tuple[str, ...]
    reason: str

    @property
    def delivers(self) -> bool:
        return True


@dataclass(frozen=True)
class Relay:
    """Send to ``via``, which passes the item on; ``latency_s`` includes the relay delay."""

    via: str
    latency_s: float
    relay_delay_s: float
    agreement_ids: tuple[str, ...]
    reason: str

    @property
    def delivers(self) -> bool:
        return True


@dataclass(frozen=True)
class Denied:
    """Not at all; ``reason`` names the rule, agreements and dates that decided."""

    reason: str

    @property
    def delivers(self) -> bool:
        return False


Route = Direct | Relay | Denied


class Check(NamedTuple):
    """A receiver's verdict on an item it got: ``(allowed, reason)``."""

    allowed: bool
    reason: str


def _kind_text(kind: DataKind) -> str:
    return kind.value.replace("_", " ")


class Policy:
    """Answers routing questions from a set of agreements.

    ``as_of`` fixes the instant at which the agreements' status is read (a named regime
    or a scenario date); otherwise the status is read at the time ``t`` of each question.
    ``ignore_events`` holds ``(agreement_id, event_kind)`` counterfactuals.
    ``relay_delay_s`` overrides every relay agreement's relay delay (s).
    """

    def __init__(
        self,
        agreements: Iterable[Agreement],
        *,
        as_of: dt.datetime | dt.date | None = None,
        ignore_events: Iterable[tuple[str, EventKind | str]] = (),
        relay_delay_s: float | None = None,
        name: str = "custom",
    ) -> None:
        items = sorted(agreements, key=lambda a: a.id)
        ids = [a.id for a in items]
        if len(set(ids)) != len(ids):
            raise ValueError("two agreements share an id")
        if relay_delay_s is not None and relay_delay_s < 0:
            raise ValueError("relay_delay_s must be ≥ 0")
        self.agreements: tuple[Agreement, ...] = tuple(items)
        self.as_of: dt.datetime | None = None if as_of is None else as_of_instant(as_of)
        self.ignore_events: frozenset[tuple[str, EventKind]] = frozenset(
            (i, EventKind(e)) for i, e in ignore_events
        )
        self.relay_delay_s = relay_delay_s
        self.name = name
        # With the status read at a fixed instant, an answer depends only on who, what
        # and the release list: nodes ask the same questions thousands of times.
        self._fixed_routes: dict[tuple[str, str, str, frozenset[str], str], Route] = {}

    # ---------------------------------------------------------------- constructors

    @classmethod
    def for_regime(
        cls, regime: Regime | str | Path, agreements_dir: str | Path | None = None
    ) -> Policy:
        """The policy of a named regime (shipped id, regime file, or :class:`Regime`)."""
        reg = regime if isinstance(regime, Regime) else load_regime(regime)
        return cls(
            regime_agreements(reg, agreements_dir),
            as_of=reg.as_of,
            ignore_events=reg.ignored(),
            relay_delay_s=reg.relay_delay_s,
            name=reg.id,
        )

    @classmethod
    def historical(cls, as_of: dt.datetime | dt.date | None = None) -> Policy:
        """The shipped record; status read at ``as_of`` if given, else at each ``t``."""
        return cls(load_agreements(), as_of=as_of, name="historical")

    # ---------------------------------------------------------------- status

    def instant(self, t: dt.datetime) -> dt.datetime:
        """The instant at which agreements are read for a question asked at ``t``."""
        if t.tzinfo is None:
            raise ValueError("t must be timezone-aware (UTC)")
        return self.as_of if self.as_of is not None else t

    def status(self, agreement: Agreement, t: dt.datetime) -> AgreementStatus:
        """Status of one agreement for a question asked at ``t``."""
        return agreement.status_at(self.instant(t), self.ignore_events)

    def in_force(self, t: dt.datetime) -> tuple[Agreement, ...]:
        """Agreements in force for a question asked at ``t``."""
        return tuple(a for a in self.agreements if self.status(a, t).in_force)

    def _when(self, t: dt.datetime) -> str:
        at = fmt_time(self.instant(t))
        return f"as of {at} (regime {self.name})" if self.as_of is not None else f"at {at}"

    # ---------------------------------------------------------------- routing

    def route(
        self,
        sender: str,
        recipient: str,
        kind: DataKind | str,
        t: dt.datetime,
        releasable_to: frozenset[str] | Iterable[str],
        originator: str,
    ) -> Route:
        """May ``sender`` pass an item of ``kind`` (originated by ``originator``, released to
        ``releasable_to``) to ``recipient`` at ``t`` — directly, through a relay, or not?"""
        key = (sender, recipient, str(kind), frozenset(releasable_to), originator)
        if self.as_of is not None and key in self._fixed_routes:
            self.instant(t)  # still refuse a naive time
            return self._fixed_routes[key]
        answer = self._route(sender, recipient, kind, t, key[3], originator)
        if self.as_of is not None:
            self._fixed_routes[key] = answer
        return answer

    def _route(
        self,
        sender: str,
        recipient: str,
        kind: DataKind | str,
        t: dt.datetime,
        releasable_to: frozenset[str],
        originator: str,
    ) -> Route:
        check_nation(sender)
        check_nation(recipient)
        kind = DataKind(kind)
        rel = Releasability(originator, frozenset(releasable_to))
        when = self._when(t)
        what = _kind_text(kind)
        if sender == recipient:
            return Denied(f"{sender} is both sender and recipient; nothing to send")
        if not rel.allows(recipient):
            return Denied(
                f"{originator} released this {what} {rel.marking}; {recipient} is not on the "
                "list, and no agreement overrides the originator's control"
            )
        if not rel.allows(sender):
            return Denied(
                f"{sender} is not on {originator}'s list ({rel.marking}); it may not hold, "
                "let alone pass on, this item"
            )
        directs: list[tuple[float, int, str, Agreement, AgreementStatus]] = []
        relays: list[tuple[float, int, str, Agreement, AgreementStatus, float]] = []
        notes: list[str] = []
        for a in self.agreements:
            if kind not in a.kinds or sender not in a.parties or recipient not in a.parties:
                continue
            st = self.status(a, t)
            if not st.in_force:
                notes.append(f"{a.name} ({a.id}) covers it but is {st.explanation}")
                continue
            if originator not in a.parties and kind not in CARRIED_KINDS:
                # Passing on another nation's data under an agreement that nation is not
                # party to would chain two bilateral agreements into a relay none names.
                notes.append(f"{a.name} ({a.id}) is between {' and '.join(a.parties)}; "
                             f"{originator}, whose {what} it is, is not a party, and "
                             "bilateral agreements do not chain for shared data")
                continue
            via = a.route.via
            if a.route.mode == "direct" or via in (sender, recipient):
                directs.append((a.latency_s, len(a.parties), a.id, a, st))
            elif via is not None and not rel.allows(via):
                notes.append(
                    f"{a.name} ({a.id}, {st.explanation}) routes it through {via}, but "
                    f"{originator} did not release it to {via} ({rel.marking})"
                )
            elif via is not None:
                delay = (
                    self.relay_delay_s
                    if self.relay_delay_s is not None
                    else (a.route.relay_delay_s)
                )
                relays.append((2.0 * a.latency_s + delay, len(a.parties), a.id, a, st, delay))
        if directs:
            lat, _, _, a, st = min(directs, key=lambda d: d[:3])
            return Direct(
                lat,
                (a.id,),
                f"{sender} may send this {what} directly to {recipient} {when} under "
                f"{a.name} ({a.id}, {st.explanation}); {rel.marking}; latency {lat:g} s",
            )
        if relays:
            lat, _, _, a, st, delay = min(relays, key=lambda r: r[:3])
            via = a.route.via
            assert via is not None
            extra = "; no agreement in force lets them exchange it directly" + (
                " (" + "; ".join(notes) + ")" if notes else ""
            )
            return Relay(
                via,
                lat,
                delay,
                (a.id,),
                f"{sender} may send this {what} to {recipient} {when} only through {via}, "
                f"under {a.name} ({a.id}, {st.explanation}); {rel.marking}; latency {lat:g} s "
                f"including a {delay:g} s relay delay{extra}",
            )
        detail = (
            "; ".join(notes)
            if notes
            else (f"no agreement between {sender} and {recipient} covers {what}")
        )
        return Denied(
            f"No agreement in force {when} lets {sender} send this {what} to {recipient}: {detail}"
        )

    def route_item(
        self,
        sender: str,
        recipient: str,
        kind: DataKind | str,
        t: dt.datetime,
        releasability: Releasability,
    ) -> Route:
        """:meth:`route` with a :class:`Releasability`."""
        return self.route(
            sender, recipient, kind, t, releasability.rel_to, releasability.originator
        )

    def routes_from(
        self,
        sender: str,
        recipients: Iterable[str],
        kind: DataKind | str,
        t: dt.datetime,
        releasability: Releasability,
    ) -> dict[str, Route]:
        """The sender's filter: the route to each recipient (sorted by nation code)."""
        return {
            r: self.route_item(sender, r, kind, t, releasability)
            for r in sorted(set(recipients))
            if r != sender
        }

    def may_receive(
        self,
        receiver: str,
        sender: str,
        kind: DataKind | str,
        t: dt.datetime,
        releasable_to: frozenset[str] | Iterable[str],
        originator: str,
        final_recipient: str | None = None,
    ) -> Check:
        """The receiver's second check of an item it got from ``sender`` at ``t``.

        As the final recipient (``final_recipient`` None or the receiver itself), the hop
        ``sender → receiver`` must be a direct route. As a relay for ``final_recipient``,
        the policy must route ``sender → final_recipient`` through the receiver. Either
        way the receiver must be on the originator's list. A ``False`` answer means:
        reject the item and log the reason.
        """
        kind = DataKind(kind)
        rel = Releasability(originator, frozenset(releasable_to))
        final = final_recipient or receiver
        if not rel.allows(receiver):
            return Check(
                False,
                f"rejected: {receiver} is not on {originator}'s list ({rel.marking}) for this "
                f"{_kind_text(kind)} from {sender}; it should never have been sent",
            )
        if final == receiver:
            route = self.route(sender, receiver, kind, t, rel.rel_to, originator)
            if isinstance(route, Direct):
                return Check(True, f"accepted: {route.reason}")
            if isinstance(route, Relay):
                return Check(
                    False,
                    f"rejected: {sender} may not send it to {receiver} directly; it must come "
                    f"through {route.via}. {route.reason}",
                )
            return Check(False, f"rejected: {route.reason}")
        route = self.route(sender, final, kind, t, rel.rel_to, originator)
        if isinstance(route, Relay) and route.via == receiver:
            return Check(True, f"accepted for relay to {final}: {route.reason}")
        if isinstance(route, Denied):
            return Check(False, f"rejected relay to {final}: {route.reason}")
        return Check(
            False,
            f"rejected relay to {final}: the policy does not route it through {receiver}. "
            f"{route.reason}",
        )


def policy_for(
    regime: str | Regime | None = None,
    date: dt.date | dt.datetime | None = None,
    agreements_dir: str | Path | None = None,
) -> Policy:
    """The policy a scenario asks for: a named regime, or the record as of a date, or (both
    None) the record read at each event's time. With both, the date overrides the regime's
    ``as_of``."""
    if regime is not None:
        reg = regime if isinstance(regime, Regime) else load_regime(regime)
        if date is not None:
            reg = reg.model_copy(update={"as_of": as_of_instant(date)})
        return Policy.for_regime(reg, agreements_dir)
    return Policy(
        load_agreements(agreements_dir) if agreements_dir is not None else load_agreements(),
        as_of=date,
        name="historical" if date is None else f"record-{fmt_time(as_of_instant(date))}",
    )

"""TLP and the agreements combine; the stricter wins.

The agreements (:class:`trilink.sharing.policy.Policy`, kind ``cyber_indicator``) say
whether a hop is allowed at all, directly or through a relay, and within the originator's
REL TO list. TLP 2.0 then narrows it, read at the granularity of a nation (one nation's
node is one TLP "organisation"):

- CLEAR, GREEN: whatever the agreements allow, relays included (GREEN: only inside the
  community, which here is the parties to a cyber agreement in force — the policy already
  requires one).
- AMBER, AMBER+STRICT: only the originator sends, and only on a direct route: a relay hub
  would be a recipient disclosing it onward, which AMBER forbids. A recipient never passes
  it on. (AMBER would allow the recipient's own clients; node to node there are none, so
  the two read the same here.)
- RED: for named individuals only — never sent node to node.

The same function decides at the sender (what to send) and at the receiver (whether what
arrived could lawfully have come by the path it came), so both ends check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from trilink.cyber.tlp import Tlp
from trilink.sharing.agreements import DataKind
from trilink.sharing.policy import Denied, Direct, Policy, Relay, Route

KIND = DataKind.CYBER_INDICATOR


@dataclass(frozen=True)
class Verdict:
    """A receiver's verdict: ``allowed`` and why."""

    allowed: bool
    reason: str


def cyber_route(
    policy: Policy,
    sender: str,
    recipient: str,
    t: dt.datetime,
    tlp: Tlp,
    rel_to: Iterable[str],
    originator: str,
) -> Route:
    """May ``sender`` pass a cyber item marked ``tlp`` to ``recipient`` at ``t``, and how?"""
    rel = frozenset(rel_to) | {originator}
    if tlp is Tlp.RED:
        return Denied(f"{tlp.label}: for named individuals only, never shared node to node")
    if tlp >= Tlp.AMBER and sender != originator:
        return Denied(
            f"{tlp.label}: only the originator {originator} shares it; {sender} may not pass "
            "it on"
        )
    route = policy.route(sender, recipient, KIND, t, rel, originator)
    if isinstance(route, Relay) and tlp >= Tlp.AMBER:
        return Denied(
            f"{tlp.label}: the agreements allow it only through {route.via}, and AMBER "
            f"forbids a relay disclosing it onward ({route.reason})"
        )
    return route


def receiver_check(
    policy: Policy,
    receiver: str,
    sender: str,
    originator: str,
    via: tuple[str, ...],
    t: dt.datetime,
    tlp: Tlp,
    rel_to: Iterable[str],
) -> Verdict:
    """The receiver's own check of a cyber item that reached it from ``originator`` through
    ``via`` (relays, in order; the last one delivered it as ``sender``)."""
    rel = frozenset(rel_to) | {originator}
    if receiver not in rel:
        return Verdict(False, f"{receiver} is not on {originator}'s REL TO list")
    if tlp is Tlp.RED:
        return Verdict(False, f"{tlp.label} arrived by machine; refused and audited")
    if via and tlp >= Tlp.AMBER:
        return Verdict(False, f"{tlp.label} arrived through {', '.join(via)}; AMBER is not "
                       "relayed")
    if not via and sender != originator and tlp >= Tlp.AMBER:
        return Verdict(False, f"{tlp.label} passed on by {sender}, not its originator")
    route = cyber_route(policy, originator, receiver, t, tlp, rel, originator)
    if isinstance(route, Denied):
        return Verdict(False, route.reason)
    if isinstance(route, Direct) and via:
        return Verdict(False, f"should have come directly from {originator}, came through "
                       f"{', '.join(via)}")
    if isinstance(route, Relay) and tuple(via) != (route.via,):
        return Verdict(False, f"may come from {originator} only through {route.via}")
    return Verdict(True, route.reason)

"""The growth what-if (issue 15, item 8): more partners come from data, not code."""

from __future__ import annotations

import datetime as dt

from trilink.live import natsconf
from trilink.nations import parse_nations
from trilink.sharing.agreements import (
    load_agreements,
    load_regime,
    regime_agreements,
    shipped_whatif_dir,
)
from trilink.sharing.policy import Direct, Policy

REGIME = shipped_whatif_dir() / "growth-partners.yaml"
PARTNERS = ("USA", "JPN", "KOR", "AUS", "PHL", "GBR", "CAN", "NZL", "FRA", "IND", "VNM", "MNG")


def test_the_partners_are_a_hypothetical_agreement_outside_the_record() -> None:
    regime = load_regime(REGIME)
    added = [a for a in regime_agreements(regime) if a.hypothetical]
    assert [a.id for a in added] == ["whatif-growth-partners"]
    assert added[0].parties == PARTNERS
    assert "whatif-growth-partners" not in {a.id for a in load_agreements()}  # not the record
    # Parties of a shipped (example) agreement may run nodes and hold keys.
    assert parse_nations(",".join(PARTNERS)) == PARTNERS


def test_every_pair_of_the_twelve_shares_directly_and_the_record_is_unchanged() -> None:
    policy = Policy.for_regime(load_regime(REGIME))
    when = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for a in PARTNERS:
        for b in PARTNERS:
            if a != b:
                route = policy.route(a, b, "missile_track", when, PARTNERS, a)
                assert isinstance(route, Direct), (a, b, route)
    # The same pair under the shipped real-time regime: no agreement with the partners.
    real = Policy.for_regime("trilateral-realtime")
    assert not isinstance(real.route("JPN", "PHL", "missile_track", when, PARTNERS, "JPN"),
                          Direct)


def test_a_node_users_permissions_grow_linearly_in_partners() -> None:
    """The generated permissions of one node user: a fixed part plus the same number of
    subjects per partner (no pairwise term), on per-nation servers."""
    sizes = {}
    for n in (3, 6, 12):
        perm = natsconf.permissions("USA", natsconf.ROLE_NODE, PARTNERS[:n], domains=True)
        sizes[n] = len(perm.publish) + len(perm.subscribe)
    per_partner = (sizes[6] - sizes[3]) / 3
    assert per_partner == (sizes[12] - sizes[6]) / 6
    assert sizes[3] == sizes[12] - 9 * per_partner

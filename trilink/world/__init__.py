"""The simulated world: missiles' true flights, the radars a scenario adds and the
windows when radars were silent. Below the sensors and trackers, which observe it."""

from trilink.world.outages import SensorOutage
from trilink.world.truth import BOOST_RCS_M2, RV_RCS_M2, Truth, TruthState, with_breakups

__all__ = ["BOOST_RCS_M2", "RV_RCS_M2", "SensorOutage", "Truth", "TruthState", "with_breakups"]

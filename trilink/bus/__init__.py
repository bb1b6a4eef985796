"""Transports between national nodes: one contract (:mod:`trilink.bus.base`), two buses.

- :class:`trilink.bus.memory.InMemoryBus`: simulation, deterministic loss (no latency of
  its own: the agreements' route latencies are the one model);
- :class:`trilink.bus.nats.NatsBus`: live mode over NATS JetStream (import it from its
  module: it needs nats-py).
"""

from trilink.bus.base import Bus, Delivery
from trilink.bus.memory import InMemoryBus, SimClock

__all__ = ["Bus", "Delivery", "InMemoryBus", "SimClock"]

"""Transports between national nodes: one contract (:mod:`trilink.bus.base`), two buses.

- :class:`trilink.bus.memory.InMemoryBus`: simulation, deterministic latency and loss;
- :class:`trilink.bus.nats.NatsBus`: live mode over NATS JetStream (import it from its
  module: it needs nats-py).
"""

from trilink.bus.base import Bus, Delivery
from trilink.bus.memory import InMemoryBus, LinkModel, SimClock

__all__ = ["Bus", "Delivery", "InMemoryBus", "LinkModel", "SimClock"]

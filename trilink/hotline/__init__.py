"""The crisis hotline: consultations, escalation, joint statements and prior consent.

- :mod:`trilink.hotline.wire` — posts and transport items (what envelopes carry);
- :mod:`trilink.hotline.consultation` — a transcript and the state folded from it;
- :mod:`trilink.hotline.statement` — joint statements and their multi-signatures;
- :mod:`trilink.hotline.consent` — prior-consultation rules as data;
- :mod:`trilink.hotline.desk` — one nation's hotline as a sans-I/O state machine.
"""

from trilink.hotline.consultation import Consultation, State
from trilink.hotline.desk import DeskConfig, DeskError, DeskOutput, HotlineDesk, Send
from trilink.hotline.wire import Authority

__all__ = ["Authority", "Consultation", "DeskConfig", "DeskError", "DeskOutput",
           "HotlineDesk", "Send", "State"]

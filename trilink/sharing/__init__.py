"""Sharing: agreements in force, originator control, routes; envelopes and audit."""

# --- agreements, releasability and policy (agreements-are-data part of issue 4) ---
from trilink.sharing.agreements import (
    Agreement,
    AgreementInvalidError,
    AgreementProblem,
    AgreementStatus,
    DataKind,
    EventKind,
    Regime,
    RouteSpec,
    StatusEvent,
    load_agreements,
    load_regime,
    parse_agreement,
    parse_regime,
    regime_agreements,
    shipped_agreements_dir,
    shipped_regimes,
)
from trilink.sharing.policy import Check, Denied, Direct, Policy, Relay, Route, policy_for
from trilink.sharing.releasability import Releasability

__all__ = [
    "Agreement",
    "AgreementInvalidError",
    "AgreementProblem",
    "AgreementStatus",
    "Check",
    "DataKind",
    "Denied",
    "Direct",
    "EventKind",
    "Policy",
    "Regime",
    "Relay",
    "Releasability",
    "Route",
    "RouteSpec",
    "StatusEvent",
    "load_agreements",
    "load_regime",
    "parse_agreement",
    "parse_regime",
    "policy_for",
    "regime_agreements",
    "shipped_agreements_dir",
    "shipped_regimes",
]
# --- end of agreements block ---

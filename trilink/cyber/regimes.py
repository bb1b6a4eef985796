"""The cyber regimes: shipped regime files in ``trilink/data/cyber/regimes`` whose
agreements include the cyber ones (``trilink/data/agreements/cyber``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from trilink.sharing.agreements import AgreementInvalidError, AgreementProblem, load_regime
from trilink.sharing.policy import Policy


def cyber_regimes_dir() -> Path:
    return Path(str(resources.files("trilink.data").joinpath("cyber").joinpath("regimes")))


def cyber_regimes() -> list[str]:
    """Ids of the shipped cyber regimes."""
    return sorted(p.stem for p in cyber_regimes_dir().glob("*.yaml"))


def cyber_policy(name_or_path: str | Path) -> Policy:
    """The policy of a cyber regime (its id or a regime file); a shipped general regime
    (``trilateral-realtime`` …) works too but covers no cyber data."""
    p = Path(name_or_path)
    if not p.is_file():
        shipped = cyber_regimes_dir() / f"{name_or_path}.yaml"
        if shipped.is_file():
            p = shipped
        else:
            try:
                return Policy.for_regime(str(name_or_path))
            except AgreementInvalidError:
                raise AgreementInvalidError([AgreementProblem(
                    str(name_or_path), 0, "(regime)",
                    "no such file and no shipped regime; cyber regimes: "
                    + ", ".join(cyber_regimes()))]) from None
    return Policy.for_regime(load_regime(p))

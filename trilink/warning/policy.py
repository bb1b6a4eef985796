"""The warning policy as data: thresholds for levels and the warning state machine.

Loaded from ``trilink/data/warning_policy.yaml`` (or a nation's own file) with
``FILE:LINE: field: problem`` errors (:class:`~trilink.datafile.FileInvalidError`). The
defaults below equal the shipped file; ``tests/test_warning_policy.py`` checks both.
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trilink.datafile import FileInvalidError, FileProblem, parse_yaml_model

Probability = float


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TakeShelter(_Strict):
    p_impact_land: Probability = Field(default=0.05, gt=0, le=1)
    p_overflight_land: Probability = Field(default=0.5, gt=0, le=1)


class MaritimeWarning(_Strict):
    p_impact_territorial_sea: Probability = Field(default=0.05, gt=0, le=1)


class Informational(_Strict):
    p_impact_eez: Probability = Field(default=0.5, gt=0, le=1)


class Levels(_Strict):
    take_shelter: TakeShelter = TakeShelter()
    maritime_warning: MaritimeWarning = MaritimeWarning()
    informational: Informational = Informational()


class _PathTest(_Strict):
    """What the rise and the turn tests share: where they look (below an altitude, above
    a speed), how many sigmas a change must clear, and on how many states in a row."""

    max_altitude_m: float = Field(default=100e3, gt=0, le=1e6)
    min_speed_m_s: float = Field(default=800.0, ge=0, le=8000)
    sigma_factor: float = Field(default=3.0, ge=0, le=20)
    confirmations: int = Field(default=2, ge=1, le=10)


class TurnDetection(_PathTest):
    """When a track's flight plane turns more than a ballistic arc's can
    (:mod:`trilink.warning.path`: a banked glider)."""

    min_turn_rad: float = Field(default=0.035, gt=0, le=0.5)  # 2 degrees
    rebase_sigma_ratio: float = Field(default=0.5, gt=0, lt=1)
    max_gap_s: float = Field(default=60.0, gt=0, le=3600)


class PathDetection(_PathTest):
    """When a track's path shows it is not ballistic (:mod:`trilink.warning.path`):
    its flight-path angle rising after apogee, or (``turn``) its flight plane turning."""

    min_rise_rad: float = Field(default=0.035, gt=0, le=0.5)  # 2 degrees
    turn: TurnDetection = TurnDetection()


class NonBallistic(_Strict):
    """The corridor warning for tracks whose ballistic prediction is not to be trusted,
    and how such tracks are recognised."""

    max_range_m: float = Field(default=1.5e6, gt=0, le=2e7)
    corridor_half_width_m: float = Field(default=100e3, gt=0, le=1e6)
    step_m: float = Field(default=10e3, gt=100, le=1e5)
    detect: PathDetection = PathDetection()


class BoostWarning(_Strict):
    """The boost-phase "may pass over / may fall on" warning from an early track's
    heading (:mod:`trilink.warning.boost`). ``enabled: false`` keeps the powered hold
    absolute (no warning at all while the engines burn)."""

    enabled: bool = True
    min_flight_path_rad: float = Field(default=0.26, ge=0, le=math.pi / 2)
    max_flight_path_rad: float = Field(default=1.13, gt=0, le=math.pi / 2)
    min_altitude_m: float = Field(default=30e3, ge=0, le=1e6)
    max_altitude_m: float = Field(default=200e3, gt=0, le=2e6)
    max_speed_m_s: float = Field(default=6000.0, gt=0, le=12000)
    max_heading_sigma_rad: float = Field(default=0.35, gt=0, le=math.pi)
    heading_sigmas: float = Field(default=2.0, ge=0, le=10)
    corridor_half_width_m: float = Field(default=50e3, gt=0, le=1e6)
    max_range_m: float = Field(default=1.5e6, gt=0, le=2e7)
    step_m: float = Field(default=10e3, gt=100, le=1e5)
    min_land_share: Probability = Field(default=0.5, gt=0, le=1)
    # A track this close (its last state flown on straight to now) to one already warned
    # in its boost is taken for the same missile (a split picture, or a salvo on one
    # path): no second Alert.
    same_missile_m: float = Field(default=50e3, ge=0, le=1e6)

    @model_validator(mode="after")
    def _band(self) -> BoostWarning:
        if self.min_flight_path_rad >= self.max_flight_path_rad:
            raise ValueError("min_flight_path_rad must be below max_flight_path_rad")
        if self.min_altitude_m >= self.max_altitude_m:
            raise ValueError("min_altitude_m must be below max_altitude_m")
        return self


class WarningPolicy(_Strict):
    levels: Levels = Levels()
    alert_confirmations: int = Field(default=2, ge=1, le=10)
    cancel_confirmations: int = Field(default=2, ge=1, le=10)
    powered_hold: Probability = Field(default=0.5, gt=0, le=1)
    corridor_half_width_m: float = Field(default=50e3, gt=0, le=1e6)
    impact_margin_s: float = Field(default=30.0, ge=0, le=3600)
    lost_after_s: float = Field(default=60.0, gt=0, le=3600)
    non_ballistic: NonBallistic = NonBallistic()
    boost: BoostWarning = BoostWarning()


def parse_policy(text: str, path: str) -> WarningPolicy:
    policy, _ = parse_yaml_model(text, path, WarningPolicy)
    return policy


def load_policy(path: str | Path | None = None) -> WarningPolicy:
    """A policy file; the shipped one when ``path`` is None."""
    if path is None:
        return default_policy()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FileInvalidError([FileProblem(str(p), 1, "(file)",
                                            f"cannot read it: {exc}")]) from None
    return parse_policy(text, str(p))


@lru_cache(maxsize=1)
def default_policy() -> WarningPolicy:
    res = resources.files("trilink.data").joinpath("warning_policy.yaml")
    return parse_policy(res.read_text(encoding="utf-8"), "trilink/data/warning_policy.yaml")

"""A shipped scenario with its first launch changed, written where a test can run it."""

from __future__ import annotations

from pathlib import Path

import yaml


def variant_of_shipped(scenario_id: str, folder: Path, **launch: object) -> Path:
    """``scenario_id`` (shipped) with ``launch`` fields set on its first launch, as a
    YAML file in ``folder``."""
    from trilink.sim.scenario import shipped_scenario_path

    shipped = shipped_scenario_path(scenario_id)
    assert shipped is not None
    data = yaml.safe_load(shipped.read_text(encoding="utf-8"))
    data["launches"][0].update(launch)
    out = folder / f"{scenario_id}-variant.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return out

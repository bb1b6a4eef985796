"""trilink: the US-Japan-ROK security cooperation system as software.

Internal conventions: SI units, UTC times, ECEF (WGS84) as the internal frame,
angles in radians inside the library and degrees only at the edges (files, CLI,
reports).

The public API (``__all__``) is a few lines away from each job::

    import trilink

    summary = trilink.run_scenario("2022-10-04-irbm-overflight", "out")
    comparison = trilink.compare_regimes(["2022-10-04-irbm-overflight"],
                                         ["tisa-relay", "trilateral-realtime"], runs=5)
    node = await trilink.start_node("JPN", "keys", "nats://127.0.0.1:4222")

Names are imported on first use, so ``import trilink`` (and ``trilink --help``) stays
fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from trilink import _numba_cache

# Before any kernel module is imported: numba fixes a function's cache folder when it
# is decorated, and the default (beside the source) pollutes the package directory.
_numba_cache.configure()

__version__ = "0.1.0"

# Public name → the module that defines it (imported when the name is first used).
_EXPORTS = {
    "run_scenario": "trilink.api",
    "compare_regimes": "trilink.api",
    "start_node": "trilink.api",
    "load_scenario": "trilink.sim.scenario",
    "shipped_scenarios": "trilink.sim.scenario",
    "Scenario": "trilink.sim.scenario",
    "TrilinkError": "trilink.errors",
}

__all__ = ["Scenario", "TrilinkError", "__version__", "compare_regimes", "load_scenario",
           "run_scenario", "shipped_scenarios", "start_node"]

if TYPE_CHECKING:
    from trilink.api import compare_regimes, run_scenario, start_node
    from trilink.errors import TrilinkError
    from trilink.sim.scenario import Scenario, load_scenario, shipped_scenarios


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'trilink' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

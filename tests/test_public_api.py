"""The curated public API (``trilink.__all__``): each job in a few lines, as the README shows.

Also: every user-facing error derives from :class:`trilink.errors.TrilinkError`.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import trilink
from trilink.errors import TrilinkError, UsageError

PACKAGE = Path(trilink.__file__).resolve().parent
SHORT = "2022-11-02-srbm-south-of-nll"


def test_all_is_the_curated_list_and_every_name_resolves() -> None:
    assert sorted(trilink.__all__) == ["Scenario", "TrilinkError", "__version__",
                                       "compare_regimes", "load_scenario", "run_scenario",
                                       "shipped_scenarios", "start_node"]
    for name in trilink.__all__:
        assert getattr(trilink, name) is not None, name
    assert trilink.TrilinkError is TrilinkError
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = trilink.nope


def test_importing_trilink_stays_light() -> None:
    # The CLI's `--help` and every script pay for `import trilink`: nothing heavy on it.
    code = ("import sys, trilink; heavy = [m for m in ('numpy', 'pydantic', 'numba', "
            "'trilink.sim.run', 'trilink.live.node') if m in sys.modules]; print(heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip() == "[]"


def test_readme_shows_the_public_api() -> None:
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    for name in ("trilink.run_scenario(", "trilink.compare_regimes(", "trilink.start_node("):
        assert name in readme, name


def test_run_a_scenario_in_two_lines(tmp_path: Path) -> None:
    summary = trilink.run_scenario(SHORT, tmp_path / "out", seed=1)
    assert summary["scenario"] == SHORT and summary["seed"] == 1
    (launch,) = summary["launches"]
    assert launch["nations"]["KOR"]["first_detection_s"] is not None
    on_disk = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert on_disk == summary
    assert (tmp_path / "out" / "report.html").stat().st_size > 10_000


def test_bad_inputs_raise_one_line_trilink_errors(tmp_path: Path) -> None:
    with pytest.raises(TrilinkError) as info:
        trilink.run_scenario("no-such-scenario", tmp_path / "x")
    assert info.value.lines() == ["no-such-scenario:0: (file): no such file and no shipped "
                                  "scenario"]
    with pytest.raises(UsageError, match="give at least one regime or date"):
        trilink.compare_regimes([SHORT])
    with pytest.raises(TrilinkError, match="no-such-regime"):
        trilink.compare_regimes([SHORT], ["no-such-regime"], runs=1)
    with pytest.raises(TrilinkError, match=r"PRK .* is not a party"):
        asyncio.run(trilink.start_node("PRK", tmp_path))
    with pytest.raises(TrilinkError):  # no key files there
        asyncio.run(trilink.start_node("JPN", tmp_path / "nokeys"))
    assert not (tmp_path / "x").exists()


def test_start_a_live_node_in_three_lines(tmp_path: Path) -> None:
    from trilink.bus.server import nats_server
    from trilink.live.keys import write_keys

    write_keys(("USA", "JPN", "KOR"), tmp_path / "keys")

    async def scenario(url: str) -> tuple[str, bool, bool]:
        node = await trilink.start_node("JPN", tmp_path / "keys", url)
        try:
            return node.nation, node.connected, node.sensors
        finally:
            await node.stop()

    with nats_server(tmp_path / "js") as url:
        assert asyncio.run(scenario(url)) == ("JPN", True, True)


def _error_classes() -> list[tuple[str, str]]:
    """(module, class) of every class named *Error defined in trilink's sources."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        found += [(module, n.name) for n in tree.body
                  if isinstance(n, ast.ClassDef) and n.name.endswith("Error")]
    return found


def test_every_error_class_derives_from_trilink_error() -> None:
    classes = _error_classes()
    assert len(classes) >= 20  # the scan finds them (it is not vacuous)
    strays = []
    for module, name in classes:
        cls = getattr(importlib.import_module(module), name)
        if not issubclass(cls, TrilinkError):
            strays.append(f"{module}.{name}")
    assert strays == []

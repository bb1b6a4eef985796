"""numba's compiled kernels go to the user's cache folder, never into the package."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import trilink
from trilink import _numba_cache

PACKAGE = Path(trilink.__file__).resolve().parent

_COMPILE = """
import trilink._numba_cache as c
from trilink.physics.ballistic import geodetic_height_m
print(c.cache_is_cold())
geodetic_height_m(6378137.0, 0.0, 0.0)
"""


def _python(code: str, cache_home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_CACHE_DIR", "TRILINK_CACHE_DIR")}
    env["XDG_CACHE_HOME"] = str(cache_home)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=300, check=True)


def test_compiled_kernels_land_in_the_user_cache_not_the_package(tmp_path: Path) -> None:
    started = time.time() - 1.0
    done = _python(_COMPILE, tmp_path)
    # Cold before (this cache folder is empty), and the compiled kernel now lies in it.
    assert done.stdout.split()[0] == "True"
    written = sorted(p.name for p in (tmp_path / "trilink" / "numba").rglob("*.nb[ic]"))
    assert any(n.startswith("ballistic.geodetic_height_m-") and n.endswith(".nbi")
               for n in written), written
    fresh = [p for p in PACKAGE.rglob("*.nb[ic]") if p.stat().st_mtime >= started]
    assert fresh == [], f"numba wrote into the package: {fresh}"


def test_an_explicit_numba_cache_dir_is_respected(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    code = "import os, trilink; print(os.environ['NUMBA_CACHE_DIR'])"
    env = dict(os.environ, NUMBA_CACHE_DIR=str(mine), XDG_CACHE_HOME=str(tmp_path / "xdg"))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.strip() == str(mine)


def test_numba_imported_first_still_uses_the_user_cache(tmp_path: Path) -> None:
    code = "import numba, trilink; print(numba.config.CACHE_DIR)"
    done = _python(code, tmp_path)
    assert done.stdout.strip() == str(tmp_path / "trilink" / "numba")


def test_a_cold_cache_is_announced_once_and_a_warm_one_is_silent(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    from numba.core.caching import UserProvidedCacheLocator

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    _numba_cache.note_if_cold()
    assert capsys.readouterr().err == _numba_cache.COLD_NOTE + "\n"
    for name in _numba_cache.KERNEL_MODULES:  # one compiled entry per kernel module
        origin = importlib.util.find_spec(name).origin  # type: ignore[union-attr]
        assert origin is not None
        sub = UserProvidedCacheLocator.get_suitable_cache_subpath(origin)  # type: ignore[no-untyped-call]
        folder = tmp_path / str(sub)
        folder.mkdir(parents=True)
        (folder / f"{Path(origin).stem}.k-1.py311.nbi").write_bytes(b"")
    _numba_cache.note_if_cold()
    assert capsys.readouterr().err == ""


def test_trilink_cache_dir_moves_the_numba_cache(tmp_path: Path) -> None:
    code = "import os, trilink; print(os.environ['NUMBA_CACHE_DIR'])"
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["TRILINK_CACHE_DIR"] = str(tmp_path / "tc")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.strip() == str(tmp_path / "tc" / "numba")

"""Where numba keeps trilink's compiled kernels: the user's cache folder, never the tree.

``@njit(cache=True)`` writes ``*.nbi``/``*.nbc`` files beside the source by default; in a
source checkout they land inside the package and an editable install then picks up stale
files. :func:`configure` points numba at ``$NUMBA_CACHE_DIR`` if the user set one, else
at ``numba/`` in trilink's cache folder (``$TRILINK_CACHE_DIR``, or the platform's:
``$XDG_CACHE_HOME/trilink`` on Linux). It runs from
``trilink/__init__.py``, before any kernel module is imported: numba chooses where a
function's cache lives when the function is decorated.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

# The modules whose kernels numba compiles on first use (the slow, silent part of a cold run).
KERNEL_MODULES = ("trilink.physics.ballistic", "trilink.tracking.kernels",
                  "trilink.sharing.fusion_kernels", "trilink.kinds.tracks")
COLD_NOTE = "trilink: compiling the tracker's kernels once (about 40 s) …"


def user_cache_dir() -> Path:
    """The per-user cache folder for trilink (no files are created here):
    ``$TRILINK_CACHE_DIR`` if set (as the land tables' cache, :mod:`trilink.geo.zones`),
    else the platform's."""
    if env := os.environ.get("TRILINK_CACHE_DIR"):
        return Path(env)
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "trilink" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "trilink"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec: a relative value is invalid and must be ignored.
    base_path = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base_path / "trilink"


def configure() -> Path:
    """Point numba's cache at the user's cache folder (unless ``NUMBA_CACHE_DIR`` is set)."""
    chosen = os.environ.get("NUMBA_CACHE_DIR") or str(user_cache_dir() / "numba")
    os.environ["NUMBA_CACHE_DIR"] = chosen
    numba = sys.modules.get("numba")
    if numba is not None:  # imported before trilink: its config already read the environment
        numba.config.CACHE_DIR = chosen
    return Path(chosen)


def cache_is_cold() -> bool:
    """True when no compiled kernel of :data:`KERNEL_MODULES` is in the cache yet."""
    from numba.core.caching import UserProvidedCacheLocator

    root = Path(os.environ.get("NUMBA_CACHE_DIR") or configure())
    for name in KERNEL_MODULES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        sub = UserProvidedCacheLocator.get_suitable_cache_subpath(spec.origin)  # type: ignore[no-untyped-call]
        folder = root / str(sub)
        stem = Path(spec.origin).stem
        if not any(folder.glob(f"{stem}.*.nbi")):
            return True
    return False


def note_if_cold() -> None:
    """Say on stderr, once, that the first run compiles for a while (it is otherwise silent)."""
    if cache_is_cold():
        sys.stderr.write(COLD_NOTE + "\n")
        sys.stderr.flush()

"""Writing report pages: atomically, so a reader never sees half a page."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(out_dir: Path, name: str, text: str) -> Path:
    """Write ``out_dir/name`` through a temporary file and a rename; its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / name
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target

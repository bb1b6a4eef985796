"""Writing report pages: atomically, so a reader never sees half a page."""

from __future__ import annotations

from pathlib import Path

from trilink.fileio import write_text_atomic


def write_atomic(out_dir: Path, name: str, text: str) -> Path:
    """Write ``out_dir/name`` through a temporary file and a rename; its path."""
    return write_text_atomic(Path(out_dir) / name, text)

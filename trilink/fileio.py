"""The one way trilink writes a file a reader may open at any moment: atomically.

A temporary file in the target's own folder (so the rename stays on one file system),
flushed and fsynced, then renamed over the target: a reader sees the old file or the new
one, never half of one, and a crash leaves no partial file under the target's name (the
temporary file is removed on any error).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["atomic_file", "write_bytes_atomic", "write_text_atomic"]

# What open() gives a new file under the usual umask 022 (mkstemp alone gives 0600).
FILE_MODE = 0o644


@contextmanager
def atomic_file(path: str | os.PathLike[str], mode: int = FILE_MODE) -> Iterator[IO[bytes]]:
    """A binary file object whose content replaces ``path`` when the block ends cleanly.

    The folder is created if missing. On an exception nothing replaces ``path``.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes,
                       mode: int = FILE_MODE) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    with atomic_file(path, mode) as f:
        f.write(data)
    return Path(path)


def write_text_atomic(path: str | os.PathLike[str], text: str, mode: int = FILE_MODE) -> Path:
    """Write ``text`` as UTF-8 (newlines as given) to ``path`` atomically; returns the path."""
    return write_bytes_atomic(path, text.encode("utf-8"), mode)

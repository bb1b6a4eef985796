"""A desk's journal: every input it took, so a restarted live node resumes where it was.

The desk is a deterministic state machine (time passed in, Ed25519 deterministic), so
its state is a function of its inputs. With a journal attached
(``desk.journal = FileJournal(path).append``), each top-level call that
succeeded — an authority's action, an item from a partner, a tick — is appended as one
record; :func:`restore` feeds them again, in order, to a fresh desk with the same key,
policy and settings, which then holds the same consultations, transcripts, pending
escalations and counters (no message id is ever issued twice). What the replay emits is
dropped: it was sent the first time, and anything that was not is resent by the
escalation ladder.

File format: records of a 4-byte big-endian length and a MessagePack array
``[method, args, kwargs]``. A torn last record (a crash while writing) is ignored.
"""

from __future__ import annotations

import contextlib
import os
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Protocol

import msgspec

from trilink.errors import TrilinkError
from trilink.hotline.errors import DeskError
from trilink.hotline.wire import Body

_ENC = msgspec.msgpack.Encoder()
_LEN = struct.Struct(">I")


class JournalError(TrilinkError, ValueError):
    """A journal could not be read (one line: file and what)."""


def encode_entry(method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
    return _ENC.encode([method, list(args), kwargs])


def decode_entry(data: bytes) -> tuple[str, list[Any], dict[str, Any]]:
    method, args, kwargs = msgspec.msgpack.decode(data)
    if method == "post":  # the one input that carries a post body
        args[2] = msgspec.convert(args[2], Body)
    return str(method), list(args), dict(kwargs)


class FileJournal:
    """Append-only journal file (flushed and synced after every record)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fh: IO[bytes] = open(self.path, "ab")  # noqa: SIM115 (kept open)

    def append(self, record: bytes) -> None:
        self._fh.write(_LEN.pack(len(record)) + record)
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()


def read_records(path: str | os.PathLike[str]) -> Iterator[bytes]:
    """The complete records of a journal file, in order."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise JournalError(f"{path}: {exc.strerror or exc}") from None
    at = 0
    while at + _LEN.size <= len(data):
        (n,) = _LEN.unpack_from(data, at)
        if at + _LEN.size + n > len(data):
            break  # torn tail
        yield data[at + _LEN.size: at + _LEN.size + n]
        at += _LEN.size + n


class Journaled(Protocol):
    """What :func:`restore` needs of a desk (:class:`trilink.hotline.desk.HotlineDesk`;
    the journal sits below the desk and does not import it)."""

    journal: Callable[[bytes], None] | None


def restore(desk: Journaled, path: str | os.PathLike[str]) -> int:
    """Replay a journal into a fresh desk; returns how many inputs were replayed."""
    count = 0
    saved, desk.journal = desk.journal, None
    try:
        for i, record in enumerate(read_records(path)):
            try:
                method, args, kwargs = decode_entry(record)
                fn = getattr(desk, method)
            except (msgspec.DecodeError, msgspec.ValidationError, ValueError, TypeError,
                    AttributeError) as exc:
                raise JournalError(f"{path}: record {i + 1}: {exc}") from None
            with contextlib.suppress(DeskError):  # journals keep only successes
                fn(*args, **kwargs)
            count += 1
    finally:
        desk.journal = saved
    return count

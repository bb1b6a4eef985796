"""The README's commands as a user types them: in a real terminal (a pseudo-terminal from
the stdlib ``pty``) and through pipes.

Pipes hide what only a terminal shows (the progress bar); a terminal hides nothing, so
both are run. The README's main ``trilink run`` line is run exactly as written, under a
pseudo-terminal, once; ``trilink run`` through pipes (a short scenario, with ``--force``)
is in tests/test_cli.py, whose run it shares.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
TRILINK = Path(sys.executable).parent / "trilink"


def _sh_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, flags=re.S)


def _main_run_args() -> list[str]:
    """The arguments of the set-up block's ``.venv/bin/trilink run …`` (after the venv)."""
    for block in _sh_blocks():
        for line in block.splitlines():
            if ".venv/bin/trilink run " in line:
                return shlex.split(line.split(".venv/bin/trilink ", 1)[1])
    raise AssertionError("README: no `.venv/bin/trilink run` set-up command")


def _readme_commands(name: str) -> list[list[str]]:
    """Every ``trilink NAME …`` line of the README's examples, comments dropped."""
    found = []
    for block in _sh_blocks():
        for line in block.splitlines():
            if line.startswith(f"trilink {name}"):
                found.append(shlex.split(line.split("#", 1)[0])[1:])
    return found


def _in_pty(args: list[str], cwd: Path, timeout_s: float = 600.0) -> tuple[int, str]:
    """Run the installed ``trilink`` with stdin/stdout/stderr on a pseudo-terminal."""
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="100", LINES="30")
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec at once (nothing else runs in a forked pytest)
        os.chdir(cwd)
        os.execve(str(TRILINK), [str(TRILINK), *args], env)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([fd], [], [], timeout_s)
        if not ready:
            os.kill(pid, 9)
            raise AssertionError(f"trilink {args} under a pty: no output for {timeout_s} s")
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode("utf-8", "replace")


def _plain(screen: str) -> str:
    """A terminal's output as lines of text: escape codes dropped, carriage returns ended."""
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen).replace("\r", "\n")
    return "\n".join(x for x in text.splitlines() if x.strip())


def _tail(screen: str) -> str:
    """The end of a terminal's output, for failure messages."""
    return _plain(screen)[-2000:]


def _piped(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(TRILINK), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False)


def _check_run_folder(out: Path, said: str) -> None:
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["time_origin"] == "seconds after each launch's lift-off (its time_utc, UTC)"
    assert summary["launches"] and (out / "report.html").stat().st_size > 10_000
    # The last line names the report to open.
    assert said.rstrip().splitlines()[-1].endswith(f"-> {out.name}/report.html"), said


pytestmark = pytest.mark.skipif(not TRILINK.exists(), reason="no installed trilink script")


def test_the_readme_states_its_assumptions() -> None:
    assert "assume the virtualenv made above is activated" in README
    assert _main_run_args()[:1] == ["run"]


def test_readme_main_run_exactly_as_written_in_a_terminal(tmp_path: Path) -> None:
    args = _main_run_args()
    code, screen = _in_pty(args, tmp_path)
    assert code == 0, _tail(screen)
    assert "Traceback" not in screen and "Error" not in screen, _tail(screen)
    out = tmp_path / args[args.index("--out") + 1]
    _check_run_folder(out, _plain(screen))
    assert f"{args[1]}: 1 launch(es)" in screen
    # Typed again, the same command refuses to mix a new run into the old one: one line.
    code, screen = _in_pty(args, tmp_path)
    assert code == 2
    assert _plain(screen) == (f"trilink: error: --out: {out.name} is not empty; give an empty "
                              "or new folder, or --force to replace the outputs in it"), \
        _tail(screen)


@pytest.mark.parametrize("name", ["scenarios", "missiles"])
def test_readme_listings_in_a_terminal_and_through_pipes(tmp_path: Path, name: str) -> None:
    (args,) = _readme_commands(name)
    args = [a for a in args if not a.startswith("[")]  # "[--json]": the optional flag
    code, screen = _in_pty(args, tmp_path)
    assert code == 0 and "Traceback" not in screen, _tail(screen)
    piped = _piped(args, tmp_path)
    assert piped.returncode == 0 and piped.stderr == ""
    assert ("2022-10-04-irbm-overflight" if name == "scenarios" else "hwasong-12") in piped.stdout
    as_json = _piped([*args, "--json"], tmp_path)
    assert as_json.returncode == 0 and json.loads(as_json.stdout)


def test_help_in_a_terminal(tmp_path: Path) -> None:
    code, screen = _in_pty(["--help"], tmp_path)
    assert code == 0 and "Usage: trilink" in screen and "run" in screen

"""`trilink live` and the standalone commands on an authenticated nats-server.

The full authenticated path (nodes, feed, launcher, dashboards, each as its own user)
runs in tests/test_live_parity.py, one server per nation (tests/test_live_servers.py
checks those servers). Here, quickly: a ``--single-server`` replay's server refuses a
client without credentials and holds the streams its admins made before any node starts
(the run is ended there, through ``on_nats``); the nats credentials never land in OUT;
`trilink keys nats` writes a configuration a server runs from; and a bad ``--nats-creds``
is one line naming the file.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path
from typing import Any

import nats
import pytest
from live_run import SCENARIO
from nats.errors import Error as NatsError

from trilink.bus.nats import BusError, NatsBus
from trilink.bus.server import free_port, nats_server
from trilink.cli import main
from trilink.live import LiveNode, live_national_node
from trilink.live import natsconf as nc
from trilink.live.launch import NatsRun, run_live
from trilink.sharing.envelope import generate_keys
from trilink.sharing.policy import policy_for

NATIONS = ("JPN", "KOR", "USA")


class SeenEnoughError(Exception):
    """Ends the replay once the server has been looked at."""


async def anonymous_refused(url: str) -> str:
    try:
        conn = await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0,
                                  connect_timeout=2)
    except NatsError as exc:
        return str(exc).lower()
    await conn.close()
    return "connected"


def test_a_replays_server_refuses_strangers_and_holds_the_admins_streams(tmp_path: Path
                                                                          ) -> None:
    out = tmp_path / "out"
    seen: dict[str, Any] = {}

    def on_nats(run: NatsRun) -> None:
        seen["url"] = run.url
        seen["anonymous"] = asyncio.run(anonymous_refused(run.url))
        seen["seed_modes"] = {stat.S_IMODE(os.stat(p).st_mode)
                              for p in run.creds_dir.rglob("*.nk")}
        seen["creds_in_out"] = run.creds_dir.is_relative_to(out)

        async def as_node() -> list[str]:
            # The node side only looks streams up: it may not create them, and needs not.
            bus = await NatsBus.connect(run.url, NATIONS,
                                        **nc.creds_options(run.creds_dir, "KOR", nc.ROLE_NODE))
            try:
                js = bus._nc.jetstream(timeout=2)
                return [(await js.stream_info(s)).config.name
                        for s in ("OUTBOX_JPN", "OUTBOX_KOR", "OUTBOX_USA", "PICTURE_KOR")]
            finally:
                await bus.close()
        seen["streams"] = asyncio.run(as_node())
        raise SeenEnoughError

    with pytest.raises(SeenEnoughError):  # the development mode: one server for all
        run_live(SCENARIO, out, on_nats=on_nats, single_server=True)
    assert "authorization violation" in seen["anonymous"]
    assert seen["streams"] == ["OUTBOX_JPN", "OUTBOX_KOR", "OUTBOX_USA", "PICTURE_KOR"]
    assert seen["seed_modes"] == {0o600} and not seen["creds_in_out"]
    assert not list(out.rglob("*.nk")) and not list(out.rglob("users.json"))
    log = (out / "nodes" / "nats-server.log").read_text()  # public keys at most: kept
    assert "authentication error" in log and "Violation" not in log


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """`trilink keys nats` output and a server run from its configuration: (url, DIR)."""
    root = tmp_path_factory.mktemp("keysnats")
    port = free_port()
    assert main(["keys", "nats", "--nations", ",".join(NATIONS), "--out", str(root / "fed"),
                 "--port", str(port)]) == 0
    with nats_server(root / "unused", port=port, config=root / "fed" / "server.conf",
                     log=root / "server.log") as url:
        yield url, root / "fed"


def one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_keys_nats_config_serves_its_users_only(fed: tuple[str, Path],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    url, creds = fed
    assert {p.name for p in (creds / "KOR").iterdir()} == {
        f"KOR_{r}.nk" for r in nc.CLIENT_ROLES}
    # As KOR's operator (the whole folder, or only KOR's): the server lets it in, and
    # nobody answers on KOR's control subject.
    for folder in (creds, creds / "KOR"):
        err = one_line_error(capsys, ["hotline", "status", "--node", "KOR", "--nats", url,
                                      "--nats-creds", str(folder), "--timeout-s", "1"])
        assert "no node KOR answers" in err, err
    # Without credentials: refused at connect, and said so.
    err = one_line_error(capsys, ["hotline", "status", "--node", "KOR", "--nats", url,
                                  "--timeout-s", "1"])
    assert "refused a client without credentials" in err, err
    # A node may not create its outbox: one line naming the stream.
    async def bus() -> None:
        conn = await nats.connect(url, **nc.creds_options(creds, "KOR", nc.ROLE_NODE))
        b = NatsBus(conn, NATIONS, 5.0, 120.0, api_timeout_s=0.5)
        try:
            await b.send("KOR", "JPN", "KOR:1", b"x")
        finally:
            await b.close()
    with pytest.raises(BusError, match="OUTBOX_KOR: no such stream"):
        asyncio.run(bus())
    err = one_line_error(capsys, ["keys", "nats", "--nations", "KOR", "--out", str(creds)])
    assert "refusing to overwrite" in err
    # The admins make the streams; then a node runs as its node user (from KOR's own
    # folder), and KOR's operator reaches it.
    assert main(["keys", "nats-streams", "--nations", "JPN,KOR,USA", "--nats", url,
                 "--nats-creds", str(creds)]) == 0
    assert "PICTURE_KOR" in capsys.readouterr().out.split()

    async def node_up() -> int:
        keys, registry = generate_keys(NATIONS, seed=b"nats-auth")
        kor = LiveNode(live_national_node("KOR", keys["KOR"], registry, policy_for(), NATIONS),
                       url, ack_wait_s=5.0,
                       nats_options=nc.creds_options(creds / "KOR", "KOR", nc.ROLE_NODE))
        await kor.start()
        try:
            return await asyncio.to_thread(
                lambda: main(["hotline", "status", "--node", "KOR", "--nats", url,
                              "--nats-creds", str(creds / "KOR"), "--json"]))
        finally:
            await kor.stop()
    assert asyncio.run(node_up()) == 0
    assert json.loads(capsys.readouterr().out)["nation"] == "KOR"


def test_bad_nats_creds_is_one_line_naming_the_file(tmp_path: Path, fed: tuple[str, Path],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    url, creds = fed
    keys = tmp_path / "keys"
    assert main(["keys", "new", "--nations", ",".join(NATIONS), "--out", str(keys)]) == 0
    capsys.readouterr()
    bad = tmp_path / "bad" / "KOR"
    bad.mkdir(parents=True)
    (bad / "KOR_node.nk").write_text("not a seed\n")
    os.chmod(bad / "KOR_node.nk", 0o600)
    (bad / "KOR_operator.nk").write_text((creds / "KOR" / "KOR_operator.nk").read_text())
    os.chmod(bad / "KOR_operator.nk", 0o644)
    cases = [
        (["node", "--nation", "KOR", "--keys", str(keys), "--nats", url,
          "--nats-creds", str(tmp_path / "nowhere")], "nowhere: no such folder"),
        (["node", "--nation", "KOR", "--keys", str(keys), "--nats", url,
          "--nats-creds", str(bad)], "KOR_node.nk: not an nkey user seed"),
        (["hotline", "list", "--node", "KOR", "--nats", url, "--nats-creds", str(bad)],
         "KOR_operator.nk: mode 0644"),
        (["cyber", "status", "--nation", "JPN", "--nats", url, "--nats-creds", str(bad)],
         "JPN_operator.nk: missing"),
        (["serve", "--nation", "KOR", "--keys", str(keys), "--nats", url,
          "--nats-creds", str(bad)], "KOR_dashboard.nk: missing"),
        (["feed", SCENARIO, "--nats", url, "--nats-creds", str(bad)], "_sensor.nk: missing"),
    ]
    for argv, want in cases:
        err = one_line_error(capsys, argv)
        assert "--nats-creds" in err and want in err, (argv, err)

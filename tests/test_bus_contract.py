"""One contract, two buses: the same tests run on the in-memory bus and on NATS JetStream
(a real nats-server on 127.0.0.1 and a free port, started and stopped per test)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from trilink.bus import Bus, InMemoryBus, SimClock
from trilink.bus.nats import NatsBus
from trilink.bus.server import nats_server

NATIONS = ("USA", "JPN", "KOR")
ACK_WAIT_S = 1.0


@dataclass
class Harness:
    make: Callable[[], Awaitable[Bus]]
    settle: Callable[[float], Awaitable[None]]  # let time pass (simulated or real)


@pytest.fixture(params=["memory", "nats"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "memory":
        clock = SimClock()

        async def make_memory() -> Bus:
            return InMemoryBus(clock, seed=1, ack_wait_s=ACK_WAIT_S)

        async def advance(dt: float) -> None:
            clock.advance(dt)

        yield Harness(make_memory, advance)
    else:
        with nats_server(tmp_path / "js") as url:

            async def make_nats() -> Bus:
                return await NatsBus.connect(url, NATIONS, ack_wait_s=ACK_WAIT_S)

            async def sleep(dt: float) -> None:
                await asyncio.sleep(dt)

            yield Harness(make_nats, sleep)


async def _drain(bus: Bus, h: Harness, recipient: str, rounds: int = 3) -> list[bytes]:
    got: list[bytes] = []
    for _ in range(rounds):
        await h.settle(0.2)
        for d in await bus.receive(recipient, max_messages=100, timeout_s=0.5):
            got.append(d.data)
            await bus.ack(d)
    return got


def test_addressing_order_and_durability(harness: Harness) -> None:
    async def run() -> None:
        bus = await harness.make()
        for i in range(20):  # sent before anyone asked: kept for the recipients
            await bus.send("USA", "JPN", f"u-j-{i}", f"j{i}".encode())
            await bus.send("USA", "KOR", f"u-k-{i}", f"k{i}".encode())
        jpn = await _drain(bus, harness, "JPN")
        kor = await _drain(bus, harness, "KOR")
        assert jpn == [f"j{i}".encode() for i in range(20)]
        assert kor == [f"k{i}".encode() for i in range(20)]
        assert await _drain(bus, harness, "USA") == []
        await bus.close()

    asyncio.run(run())


def test_duplicate_message_ids_are_delivered_once(harness: Harness) -> None:
    async def run() -> None:
        bus = await harness.make()
        await bus.send("JPN", "USA", "same-id", b"first")
        await bus.send("JPN", "USA", "same-id", b"second")
        await bus.send("JPN", "USA", "other-id", b"third")
        assert await _drain(bus, harness, "USA") == [b"first", b"third"]
        await bus.close()

    asyncio.run(run())


def test_unacked_messages_come_back_acked_ones_do_not(harness: Harness) -> None:
    async def run() -> None:
        bus = await harness.make()
        await bus.send("KOR", "USA", "m1", b"track")
        await harness.settle(0.2)
        first = await bus.receive("USA", timeout_s=1.0)
        assert [d.data for d in first] == [b"track"] and first[0].attempt == 1
        await harness.settle(ACK_WAIT_S + 0.5)  # not acked: redelivered
        again = await bus.receive("USA", timeout_s=1.0)
        assert [d.data for d in again] == [b"track"] and again[0].attempt == 2
        await bus.ack(again[0])
        await harness.settle(ACK_WAIT_S + 0.5)
        assert await bus.receive("USA", timeout_s=0.5) == []
        await bus.close()

    asyncio.run(run())


def test_hotline_traffic_overtakes_routine_traffic(harness: Harness) -> None:
    async def run() -> None:
        bus = await harness.make()
        for i in range(5):
            await bus.send("USA", "KOR", f"r{i}", f"routine{i}".encode(), priority=0)
        await bus.send("USA", "KOR", "h0", b"hotline", priority=1)
        await harness.settle(0.3)
        got = await bus.receive("KOR", max_messages=100, timeout_s=1.0)
        assert got and got[0].data == b"hotline"
        await bus.close()

    asyncio.run(run())


def test_memory_bus_loss_is_deterministic_and_never_reorders() -> None:
    async def run(seed: int) -> list[tuple[float, bytes]]:
        clock = SimClock()
        bus = InMemoryBus(clock, seed=seed, loss={("USA", "JPN"): 0.3})
        for i in range(50):
            await bus.send("USA", "JPN", str(i), str(i).encode())
            clock.advance(0.01)
        arrivals: list[tuple[float, bytes]] = []
        for _ in range(200):
            clock.advance(0.01)
            for d in await bus.receive("JPN"):
                arrivals.append((round(clock.now_s, 2), d.data))
                await bus.ack(d)
        return arrivals

    a, b, c = asyncio.run(run(1)), asyncio.run(run(1)), asyncio.run(run(2))
    assert a == b and a != c
    assert 20 < len(a) < 50  # ~30 % lost
    # No latency of its own (the agreements' routes are the latency model): every message
    # was due when sent, so all come at the first receive (after the 50 sends, 0.51 s).
    assert {t for t, _ in a} == {0.51}
    sent_order = [int(x) for _, x in a]
    assert sent_order == sorted(sent_order)  # loss never reorders a link

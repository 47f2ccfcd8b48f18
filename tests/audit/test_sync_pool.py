"""Synchronous clients (ldap3, impacket) run on a pool sized to the connection budget.

Many slow directory servers at once: every LDAP endpoint is dialled and answered, none is
reported as timed out while it waited for a thread (asyncio's default pool has
min(32, CPUs + 4) threads, and its queue used to eat the job's time limit).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from pathsec.audit.engine import Engine, Limits, NullObserver
from pathsec.audit.models import Target
from pathsec.probes.blocking import run_blocking, sync_pool
from pathsec.probes.interface import AppProtocol, ProbeSettings, Status

SERVERS = 48
DELAY = 0.6  # seconds before each reply: a rootDSE search and a StartTLS refusal per endpoint
TIMEOUT = 1.5  # the probe's --timeout: ldap3 reads within 1 s, the job within 4 x 1.5 s


def _ber(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + body


def _attr(name: str, value: bytes) -> bytes:
    return _ber(0x30, _ber(0x04, name.encode()) + _ber(0x31, _ber(0x04, value)))


ENTRY = _ber(
    0x64,
    _ber(0x04, b"")
    + _ber(0x30, _attr("supportedLDAPVersion", b"3") + _attr("supportedSASLMechanisms", b"GSSAPI")),
)
DONE = _ber(0x65, _ber(0x0A, b"\x00") + _ber(0x04, b"") + _ber(0x04, b""))
REFUSED = _ber(0x78, _ber(0x0A, b"\x35") + _ber(0x04, b"") + _ber(0x04, b"no StartTLS"))


@dataclass
class SlowDirectories:
    """``SERVERS`` LDAP responders on 127.78.0.x that wait ``DELAY`` before every reply."""

    addresses: list[tuple[str, int]] = field(default_factory=list)
    dialled: dict[str, float] = field(default_factory=dict)
    open_now: int = 0
    peak: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer an LDAP client; the engine's bare TCP connect (no request) does not count."""
        host = writer.get_extra_info("sockname")[0]
        counted = False
        try:
            for _ in range(4):
                head = await reader.readexactly(2)
                if not counted:  # the first request: an LDAP dialogue, not a bare connect
                    counted = True
                    self.dialled[host] = time.monotonic()
                    self.open_now += 1
                    self.peak = max(self.peak, self.open_now)
                n = head[1]
                if n & 0x80:
                    extra = await reader.readexactly(n & 0x7F)
                    n = int.from_bytes(extra, "big")
                body = await reader.readexactly(n)
                mid = _ber(0x02, body[2 : 2 + body[1]])
                op = body[2 + body[1]]
                if op == 0x42:  # unbind
                    return
                await asyncio.sleep(DELAY)
                if op == 0x77:  # extended request (StartTLS): refused
                    writer.write(_ber(0x30, mid + REFUSED))
                else:
                    writer.write(_ber(0x30, mid + ENTRY) + _ber(0x30, mid + DONE))
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self.open_now -= counted
            writer.close()


@pytest.fixture
def directories() -> Iterator[SlowDirectories]:
    dirs = SlowDirectories()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    servers: list[asyncio.Server] = []

    async def start() -> None:
        for i in range(1, SERVERS + 1):
            server = await asyncio.start_server(dirs.handle, f"127.78.0.{i}", 0)
            servers.append(server)
            dirs.addresses.append((f"127.78.0.{i}", server.sockets[0].getsockname()[1]))

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield dirs
    finally:

        async def stop() -> None:
            for s in servers:
                s.close()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_many_slow_ldap_servers_are_all_dialled_and_answered(directories: SlowDirectories) -> None:
    targets = [
        Target(host=host, port=port, protocol=AppProtocol.ldap)
        for host, port in directories.addresses
    ]
    engine = Engine(ProbeSettings(timeout=TIMEOUT), Limits(), NullObserver())
    start = time.monotonic()
    results = asyncio.run(engine.run(targets))
    elapsed = time.monotonic() - start
    default_pool = min(32, (os.cpu_count() or 1) + 4)
    statuses = [r.status for r in results]
    timed_out = sum(s is Status.timeout for s in statuses)
    print(
        f"\n{SERVERS} LDAP servers, {DELAY} s per reply: {elapsed:.2f} s, "
        f"peak {directories.peak} LDAP dialogues at once (default pool {default_pool}), "
        f"{timed_out} timed out, {SERVERS - len(directories.dialled)} never dialled"
    )
    assert len(directories.dialled) == SERVERS, "an endpoint was never dialled"
    assert statuses == [Status.ok] * SERVERS, [(r.host, r.status, r.reason) for r in results]
    assert all(r.observations.ldap and r.observations.ldap.root_dse for r in results)
    assert directories.peak > default_pool  # more at once than asyncio's pool allows
    # two replies of DELAY each per endpoint, all endpoints at once: well under the sum
    assert elapsed < SERVERS * 2 * DELAY / default_pool


def test_a_blocking_jobs_limit_starts_when_its_thread_does() -> None:
    """Two 0.3 s jobs on one thread with a 0.5 s limit: the second waits 0.3 s for the
    thread, yet is not cut (its limit counts from its start); a job over its limit is."""

    async def main() -> tuple[list[str], str]:
        with sync_pool(1):
            done = await asyncio.gather(
                run_blocking(lambda: time.sleep(0.3) or "first", 0.5),
                run_blocking(lambda: time.sleep(0.3) or "second", 0.5),
            )
            try:
                await run_blocking(lambda: time.sleep(0.4) or "late", 0.1)
            except TimeoutError:
                return list(done), "cut"
            return list(done), "not cut"

    assert asyncio.run(main()) == (["first", "second"], "cut")

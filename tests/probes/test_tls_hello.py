"""The ServerHello reader behind version verdicts, the connection buffer and the step deadline.

OpenSSL itself (the ``ssl`` module, server side, over memory BIOs) answers the
ClientHellos pathsec's version contexts make, so the verdicts are checked against the real
TLS library; hand-built records cover what OpenSSL will not send (fragmented, truncated,
garbage).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scripted import make_server_context

from pathsec.probes.certs import offer_versions
from pathsec.probes.hello import (
    ServerHello,
    TlsAlert,
    parse_server_hello,
    read_server_hello,
)
from pathsec.probes.interface import ProbeSettings, ProtocolError
from pathsec.probes.runtime import ByteStream, Conn
from pathsec.probes.text import Transcript
from pathsec.probes.tls import _context, _range_context


def _conn(data: bytes, eof: bool = True) -> Conn:
    stream = ByteStream()
    stream.data_received(data)
    if eof:
        stream.eof_received()
    return Conn(stream, ProbeSettings(timeout=2), Transcript())


def _answer(server: ssl.SSLContext, client: ssl.SSLContext) -> bytes:
    """The bytes an OpenSSL server sends back to ``client``'s ClientHello."""
    ci, co, si, so = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    c = client.wrap_bio(ci, co, server_side=False)
    s = server.wrap_bio(si, so, server_side=True)
    with pytest.raises(ssl.SSLWantReadError):
        c.do_handshake()
    si.write(co.read())
    with contextlib.suppress(ssl.SSLWantReadError, ssl.SSLError):
        s.do_handshake()
    return so.read()


def _server(tmp_path: Path, low: ssl.TLSVersion, high: ssl.TLSVersion) -> ssl.SSLContext:
    ctx = make_server_context(tmp_path)
    offer_versions(ctx, low, high)
    return ctx


def _read(data: bytes) -> ServerHello:
    async def go() -> ServerHello:
        return await read_server_hello(_conn(data))

    return asyncio.run(go())


def test_openssl_answers_a_pinned_offer_with_that_version(tmp_path: Path) -> None:
    server = _server(tmp_path, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)
    for version in ("TLSv1.2", "TLSv1.3"):
        ctx = _context(version)
        assert isinstance(ctx, ssl.SSLContext)
        assert _read(_answer(server, ctx)).version == version


def test_a_legacy_offer_to_a_modern_server_is_refused_with_an_alert(tmp_path: Path) -> None:
    server = _server(tmp_path, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)
    answer = _answer(server, _range_context("TLSv1.0", "TLSv1.1"))
    with pytest.raises(TlsAlert) as err:
        _read(answer)
    assert err.value.description == 70  # protocol_version
    assert "protocol_version" in str(err.value)


def test_a_legacy_server_picks_its_highest_legacy_version(tmp_path: Path) -> None:
    try:
        server = _server(tmp_path, ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)
        answer = _answer(server, _range_context("TLSv1.0", "TLSv1.1"))
    except ssl.SSLError as exc:  # an OpenSSL built without TLS 1.0/1.1
        pytest.skip(f"local OpenSSL cannot serve TLS 1.0/1.1: {exc}")
    assert _read(answer).version == "TLSv1.1"


def _hello_record(body: bytes, version: bytes = b"\x03\x03") -> bytes:
    msg = b"\x02" + len(body).to_bytes(3, "big") + body
    return b"\x16" + version + len(msg).to_bytes(2, "big") + msg


def _body(wire: int, extensions: bytes | None = None) -> bytes:
    body = wire.to_bytes(2, "big") + b"\x11" * 32 + b"\x00" + b"\x13\x01" + b"\x00"
    if extensions is not None:
        body += len(extensions).to_bytes(2, "big") + extensions
    return body


def test_supported_versions_extension_decides_over_the_legacy_field() -> None:
    ext = b"\x00\x2b\x00\x02\x03\x04"  # supported_versions: TLS 1.3
    assert parse_server_hello(_body(0x0303, ext)) == ServerHello("TLSv1.3", 0x1301)
    assert parse_server_hello(_body(0x0301)).version == "TLSv1.0"  # no extensions at all


def test_a_server_hello_split_over_two_records_is_reassembled() -> None:
    record = _hello_record(_body(0x0303, b""))
    msg = record[5:]
    first, second = msg[:10], msg[10:]
    data = (
        b"\x16\x03\x03" + len(first).to_bytes(2, "big") + first
        + b"\x16\x03\x03" + len(second).to_bytes(2, "big") + second
    )  # fmt: skip
    assert _read(data).version == "TLSv1.2"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"220 plain text, not TLS\r\n", ProtocolError),
        (_hello_record(_body(0x0305)), ProtocolError),  # unknown version
        (_hello_record(_body(0x0303)[:20]), ProtocolError),  # truncated body
        (_hello_record(_body(0x0303, b"\x00\x2b\x00\x09\x03")), ProtocolError),  # bad extension
        (b"\x16\x03\x03\x00\x04\x0b\x00\x00\x00", ProtocolError),  # Certificate first
        (b"\x15\x03\x03\x00\x01\x02", ProtocolError),  # truncated alert
        (b"\x15\x03\x03\x00\x02\x02\x28", TlsAlert),  # handshake_failure
        (b"\x16\x03\x03\x00\x40\x02\x00\x00", ConnectionResetError),  # half, then EOF
        (b"", ConnectionResetError),
    ],
)
def test_what_is_not_a_server_hello(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        _read(data)


def test_a_hello_retry_request_to_a_tls12_offer_is_an_error() -> None:
    hrr = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")
    body = b"\x03\x03" + hrr + b"\x00\x13\x01\x00"
    with pytest.raises(ProtocolError, match="HelloRetryRequest"):
        parse_server_hello(body)


def test_records_beyond_the_byte_limit_are_refused() -> None:
    empty = b"\x16\x03\x03\x00\x00"  # empty handshake records, forever
    with pytest.raises(ProtocolError, match="no ServerHello within"):
        asyncio.run(_read_limited(empty * 20, 64))


async def _read_limited(data: bytes, limit: int) -> ServerHello:
    return await read_server_hello(_conn(data), limit=limit)


@given(st.binary(max_size=600))
def test_the_reader_never_fails_otherwise(data: bytes) -> None:
    with contextlib.suppress(ProtocolError, TlsAlert, ConnectionResetError):
        _read(data)


# --- the connection buffer ---------------------------------------------------------------


def test_lines_longer_than_the_limit_are_a_protocol_error() -> None:
    async def go() -> None:
        conn = _conn(b"2" * 5000 + b"\r\n")
        with pytest.raises(ProtocolError, match="longer than"):
            await conn.readline()

    asyncio.run(go())


def test_a_partial_last_line_is_kept_in_the_transcript() -> None:
    async def go() -> None:
        conn = _conn(b"220 ready\r\n250-partial")
        assert await conn.readline() == "220 ready"
        with pytest.raises(ConnectionResetError):
            await conn.readline()
        assert conn.transcript.lines == ["S: 220 ready", "S: 250-partial"]

    asyncio.run(go())


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.paused = False

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False


def test_the_buffer_stops_reading_past_its_mark_and_resumes_once_consumed() -> None:
    async def go() -> None:
        stream = ByteStream(high_water=1000)
        transport = _Transport()
        stream.connection_made(transport)
        stream.data_received(b"x" * 900)
        assert not transport.paused
        stream.data_received(b"x" * 200)
        assert transport.paused
        conn = Conn(stream, ProbeSettings(timeout=1), Transcript())
        assert len(await conn.read(700)) == 700  # 400 left: below half the mark
        assert not transport.paused

    asyncio.run(go())


# --- the step deadline -------------------------------------------------------------------


def test_the_deadline_turns_a_stalled_step_into_a_timeout() -> None:
    async def go() -> None:
        conn = _conn(b"", eof=False)
        with pytest.raises(TimeoutError):
            async with conn.deadline(0.05):
                await asyncio.sleep(5)
        async with conn.deadline(1):  # the task is usable again: nothing left cancelled
            await asyncio.sleep(0)
        assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]

    asyncio.run(go())


def test_a_cancellation_from_elsewhere_passes_through_the_deadline() -> None:
    async def step(conn: Conn) -> None:
        async with conn.deadline(5):
            await asyncio.sleep(5)

    async def go() -> None:
        conn_ready: asyncio.Future[Conn] = asyncio.get_running_loop().create_future()

        async def worker() -> None:
            conn = _conn(b"", eof=False)  # made in the worker: it belongs to that task
            conn_ready.set_result(conn)
            await step(conn)

        task = asyncio.create_task(worker())
        await conn_ready
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())


def test_a_step_done_in_time_is_not_disturbed() -> None:
    async def go() -> None:
        conn = _conn(b"220 ok\r\n")
        async with conn.deadline(0.2):
            assert await conn._line() == "220 ok"
        await asyncio.sleep(0.3)  # the timer was cancelled: no late cancellation arrives

    asyncio.run(go())


# --- one timer for all the steps of a connection (StepTimer) ------------------------------


def test_steps_that_each_end_in_time_never_time_out_however_long_they_take_together() -> None:
    async def go() -> None:
        conn = _conn(b"", eof=False)
        for _ in range(5):  # 0.25 s in all, each step well inside its 0.1 s
            async with conn.deadline(0.1):
                await asyncio.sleep(0.04)
        assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]

    asyncio.run(go())


def test_a_step_after_an_idle_gap_still_gets_a_deadline() -> None:
    async def go() -> None:
        conn = _conn(b"", eof=False)
        async with conn.deadline(0.05):
            pass
        await asyncio.sleep(0.1)  # the timer goes off between steps: nothing to cancel
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(TimeoutError):
            async with conn.deadline(0.05):
                await asyncio.sleep(5)
        assert loop.time() - start < 1

    asyncio.run(go())


def test_a_shorter_step_after_a_longer_one_times_out_at_its_own_deadline() -> None:
    async def go() -> None:
        conn = _conn(b"", eof=False)
        async with conn.deadline(30):
            await asyncio.sleep(0)
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(TimeoutError):
            async with conn.deadline(0.05):
                await asyncio.sleep(5)
        assert loop.time() - start < 1  # not the 30 s of the step before

    asyncio.run(go())


def test_a_step_inside_a_step_has_a_deadline_of_its_own() -> None:
    async def go() -> None:
        conn = _conn(b"", eof=False)
        async with conn.deadline(5):
            with pytest.raises(TimeoutError):
                async with conn.deadline(0.05):  # e.g. a drain inside a read step
                    await asyncio.sleep(5)
            await asyncio.sleep(0.01)  # the outer step goes on undisturbed
        with pytest.raises(TimeoutError):
            async with conn.deadline(0.05):  # and the connection's timer still works
                await asyncio.sleep(5)

    asyncio.run(go())


def test_an_aborted_connection_leaves_no_timer_behind() -> None:
    async def go() -> None:
        conn = _conn(b"220 ok\r\n")
        async with conn.deadline(30):
            await conn._line()
        conn.abort()
        # no timer keeps the connection (and its task) alive for the step's 30 s
        assert conn._steps is not None and not conn._steps.armed

    asyncio.run(go())

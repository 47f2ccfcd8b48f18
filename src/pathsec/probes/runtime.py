"""The connection runtime of probes: bounded, timed reads over asyncio, connects, failure mapping.

A probe's job opens its connection with :func:`connect` and talks through :class:`Conn`:
every read is bounded in bytes (line and reply limits) and time (one deadline per step), and
:func:`guarded` turns every network or peer failure into an :class:`Attempt` with a status
and reason. Synchronous client libraries run through :mod:`pathsec.probes.blocking`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
import time
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from pydantic import BaseModel

from pathsec.probes.deadlines import Deadline, StepTimer
from pathsec.probes.interface import (
    Attempt,
    Endpoint,
    Job,
    ProbeSettings,
    ProtocolError,
    Status,
)
from pathsec.probes.text import Transcript, decode_line


class ByteStream(asyncio.Protocol):
    """The receive buffer and flow control of one connection, for :class:`Conn`.

    Hand-written on asyncio's Protocol rather than StreamReader/StreamWriter: a probe
    needs only bounded reads of lines and byte counts, and this costs about 0.1 ms less
    CPU per connection (three connections per SMTP endpoint; bench/RESULTS.md). The
    buffer is bounded: past ``high_water`` bytes the transport stops reading until the
    probe has consumed them.
    """

    def __init__(
        self, high_water: int = 256 * 1024, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        self.loop = loop or asyncio.get_running_loop()
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.closed = False  # the peer sent EOF or the connection is gone
        self.gone = False  # the connection is gone
        self.high_water = high_water
        self._reading_paused = False
        self._writing_paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._lost: asyncio.Future[None] | None = None

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport."""
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        """Buffer what arrived; stop reading past the high-water mark."""
        self.buffer += data
        if len(self.buffer) > self.high_water and not self._reading_paused:
            self._pause_reading()
        self._wake()

    def eof_received(self) -> bool | None:
        """The peer has nothing more to send (the transport then closes)."""
        self.closed = True
        self._wake()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection is gone: wake every waiter."""
        self.closed = self.gone = True
        self._wake()
        for fut in (self._drain_waiter, self._lost):
            if fut is not None and not fut.done():
                fut.set_result(None)

    def pause_writing(self) -> None:
        """The transport's write buffer is full."""
        self._writing_paused = True

    def resume_writing(self) -> None:
        """The transport's write buffer has room again."""
        self._writing_paused = False
        fut = self._drain_waiter
        if fut is not None and not fut.done():
            fut.set_result(None)

    # -- used by Conn
    def _wake(self) -> None:
        fut = self._waiter
        if fut is not None:
            self._waiter = None
            if not fut.done():
                fut.set_result(None)

    def _pause_reading(self) -> None:
        try:
            if self.transport is not None:
                self.transport.pause_reading()
                self._reading_paused = True
        except (AttributeError, NotImplementedError, RuntimeError):
            pass

    async def wait_data(self) -> None:
        """Until more data arrives, or EOF (the caller checks ``closed``)."""
        if self.closed:
            return
        self._waiter = self.loop.create_future()
        await self._waiter

    def take(self, n: int) -> bytes:
        """Remove and return the first ``n`` buffered bytes; read on when below the mark."""
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        if self._reading_paused and len(self.buffer) <= self.high_water // 2:
            self._reading_paused = False
            if self.transport is not None and not self.closed:
                with contextlib.suppress(AttributeError, NotImplementedError, RuntimeError):
                    self.transport.resume_reading()
        return data

    async def drain(self) -> None:
        """Until the transport can take more (immediately when it can)."""
        if self._writing_paused and not self.closed:
            self._drain_waiter = self.loop.create_future()
            await self._drain_waiter

    async def wait_lost(self) -> None:
        """Until the connection is gone."""
        if self.gone:
            return
        self._lost = self.loop.create_future()
        await self._lost

    @property
    def writing_paused(self) -> bool:
        """True while the transport's write buffer is full."""
        return self._writing_paused

    def renew(self, transport: asyncio.Transport) -> None:
        """A new transport carries the connection on (after a TLS upgrade)."""
        self.transport = transport
        self._reading_paused = False


class Conn:
    """A client connection with bounded, timed reads and a transcript."""

    def __init__(
        self,
        stream: ByteStream,
        settings: ProbeSettings,
        transcript: Transcript,
        task: asyncio.Task[Any] | None = None,
    ) -> None:
        self.stream = stream
        self.settings = settings
        self.transcript = transcript
        # A connection is used by the task that opened it.
        self._task = task or asyncio.current_task(stream.loop)
        self._steps = StepTimer(stream.loop, self._task) if self._task is not None else None

    def deadline(self, seconds: float | None = None) -> StepTimer | Deadline | asyncio.Timeout:
        """A timeout for one step (default: the settings' timeout)."""
        seconds = self.settings.timeout if seconds is None else seconds
        if self._task is None:  # outside a task (not in pathsec's own use)
            return asyncio.timeout(seconds)
        steps = self._steps
        if steps is None or steps.active:  # a step inside a step: a timer of its own
            return Deadline(self.stream.loop, self._task, seconds)
        return steps.step(seconds)

    @property
    def transport(self) -> asyncio.Transport:
        """The connection's current transport (the TLS one after an upgrade)."""
        transport = self.stream.transport
        if transport is None:
            raise ConnectionResetError("not connected")
        return transport

    async def readline(self) -> str:
        """Read one line (at most ``max_line_bytes``) within the timeout."""
        async with self.deadline():
            return await self._line()

    def _take_line(self) -> str | None:
        """The next complete buffered line (recorded in the transcript), or None."""
        buffer = self.stream.buffer
        limit = self.settings.max_line_bytes
        end = buffer.find(b"\n", 0, limit + 1)
        if end < 0:
            if len(buffer) > limit:
                raise ProtocolError(f"line longer than {limit} bytes")
            return None
        line = decode_line(self.stream.take(end + 1))
        self.transcript.add("S", line)
        return line

    async def _line(self) -> str:
        """One line, bounded in bytes; the caller bounds the time."""
        while True:
            line = self._take_line()
            if line is not None:
                return line
            if self.stream.closed:
                if self.stream.buffer:
                    self.transcript.add("S", decode_line(self.stream.take(len(self.stream.buffer))))
                raise ConnectionResetError("connection closed by the server")
            await self.stream.wait_data()

    async def read_until(self, done: _LineTest) -> list[str]:
        """Read lines until ``done(line)`` is true, bounded in lines, bytes and time.

        One timeout covers the whole reply (a multi-line EHLO or CAPA reply is read
        without arming a timer per line).
        """
        lines: list[str] = []
        total = 0
        max_lines, max_bytes = self.settings.max_reply_lines, self.settings.max_reply_bytes
        limit = self.settings.max_line_bytes
        stream = self.stream
        add = self.transcript.add
        keep = self.transcript.keeps_lines
        async with self.deadline():
            while True:
                # Every complete line already buffered, in one pass (a reply usually
                # arrives whole); what follows the final line stays buffered.
                buffer = stream.buffer
                end = buffer.rfind(b"\n")
                if end < 0:
                    lines.append(await self._line())  # waits; bounds the partial line
                    total += len(lines[-1]) + 2
                    if done(lines[-1]):
                        return lines
                    continue
                used = 0
                # One decode for all of them (latin-1: a byte per character, never fails).
                parts = buffer[: end + 1].decode("latin-1").split("\n")
                parts.pop()  # what followed the last newline: nothing
                for raw in parts:
                    if len(raw) > limit:
                        raise ProtocolError(f"line longer than {limit} bytes")
                    used += len(raw) + 1
                    line = raw.rstrip("\r")
                    if keep:
                        add("S", line)
                    lines.append(line)
                    total += len(line) + 2
                    if done(line):
                        stream.take(used)
                        return lines
                    if len(lines) >= max_lines or total > max_bytes:
                        raise ProtocolError(
                            f"reply longer than {max_lines} lines or {max_bytes} bytes"
                        )
                stream.take(used)

    async def read(self, n: int) -> bytes:
        """Up to ``n`` bytes as soon as any are there; b"" at EOF (the caller bounds time)."""
        while not self.stream.buffer:
            if self.stream.closed:
                return b""
            await self.stream.wait_data()
        return self.stream.take(n)

    async def readexactly(self, n: int) -> bytes:
        """Exactly ``n`` bytes (the caller bounds ``n`` and the time)."""
        while len(self.stream.buffer) < n:
            if self.stream.closed:
                raise ConnectionResetError("connection closed by the server")
            await self.stream.wait_data()
        return self.stream.take(n)

    def write(self, data: bytes) -> None:
        """Queue bytes for sending (see :meth:`drain`)."""
        self.transport.write(data)

    async def drain(self) -> None:
        """Wait, within the timeout, until the transport can take more."""
        if self.stream.writing_paused:
            async with self.deadline():
                await self.stream.drain()

    async def send(self, line: str, shown: str | None = None) -> None:
        """Send one CRLF-terminated line; ``shown`` replaces it in the transcript."""
        self.transcript.add("C", shown if shown is not None else line)
        self.transport.write(line.encode("ascii") + b"\r\n")
        await self.drain()

    async def start_tls(self, ctx: ssl.SSLContext, server_hostname: str | None) -> None:
        """Upgrade the connection to TLS (STARTTLS, STLS) within the timeout.

        Bytes the server sent after its go-ahead and before the handshake are discarded
        (RFC 3207 section 4.2: nothing learnt before TLS is kept), never read as if they
        had come over TLS.
        """
        if self.stream.buffer:
            dropped = len(self.stream.take(len(self.stream.buffer)))
            self.transcript.note(f"{dropped} bytes sent before the TLS handshake discarded")
        async with self.deadline():
            transport = await self.stream.loop.start_tls(
                self.transport,
                self.stream,
                ctx,
                server_hostname=server_hostname,
                ssl_handshake_timeout=self.settings.timeout,
            )
        if transport is None:
            raise ConnectionResetError("connection closed during the TLS handshake")
        self.stream.renew(transport)
        self.transcript.note(f"TLS handshake done ({self.tls_version()})")

    def extra(self, name: str) -> Any:
        """The transport's ``get_extra_info(name)``."""
        return self.transport.get_extra_info(name)

    def ssl_object(self) -> ssl.SSLObject | None:
        """The TLS state of the connection, if it is encrypted."""
        transport = self.stream.transport
        obj = transport.get_extra_info("ssl_object") if transport is not None else None
        return obj if isinstance(obj, ssl.SSLObject) else None

    def tls_version(self) -> str | None:
        """Negotiated TLS version, or None in plain text."""
        obj = self.ssl_object()
        return obj.version() if obj is not None else None

    def abort(self) -> None:
        """Drop the connection at once (no TLS close_notify, no waiting for the peer)."""
        if self._steps is not None:
            self._steps.stop()
        if self.stream.transport is not None:
            self.stream.transport.abort()

    async def close(self) -> None:
        """Close without waiting long for the peer."""
        transport = self.stream.transport
        if transport is None:
            return
        transport.close()
        try:
            async with self.deadline(min(self.settings.timeout, 1.0)):
                await self.stream.wait_lost()
        except (OSError, TimeoutError, ssl.SSLError):
            transport.abort()
        finally:
            if self._steps is not None:
                self._steps.stop()


class _LineTest(Protocol):
    def __call__(self, line: str, /) -> bool: ...


def sni_for(endpoint: Endpoint) -> str | None:
    """The SNI name to send: the server name, or the host when it is not an IP address."""
    name = endpoint.server_name or endpoint.host
    return None if is_ip(name) else name


@lru_cache(maxsize=4096)
def is_ip(text: str) -> bool:
    """True for an IPv4 or IPv6 literal (cached: asked at every connect)."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@dataclass
class ConnectRecord:
    """The first TCP connect of one job: its time in ms, or the error that ended it.

    The engine starts a record per job (:func:`record_connect`); :func:`connect` fills it, so
    an application probe's own connection tells open, closed or filtered and the connect
    time without a separate TCP probe connection.
    """

    ms: float | None = None
    error: BaseException | None = None

    @property
    def settled(self) -> bool:
        """True once the first connect succeeded or failed."""
        return self.ms is not None or self.error is not None


_CONNECT_RECORD: ContextVar[ConnectRecord | None] = ContextVar("pathsec_connect", default=None)


def record_connect() -> ConnectRecord:
    """Start recording the first connect made in the current task (one job)."""
    record = ConnectRecord()
    _CONNECT_RECORD.set(record)
    return record


async def open_socket(endpoint: Endpoint, settings: ProbeSettings) -> socket.socket:
    """A connected non-blocking TCP socket to ``endpoint`` (names resolved off the loop)."""
    loop = asyncio.get_running_loop()
    if is_ip(endpoint.host):
        ip_family = socket.AF_INET6 if ":" in endpoint.host else socket.AF_INET
        addresses: list[tuple[int, tuple[Any, ...]]] = [(ip_family, (endpoint.host, endpoint.port))]
    else:
        infos = await loop.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM)
        addresses = [(info[0], info[4]) for info in infos]
    error: OSError = OSError(f"no address for {endpoint.host}")
    for family, address in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            if settings.source_address:
                sock.bind((settings.source_address, 0))
            await loop.sock_connect(sock, address)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    raise error


async def connect(
    endpoint: Endpoint,
    settings: ProbeSettings,
    transcript: Transcript,
    tls: ssl.SSLContext | None = None,
) -> Conn:
    """Open a connection (TLS at once when ``tls`` is given) within the timeout.

    The first connect of a job is recorded (:class:`ConnectRecord`) when the engine asked.
    """
    record = _CONNECT_RECORD.get()
    if record is not None and record.settled:
        record = None  # only the job's first connect counts
    start = time.monotonic()
    sock: socket.socket | None = None
    # The loop and the task are looked up once per connection (on Python 3.11 each lookup
    # is a getpid system call) and handed to the stream, the deadline and the connection.
    loop = asyncio.get_running_loop()
    task = asyncio.current_task(loop)
    high_water = max(4 * settings.max_line_bytes, settings.max_reply_bytes)

    def stream() -> ByteStream:
        return ByteStream(high_water, loop)

    limit = (
        Deadline(loop, task, settings.timeout)
        if task is not None
        else asyncio.timeout(settings.timeout)
    )
    try:
        async with limit:
            if tls is None and is_ip(endpoint.host):
                # One address and nothing after the connect: the event loop connects
                # (one step instead of a socket of ours handed over), so this is the
                # TCP connect time.
                local = (settings.source_address, 0) if settings.source_address else None
                _, protocol = await loop.create_connection(
                    stream, endpoint.host, endpoint.port, local_addr=local
                )
                if record is not None:
                    record.ms = round((time.monotonic() - start) * 1000, 2)
                return Conn(protocol, settings, transcript, task)
            sock = await open_socket(endpoint, settings)
            if record is not None:
                record.ms = round((time.monotonic() - start) * 1000, 2)
            _, protocol = await loop.create_connection(
                stream,
                sock=sock,
                ssl=tls,
                # asyncio's own default for a host: the SNI name, else the address
                server_hostname=(sni_for(endpoint) or endpoint.host) if tls is not None else None,
                ssl_handshake_timeout=settings.timeout if tls is not None else None,
            )
    except BaseException as exc:
        if record is not None and record.ms is None:
            record.error = exc
        if sock is not None:
            sock.close()
        raise
    conn = Conn(protocol, settings, transcript, task)
    if tls is not None:
        transcript.note(f"TLS handshake done ({conn.tls_version()})")
    return conn


def classify(exc: BaseException) -> tuple[Status, str]:
    """Map an exception from a connection to a status and a short reason."""
    if isinstance(exc, TimeoutError):
        return Status.timeout, "no answer within the timeout"
    if isinstance(exc, ConnectionRefusedError):
        return Status.refused, "connection refused"
    if isinstance(exc, ssl.SSLError):
        return Status.tls_error, f"TLS error: {exc.reason or exc}"
    if isinstance(exc, ssl.CertificateError):
        return Status.tls_error, f"TLS error: {exc}"
    if isinstance(exc, ProtocolError):
        return Status.protocol_error, str(exc)
    if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, EOFError)):
        return Status.reset, str(exc) or "connection reset"
    if isinstance(exc, OSError):
        return Status.error, exc.strerror or str(exc)
    return Status.error, f"{type(exc).__name__}: {exc}"


async def guarded(job: Job, body: _JobBody, settings: ProbeSettings) -> Attempt:
    """Run ``body`` with a fresh transcript; turn every network or peer failure into data."""
    transcript = Transcript()
    start = time.monotonic()
    try:
        value = await body(transcript)
    except (OSError, TimeoutError, ssl.SSLError, ProtocolError, EOFError) as exc:
        status, reason = classify(exc)
        transcript.note(reason)
        return Attempt(
            job, status, reason, transcript.freeze(), None, round(time.monotonic() - start, 4)
        )
    return Attempt(
        job, Status.ok, None, transcript.freeze(), value, round(time.monotonic() - start, 4)
    )


class _JobBody(Protocol):
    async def __call__(self, transcript: Transcript, /) -> BaseModel: ...

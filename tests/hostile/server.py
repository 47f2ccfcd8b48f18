"""Byte-scripted asyncio servers on loopback, for the hostile-server corpus.

Each case is a coroutine ``handler(conn)`` that decides byte by byte what the server says.
The server runs its own event loop in a thread, counts connections (with their time and
peer address) and records every line the client sent, so tests can prove what pathsec did.
Every loop in a handler is bounded (by a byte budget, a line count or the client closing),
and :meth:`HostileServer.stop` cancels whatever is still running.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
import ssl
import struct
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

#: What a handler can never exceed: it stops writing after this many bytes.
MAX_SERVER_BYTES = 100 * 1024 * 1024


@dataclass
class Peer:
    """One accepted connection as the handler sees it."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    server: HostileServer

    async def send(self, data: bytes) -> bool:
        """Write ``data``; False once the client has gone."""
        try:
            self.writer.write(data)
            await self.writer.drain()
        except (OSError, RuntimeError):
            return False
        return not self.writer.is_closing()

    async def line(self, timeout: float = 5.0) -> str | None:
        """One line from the client (recorded), or None when it closed or went quiet."""
        try:
            async with asyncio.timeout(timeout):
                raw = await self.reader.readline()
        except (OSError, TimeoutError, ValueError, asyncio.LimitOverrunError):
            return None
        if not raw:
            return None
        text = raw.rstrip(b"\r\n").decode("latin-1")
        with self.server.lock:
            self.server.received.append(text)
        return text

    async def commands(self, limit: int) -> AsyncIterator[tuple[str, str]]:
        """Up to ``limit`` client lines, each with its upper-cased first word, until it goes."""
        for _ in range(limit):
            line = await self.line()
            if line is None:
                return
            yield line, line.split(" ", 1)[0].upper()

    async def start_tls(self, ctx: ssl.SSLContext) -> bool:
        """Upgrade to TLS as the server; False when the client's handshake failed."""
        try:
            async with asyncio.timeout(5):
                await self.writer.start_tls(ctx)
        except (OSError, TimeoutError, ssl.SSLError):
            return False
        return True

    def reset(self) -> None:
        """Close with a TCP RST (SO_LINGER 0) instead of a FIN."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


Handler = Callable[[Peer], Awaitable[None]]


@dataclass
class HostileServer:
    """A TCP server on ``host`` (ephemeral port unless given) running ``handler`` per client."""

    handler: Handler
    host: str = "127.0.0.1"
    port: int = 0
    tls: ssl.SSLContext | None = None  # implicit TLS: wrap before the handler runs
    received: list[str] = field(default_factory=list)
    accepted: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def connections(self) -> int:
        """How many connections were accepted."""
        with self.lock:
            return len(self.accepted)

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(
                self._client,
                self.host,
                self.port,
                ssl=self.tls,
                ssl_handshake_timeout=5 if self.tls is not None else None,
            )
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        peer = writer.get_extra_info("peername")
        with self.lock:
            self.accepted.append((time.monotonic(), str(peer[0]) if peer else "?"))
        try:
            async with asyncio.timeout(30):  # no case may keep a connection longer
                await self.handler(Peer(reader, writer, self))
        except (OSError, TimeoutError, ssl.SSLError, asyncio.CancelledError):
            pass
        finally:
            writer.transport.abort()
            self._tasks.discard(task)

    def start(self) -> HostileServer:
        """Start serving; returns once the port is bound."""
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("hostile server did not start")
        return self

    def stop(self) -> None:
        """Stop serving, cancel running handlers and join the thread."""

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for t in list(self._tasks):
                t.cancel()
            await asyncio.sleep(0)

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop.close()


@contextlib.contextmanager
def serving(
    handler: Handler, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
) -> Iterator[HostileServer]:
    """Run ``handler`` on ``host:port`` for the duration of the block."""
    srv = HostileServer(handler, host, port, tls).start()
    try:
        yield srv
    finally:
        srv.stop()


# --- certificates --------------------------------------------------------------------------

_KEY = ec.generate_private_key(ec.SECP256R1())


def server_context(
    directory: Path,
    subject: x509.Name | None = None,
    sans: list[x509.GeneralName] | None = None,
    raw_san: bytes | None = None,
) -> ssl.SSLContext:
    """A TLS server context with a self-signed P-256 certificate of the given subject/SANs."""
    name = subject or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hostile.test")])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hostile issuer")]))
        .public_key(_KEY.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if raw_san is not None:  # a subjectAltName extension whose DER is whatever the test says
        builder = builder.add_extension(
            x509.UnrecognizedExtension(x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME, raw_san),
            critical=False,
        )
    cert = builder.sign(_KEY, hashes.SHA256())
    cp, kp = directory / "hostile.crt", directory / "hostile.key"
    cp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kp.write_bytes(
        _KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cp, kp)
    return ctx

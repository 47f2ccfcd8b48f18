"""A small base for line-oriented text protocols (POP3, IMAP4) on asyncio streams.

No library provides POP3 or IMAP4 *servers* for asyncio (aiosmtpd is SMTP only), and the
lab needs only greetings, capabilities, STARTTLS and refused logins, so the two are
written by hand on top of this base.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable

from pathsec.lab.common import Unit

#: Longest command line accepted; longer lines end the session.
MAX_LINE = 8192
#: Idle time after which a session is closed.
IDLE_SECONDS = 120.0


class LineSession:
    """One client connection: read CRLF lines, write replies, upgrade to TLS in place."""

    def __init__(
        self, unit: Unit, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.unit = unit
        self.reader = reader
        self.writer = writer
        self.tls = writer.get_extra_info("ssl_object") is not None

    async def send(self, *lines: str) -> None:
        """Write ``lines``, each ended by CRLF."""
        self.writer.write("".join(f"{x}\r\n" for x in lines).encode("utf-8"))
        await self.writer.drain()

    async def readline(self) -> str | None:
        """The next line without CRLF; None at EOF, on an overlong line or when idle."""
        try:
            raw = await asyncio.wait_for(self.reader.readline(), IDLE_SECONDS)
        except (TimeoutError, ValueError, ConnectionError, ssl.SSLError):
            return None
        if not raw or len(raw) > MAX_LINE:
            return None
        return raw.decode("utf-8", "replace").rstrip("\r\n")

    async def start_tls(self) -> bool:
        """Upgrade the connection (STARTTLS/STLS); False when the handshake failed."""
        try:
            await self.writer.start_tls(self.unit.tls)
        except (ssl.SSLError, ConnectionError, OSError):
            return False
        self.tls = True
        return True

    async def close(self) -> None:
        """Close the connection, ignoring a peer that already left."""
        self.writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer.wait_closed(), 2.0)


async def serve(
    unit: Unit, implicit_tls: bool, run: Callable[[LineSession], Awaitable[None]]
) -> asyncio.Server:
    """Listen on ``unit``'s address; each connection runs ``run`` with its session."""

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = LineSession(unit, reader, writer)
        unit.track(writer)
        try:
            await run(session)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass
        finally:
            unit.untrack(writer)
            await session.close()

    return await asyncio.start_server(
        on_client, unit.host, unit.port, ssl=unit.tls if implicit_tls else None
    )

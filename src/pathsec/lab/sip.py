"""Unified Messaging SIP (5060 TCP, 5061 and 5062 TLS): OPTIONS answered ``200 OK``.

Hand-written: no SIP library is a dependency, and the lab needs one request type. The
``Server`` header follows the 2016 form of fingerprints §7 with the 2007 build; the 2007
string itself was not found verbatim ([R]).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl

from pathsec.lab.common import Unit
from pathsec.lab.profiles import Service

TLS_SERVICES = frozenset({Service.sips, Service.sips_5062})
MAX_MESSAGE = 16384
IDLE_SECONDS = 60.0
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY, INFO"
_COPIED = ("via", "from", "to", "call-id", "cseq")


def server_header(build_padded: str) -> str:
    """``RTCC/1.0.0.0 MSExchangeUM/<build>`` (UCMA 1.0 core of Exchange 2007 UM)."""
    return f"RTCC/1.0.0.0 MSExchangeUM/{build_padded}"


def parse(head: str) -> tuple[str, list[tuple[str, str]]]:
    """The request line and the headers (names lower-cased, order kept)."""
    lines = head.split("\r\n")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.append((name.strip().lower(), value.strip()))
    return lines[0], headers


def reply(unit: Unit, request_line: str, headers: list[tuple[str, str]]) -> str:
    """The response to one request: 200 for OPTIONS, 403 for INVITE, 501 otherwise."""
    method = request_line.split(" ", 1)[0].upper()
    status = {"OPTIONS": "200 OK", "INVITE": "403 Forbidden"}.get(method, "501 Not Implemented")
    out = [f"SIP/2.0 {status}"]
    names = {"via": "Via", "from": "From", "to": "To", "call-id": "Call-ID", "cseq": "CSeq"}
    for name, value in headers:
        if name in _COPIED:
            if name == "to" and ";tag=" not in value:
                value = f"{value};tag={os.urandom(4).hex()}"
            out.append(f"{names[name]}: {value}")
    out += [
        f"Contact: <sip:{unit.identity.fqdn}:{unit.port};transport="
        f"{'Tls' if unit.service in TLS_SERVICES else 'Tcp'}>",
        f"Server: {server_header(unit.identity.build_padded())}",
        f"Allow: {ALLOW}",
        "Accept: application/sdp",
        "Content-Length: 0",
    ]
    return "\r\n".join(out) + "\r\n\r\n"


async def start(unit: Unit) -> asyncio.Server:
    """Listen for SIP (``sip``: TCP; ``sips``, ``sips_5062``: TLS)."""

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        unit.track(writer)
        try:
            while True:
                raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_SECONDS)
                line, headers = parse(raw.decode("utf-8", "replace"))
                length = dict(headers).get("content-length", "0")
                if length.isdigit() and 0 < int(length) <= MAX_MESSAGE:
                    await asyncio.wait_for(reader.readexactly(int(length)), IDLE_SECONDS)
                writer.write(reply(unit, line, headers).encode("utf-8"))
                await writer.drain()
        except (
            TimeoutError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ConnectionError,
            ssl.SSLError,
        ):
            pass
        finally:
            unit.untrack(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 2.0)

    tls = unit.tls if unit.service in TLS_SERVICES else None
    return await asyncio.start_server(on_client, unit.host, unit.port, ssl=tls, limit=MAX_MESSAGE)

"""A small asyncio SMTP responder with STARTTLS and Exchange-like EHLO lines, for the bench.

    python bench/smtp_server.py SPEC.json

``SPEC.json``: ``{"cert": PATH, "key": PATH, "endpoints": [[ip, port], ...], "uvloop": BOOL}``
(uvloop: serve on uvloop's event loop, when it is installed). The process
listens on every endpoint, prints ``ready <n>`` on stdout once all listeners are up, and
serves until it is terminated. It speaks just enough SMTP for a probe and for nmap's
``smtp-commands``: banner, EHLO/HELO, STARTTLS, HELP, NOOP, RSET, QUIT; anything else gets
``500``. Every read is bounded (line length, lines per connection, idle timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import resource
import signal
import ssl
import sys
from pathlib import Path

BANNER = "220 {name} Microsoft ESMTP MAIL Service ready at Sat, 28 Nov 2026 04:00:00 +0000"
EHLO_BEFORE = (
    "SIZE 37748736",
    "PIPELINING",
    "DSN",
    "ENHANCEDSTATUSCODES",
    "STARTTLS",
    "X-ANONYMOUSTLS",
    "AUTH NTLM",
    "X-EXPS GSSAPI NTLM",
    "8BITMIME",
    "BINARYMIME",
    "CHUNKING",
    "XEXCH50",
    "XRDST",
)
EHLO_AFTER = (
    "SIZE 37748736",
    "PIPELINING",
    "DSN",
    "ENHANCEDSTATUSCODES",
    "AUTH NTLM LOGIN",
    "X-EXPS GSSAPI NTLM",
    "8BITMIME",
    "BINARYMIME",
    "CHUNKING",
    "XRDST",
)
MAX_LINE = 2048
MAX_COMMANDS = 50
IDLE_TIMEOUT = 10.0


def _ehlo(name: str, peer: str, tls: bool) -> bytes:
    lines = [f"{name} Hello [{peer}]", *(EHLO_AFTER if tls else EHLO_BEFORE)]
    out = [f"250-{line}" for line in lines[:-1]] + [f"250 {lines[-1]}"]
    return ("\r\n".join(out) + "\r\n").encode("ascii")


def make_handler(ctx: ssl.SSLContext, name: str) -> object:
    """The connection handler for one listener."""
    banner = (BANNER.format(name=name) + "\r\n").encode("ascii")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        peer_ip = peer[0] if peer else "unknown"
        tls = False
        try:
            writer.write(banner)
            for _ in range(MAX_COMMANDS):
                async with asyncio.timeout(IDLE_TIMEOUT):
                    raw = await reader.readuntil(b"\n")
                verb = raw[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    writer.write(_ehlo(name, peer_ip, tls))
                elif verb == b"STAR" and raw[:8].upper() == b"STARTTLS" and not tls:
                    writer.write(b"220 2.0.0 SMTP server ready\r\n")
                    async with asyncio.timeout(IDLE_TIMEOUT):
                        await writer.drain()
                        await writer.start_tls(ctx)
                    tls = True
                elif verb == b"QUIT":
                    writer.write(b"221 2.0.0 Service closing transmission channel\r\n")
                    break
                elif verb == b"HELP":
                    writer.write(
                        b"214-This server supports the following commands:\r\n"
                        b"214 HELO EHLO STARTTLS RCPT DATA RSET MAIL QUIT HELP AUTH BDAT\r\n"
                    )
                elif verb in (b"NOOP", b"RSET"):
                    writer.write(b"250 2.0.0 OK\r\n")
                else:
                    writer.write(b"500 5.3.3 Unrecognized command\r\n")
            async with asyncio.timeout(IDLE_TIMEOUT):
                await writer.drain()
        except (OSError, TimeoutError, ssl.SSLError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await writer.wait_closed()

    return handle


async def serve(spec: dict[str, object]) -> None:
    """Listen on every endpoint of ``spec`` until SIGTERM."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(spec["cert"]), str(spec["key"]))
    endpoints = spec["endpoints"]
    assert isinstance(endpoints, list)
    servers = []
    for ip, port in endpoints:
        handler = make_handler(ctx, f"ex-{ip.replace('.', '-')}-{port}.bench.example")
        servers.append(
            await asyncio.start_server(
                handler,  # type: ignore[arg-type]
                ip,
                port,
                backlog=1024,
                reuse_address=True,
                limit=MAX_LINE,
            )
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    print(f"ready {len(servers)}", flush=True)
    await stop.wait()
    for s in servers:
        s.close()


def main() -> None:
    """Read the spec file and serve."""
    logging.getLogger("asyncio").setLevel(logging.ERROR)  # "eof_received()" noise
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    if spec.get("uvloop"):
        import uvloop  # the server side only: a fast server, as a real MTA is

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    asyncio.run(serve(spec))


if __name__ == "__main__":
    main()

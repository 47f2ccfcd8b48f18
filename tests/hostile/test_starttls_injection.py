"""STARTTLS response injection: what a server sends between its go-ahead and the handshake.

RFC 3207 section 4.2: the client must discard anything learnt before TLS. A server (or a
man in the middle) that appends plaintext EHLO lines to its "220 go ahead" must not have
them read as if they had come over TLS; pathsec drops them and notes it in the transcript.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hostile.server import Peer, server_context, serving
from pathsec.audit.engine import run_audit
from pathsec.audit.models import Target
from pathsec.probes.interface import AppProtocol, ProbeSettings
from pathsec.probes.smtp import SmtpObservation

_CTX = server_context(Path(tempfile.mkdtemp(prefix="pathsec-inject-")))


async def injecting_smtp(p: Peer) -> None:
    """Go-ahead plus an injected plaintext EHLO reply in one write, then real TLS."""
    if not await p.send(b"220 inject.example ESMTP\r\n"):
        return
    tls = False
    async for _line, verb in p.commands(20):
        if verb == "EHLO":
            await p.send(
                b"250-inject.example\r\n250-STARTTLS\r\n250 SIZE 1000\r\n"
                if not tls
                else b"250-inject.example\r\n250 AUTH LOGIN\r\n"
            )
        elif verb == "STARTTLS" and not tls:
            # One write: the injected lines arrive with the go-ahead (and the server turns
            # to TLS at once, before the ClientHello could land in its plain buffer).
            await p.send(b"220 go ahead\r\n250-INJECTED\r\n250 AUTH PLAIN\r\n")
            if not await p.start_tls(_CTX):
                return
            tls = True
        elif verb == "QUIT":
            await p.send(b"221 bye\r\n")
            return
        else:
            await p.send(b"500 no\r\n")


def test_plaintext_injected_after_the_go_ahead_is_discarded() -> None:
    with serving(injecting_smtp) as srv:
        target = Target(host="127.0.0.1", port=srv.port, protocol=AppProtocol.smtp)
        (result,) = asyncio.run(run_audit([target], ProbeSettings(timeout=3)))
    smtp = result.observations.smtp
    assert isinstance(smtp, SmtpObservation)
    assert smtp.tls is not None and smtp.ehlo_after is not None
    assert "INJECTED" not in smtp.ehlo_after.keywords
    assert smtp.auth_after_tls() == ("LOGIN",)  # the real reply over TLS, not the injected one
    assert any("sent before the TLS handshake discarded" in line for line in smtp.transcript)

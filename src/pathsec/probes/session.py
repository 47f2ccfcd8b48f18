"""The shape the mail protocol probes share: one connection, one dialogue, one observation.

SMTP, POP3 and IMAP each connect once (with TLS at once on their implicit-TLS ports),
read what the server offers, upgrade with STARTTLS/STLS when offered and read it again.
What differs is the dialogue, which each probe writes as :meth:`SessionProbe.session`;
the job, the connection, failure handling and folding are here once.
"""

from __future__ import annotations

import ssl
from abc import abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from pathsec.probes.certs import TlsSession, describe_session, tls_context
from pathsec.probes.interface import (
    Attempt,
    Endpoint,
    Job,
    ObsT,
    Prior,
    Probe,
    ProbeSettings,
    ProtocolError,
)
from pathsec.probes.runtime import Conn, classify, connect, guarded, sni_for
from pathsec.probes.text import Transcript


class SessionProbe(Probe[ObsT]):
    """Base of a probe that makes one connection per endpoint and reports one observation."""

    #: The job's first act is one connect (engine: no separate connect stage).
    reports_connect: ClassVar[bool] = True

    def plan(self, endpoint: Endpoint, settings: ProbeSettings, prior: Prior) -> Sequence[Job]:
        """One job on every endpoint of the protocol."""
        return (Job(self.kind, endpoint),)

    @abstractmethod
    async def session(self, conn: Conn, endpoint: Endpoint) -> ObsT:
        """The protocol dialogue on an open connection (TLS already on implicit-TLS ports)."""

    async def run(self, job: Job, settings: ProbeSettings) -> Attempt:
        """Connect, hold the dialogue, drop the connection; failures become the attempt's."""

        async def body(transcript: Transcript) -> ObsT:
            ep = job.endpoint
            tls = tls_context() if ep.implicit_tls else None
            conn = await connect(ep, settings, transcript, tls)
            try:
                return await self.session(conn, ep)
            finally:
                # The dialogue ended with its goodbye (or failed): drop the connection
                # without a TLS close_notify round trip.
                conn.abort()

        return await guarded(job, body, settings)

    def fold(self, endpoint: Endpoint, attempts: Sequence[Attempt]) -> ObsT:
        """The single attempt's observation, with its transcript and status."""
        return self.fold_one(attempts)


def session_of(conn: Conn, endpoint: Endpoint) -> TlsSession | None:
    """What the connection's TLS session shows (None in plain text)."""
    return describe_session(conn.ssl_object(), endpoint.server_name or endpoint.host)


async def upgrade(conn: Conn, endpoint: Endpoint) -> str | None:
    """The TLS handshake after the server's STARTTLS/STLS go-ahead; why it failed, or None."""
    try:
        await conn.start_tls(tls_context(), sni_for(endpoint))
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        return classify(exc)[1]
    return None


async def continuation_ntlm(conn: Conn, command: str, negotiate_b64: str) -> str:
    """The NTLM exchange of POP3 (``AUTH NTLM``) and IMAP (``n1 AUTHENTICATE NTLM``), which
    both answer with ``+`` continuations: send ``command`` and the NEGOTIATE message, read
    the challenge, cancel with ``*``; return the base64 challenge."""
    verb = command.split(" ", 1)[-1] if command.startswith("n1 ") else command
    await conn.send(command)
    line = await conn.readline()
    if not line.startswith("+"):
        raise ProtocolError(f"{verb} refused")
    await conn.send(negotiate_b64, shown=f"{negotiate_b64}  (NTLMSSP NEGOTIATE)")
    line = await conn.readline()
    if not line.startswith("+ "):
        raise ProtocolError("no NTLM challenge")
    await conn.send("*")
    await conn.readline()
    return line[2:].strip()

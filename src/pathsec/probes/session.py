"""The shape the mail protocol probes share: one connection, one dialogue, one observation.

SMTP, POP3 and IMAP each connect once (with TLS at once on their implicit-TLS ports),
read what the server offers, upgrade with STARTTLS/STLS when offered and read it again.
What differs is the dialogue, which each probe writes as :meth:`SessionProbe.session`;
the job, the connection, failure handling and folding are here once.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from typing import ClassVar

from pathsec.probes.base import (
    Attempt,
    Conn,
    Endpoint,
    Job,
    Observation,
    ProbeKind,
    ProbeSettings,
    Transcript,
    classify,
    connect,
    guarded,
    sni_for,
)
from pathsec.probes.certs import TlsSession, describe_session, tls_context


class SessionProbe:
    """Base of a probe that makes one connection per endpoint and reports one observation."""

    kind: ProbeKind
    #: The observation type; an empty one stands in when the dialogue failed early.
    observation: ClassVar[type[Observation]]
    #: The job's first act is one connect (engine: no separate tcp stage).
    reports_connect: ClassVar[bool] = True

    def plan(
        self, endpoint: Endpoint, settings: ProbeSettings, prior: Mapping[ProbeKind, Observation]
    ) -> Sequence[Job]:
        """One job on every endpoint of the protocol."""
        return (Job(self.kind, endpoint),)

    async def session(self, conn: Conn, endpoint: Endpoint) -> Observation:
        """The protocol dialogue on an open connection (TLS already on implicit-TLS ports)."""
        raise NotImplementedError

    async def run(self, job: Job, settings: ProbeSettings) -> Attempt:
        """Connect, hold the dialogue, drop the connection; failures become the attempt's."""

        async def body(transcript: Transcript) -> Observation:
            ep = job.endpoint
            tls = tls_context() if ep.protocol.implicit_tls else None
            conn = await connect(ep, settings, transcript, tls)
            try:
                return await self.session(conn, ep)
            finally:
                # The dialogue ended with its goodbye (or failed): drop the connection
                # without a TLS close_notify round trip.
                conn.abort()

        return await guarded(job, body, settings)

    def fold(self, endpoint: Endpoint, attempts: Sequence[Attempt]) -> Observation:
        """The single attempt's observation, with its transcript and status."""
        a = attempts[0]
        base = a.value if isinstance(a.value, self.observation) else self.observation()
        return base.model_copy(
            update={"status": a.status, "reason": a.reason, "transcript": a.transcript}
        )


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

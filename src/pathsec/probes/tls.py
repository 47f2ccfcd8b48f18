"""TLS probe: which versions the server accepts (one pinned handshake each) and its certificate.

For STARTTLS endpoints each handshake is preceded by the protocol's own upgrade dialogue
(``starttls`` of the smtp, pop3 and imap modules).

Cost matters here (a version probe is one connection and one handshake): the version the
application probe's own handshake negotiated is taken as accepted without a new connection,
the certificate is parsed once (from that handshake, or from the newest pinned one when the
application probe had none), and a version probe keeps only its outcome in the transcript
(the dialogue before the handshake is already in the application probe's transcript).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pathsec.probes import imap, pop3, smtp
from pathsec.probes.base import (
    Attempt,
    Conn,
    Endpoint,
    Job,
    MailProtocol,
    Observation,
    ProbeKind,
    ProbeSettings,
    ProtocolError,
    Status,
    Transcript,
    classify,
    connect,
    sni_for,
)
from pathsec.probes.certs import (
    VERSIONS,
    LocalTlsUnsupported,
    TlsSession,
    describe_session,
    tls_context,
)

Verdict = Literal["accepted", "rejected", "unknown"]

#: Bounds of one version probe's handshake (a long certificate chain is well below).
MAX_HANDSHAKE_BYTES = 1024 * 1024
HANDSHAKE_CHUNK = 64 * 1024

#: The STARTTLS dialogue of each protocol family.
STARTTLS: dict[ProbeKind, Callable[[Conn], Awaitable[None]]] = {
    ProbeKind.smtp: smtp.starttls,
    ProbeKind.pop3: pop3.starttls,
    ProbeKind.imap: imap.starttls,
}

#: OpenSSL reasons that mean *we* could not offer the version (not the server's refusal).
_LOCAL_REASONS = {
    "NO_PROTOCOLS_AVAILABLE",
    "NO_CIPHERS_AVAILABLE",
    "NO_SUITABLE_SIGNATURE_ALGORITHM",
}


class VersionResult(BaseModel):
    """The outcome of one handshake pinned to one version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    result: Verdict
    reason: str | None = None
    session: TlsSession | None = None


class TlsObservation(Observation):
    """Accepted versions and the session/certificate of the best handshake."""

    versions: dict[str, Verdict] = Field(default_factory=dict)
    version_reasons: dict[str, str] = Field(default_factory=dict)
    session: TlsSession | None = None

    @property
    def accepted(self) -> tuple[str, ...]:
        """Versions the server accepted, oldest first."""
        return tuple(v for v in VERSIONS if self.versions.get(v) == "accepted")


def tls_available(endpoint: Endpoint, prior: Mapping[ProbeKind, Observation]) -> bool:
    """True when the endpoint starts with TLS or its protocol probe saw STARTTLS offered."""
    if endpoint.protocol.implicit_tls:
        return True
    family = endpoint.protocol.family
    obs = prior.get(family) if family else None
    return bool(getattr(obs, "starttls_offered", False) or getattr(obs, "stls_offered", False))


@dataclass(frozen=True)
class VersionJob(Job):
    """A handshake pinned to ``variant``.

    ``known``: the application probe's handshake already negotiated this version; the job
    reports it accepted with that session and opens no connection. ``certificate``: parse
    the certificate of an accepted handshake (only needed when nothing is known).
    """

    known: TlsSession | None = field(default=None, compare=False)
    certificate: bool = True


class _OutcomeOnly(Transcript):
    """A transcript that keeps notes (handshake outcomes) but not the dialogue lines."""

    def add(self, who: str, text: str) -> None:
        """Keep ``*`` notes only."""
        if who == "*":
            super().add(who, text)


async def handshake(conn: Conn, ctx: ssl.SSLContext, server_hostname: str | None) -> ssl.SSLObject:
    """A TLS handshake over memory BIOs on the plain stream, bounded in time and bytes.

    A version probe only needs to know whether the handshake completes, so it skips
    asyncio's TLS transport (which allocates a 256 KiB buffer and a protocol object per
    connection) and drives OpenSSL directly: send what it wants sent, feed what arrives.
    """
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_side=False, server_hostname=server_hostname)
    received = 0
    async with asyncio.timeout(conn.settings.timeout):
        while True:
            try:
                obj.do_handshake()
                finished = True
            except ssl.SSLWantReadError:
                finished = False
            pending = outgoing.read()
            if pending:
                conn.writer.write(pending)
            if finished:
                conn.transcript.note(f"TLS handshake done ({obj.version()})")
                return obj
            chunk = await conn.reader.read(HANDSHAKE_CHUNK)
            if not chunk:
                raise ConnectionResetError("connection closed by the server")
            received += len(chunk)
            if received > MAX_HANDSHAKE_BYTES:
                raise ProtocolError(f"TLS handshake longer than {MAX_HANDSHAKE_BYTES} bytes")
            incoming.write(chunk)


@cache
def _context(version: str) -> ssl.SSLContext | str:
    """The pinned context for ``version``, or why the local OpenSSL cannot offer it (cached)."""
    try:
        return tls_context(version)
    except LocalTlsUnsupported as exc:
        return str(exc)


def known_session(endpoint: Endpoint, prior: Mapping[ProbeKind, Observation]) -> TlsSession | None:
    """The session the application probe negotiated (a version pathsec pins), if any."""
    family = endpoint.protocol.family
    session = getattr(prior.get(family), "tls", None) if family else None
    if isinstance(session, TlsSession) and session.version in VERSIONS:
        return session
    return None


class TlsProbe:
    """The TLS probe: one connection per version not yet known."""

    kind = ProbeKind.tls

    def plan(
        self, endpoint: Endpoint, settings: ProbeSettings, prior: Mapping[ProbeKind, Observation]
    ) -> Sequence[Job]:
        """One job per version, when TLS is reachable at all."""
        if endpoint.protocol is MailProtocol.tcp or not tls_available(endpoint, prior):
            return ()
        known = known_session(endpoint, prior)
        return tuple(
            VersionJob(
                self.kind,
                endpoint,
                v,
                known=known if known is not None and known.version == v else None,
                certificate=known is None,
            )
            for v in VERSIONS
        )

    async def run(self, job: Job, settings: ProbeSettings) -> Attempt:
        """One handshake pinned to ``job.variant``; the verdict is the attempt's value."""
        ep = job.endpoint
        version = job.variant
        transcript = _OutcomeOnly()

        def done(
            verdict: Verdict, reason: str | None, session: TlsSession | None = None
        ) -> Attempt:
            transcript.note(f"{version}: {verdict}" + (f" ({reason})" if reason else ""))
            return Attempt(
                job,
                Status.ok,
                None,
                transcript.freeze(),
                VersionResult(version=version, result=verdict, reason=reason, session=session),
            )

        if isinstance(job, VersionJob) and job.known is not None:
            return done("accepted", "negotiated by the protocol probe's handshake", job.known)
        ctx = _context(version)
        if isinstance(ctx, str):
            return done("unknown", ctx)
        describe = not isinstance(job, VersionJob) or job.certificate
        implicit = ep.protocol.implicit_tls
        conn: Conn | None = None
        try:
            conn = await connect(ep, settings, transcript)
            if not implicit:
                family = ep.protocol.family
                if family is None or family not in STARTTLS:
                    return done("unknown", "no STARTTLS dialogue for this protocol")
                await STARTTLS[family](conn)
            try:
                obj = await handshake(conn, ctx, sni_for(ep))
            except ssl.SSLError as exc:
                return _handshake_failure(done, exc)
            except (ConnectionError, EOFError) as exc:
                return done("rejected", f"connection closed during handshake: {exc}")
            session = describe_session(obj, ep.server_name or ep.host) if describe else None
            return done("accepted", None, session)
        except (OSError, TimeoutError, ProtocolError, EOFError) as exc:
            status, reason = classify(exc)
            if implicit and status is Status.reset:
                return done("rejected", f"connection closed during handshake: {reason}")
            return done("unknown", reason)
        finally:
            if conn is not None:
                # Nothing more to say on this connection: drop it at once (no close_notify
                # round trip, no waiting for the peer), as a scanner's version probe does.
                conn.writer.transport.abort()

    def fold(self, endpoint: Endpoint, attempts: Sequence[Attempt]) -> TlsObservation:
        """Versions table plus the session of the known handshake or the newest accepted one."""
        versions: dict[str, Verdict] = {}
        reasons: dict[str, str] = {}
        session: TlsSession | None = None
        known: TlsSession | None = None
        transcript: list[str] = []
        for a in attempts:
            transcript.extend(a.transcript)
            if isinstance(a.value, VersionResult):
                versions[a.value.version] = a.value.result
                if a.value.reason:
                    reasons[a.value.version] = a.value.reason
                if a.value.result == "accepted" and a.value.session is not None:
                    session = a.value.session
            if isinstance(a.job, VersionJob) and a.job.known is not None:
                known = a.job.known
        session = known or session
        reason = None if session is not None else "no TLS version was accepted"
        status = Status.ok if session is not None else Status.tls_error
        return TlsObservation(
            status=status,
            reason=reason,
            transcript=tuple(transcript[:60]),
            versions=versions,
            version_reasons=reasons,
            session=session,
        )


def _handshake_failure(
    done: Callable[[Verdict, str | None], Attempt], exc: ssl.SSLError
) -> Attempt:
    reason = str(exc.reason or exc)
    if reason in _LOCAL_REASONS:
        return done("unknown", f"the local OpenSSL cannot offer it ({reason})")
    return done("rejected", reason)

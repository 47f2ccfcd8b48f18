"""TLS probe: which versions the server accepts (one pinned handshake each) and its certificate.

For STARTTLS endpoints each handshake is preceded by the protocol's own upgrade dialogue
(``starttls`` of the smtp, pop3 and imap modules).
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
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


class TlsProbe:
    """The TLS probe: one connection per version."""

    kind = ProbeKind.tls

    def plan(
        self, endpoint: Endpoint, settings: ProbeSettings, prior: Mapping[ProbeKind, Observation]
    ) -> Sequence[Job]:
        """One job per version, when TLS is reachable at all."""
        if endpoint.protocol is MailProtocol.tcp or not tls_available(endpoint, prior):
            return ()
        return tuple(Job(self.kind, endpoint, v) for v in VERSIONS)

    async def run(self, job: Job, settings: ProbeSettings) -> Attempt:
        """One handshake pinned to ``job.variant``; the verdict is the attempt's value."""
        ep = job.endpoint
        version = job.variant
        transcript = Transcript()

        def done(
            verdict: Verdict, reason: str | None, session: TlsSession | None = None
        ) -> Attempt:
            if reason:
                transcript.note(f"{version}: {verdict} ({reason})")
            return Attempt(
                job,
                Status.ok,
                None,
                transcript.freeze(),
                VersionResult(version=version, result=verdict, reason=reason, session=session),
            )

        try:
            ctx = tls_context(version)
        except LocalTlsUnsupported as exc:
            return done("unknown", str(exc))
        implicit = ep.protocol.implicit_tls
        conn: Conn | None = None
        try:
            if implicit:
                try:
                    conn = await connect(ep, settings, transcript, ctx)
                except ssl.SSLError as exc:
                    return _handshake_failure(done, exc)
            else:
                conn = await connect(ep, settings, transcript)
                family = ep.protocol.family
                if family is None:
                    return done("unknown", "no STARTTLS dialogue for this protocol")
                await STARTTLS[family](conn)
                try:
                    await conn.start_tls(ctx, sni_for(ep))
                except ssl.SSLError as exc:
                    return _handshake_failure(done, exc)
                except (ConnectionError, EOFError) as exc:
                    return done("rejected", f"connection closed during handshake: {exc}")
            return done(
                "accepted", None, describe_session(conn.ssl_object(), ep.server_name or ep.host)
            )
        except (OSError, TimeoutError, ProtocolError, EOFError) as exc:
            status, reason = classify(exc)
            if implicit and status is Status.reset:
                return done("rejected", f"connection closed during handshake: {reason}")
            return done("unknown", reason)
        finally:
            if conn is not None:
                await conn.close()

    def fold(self, endpoint: Endpoint, attempts: Sequence[Attempt]) -> TlsObservation:
        """Versions table plus the session of the newest accepted version."""
        versions: dict[str, Verdict] = {}
        reasons: dict[str, str] = {}
        session: TlsSession | None = None
        transcript: list[str] = []
        for a in attempts:
            transcript.extend(a.transcript)
            if isinstance(a.value, VersionResult):
                versions[a.value.version] = a.value.result
                if a.value.reason:
                    reasons[a.value.version] = a.value.reason
                if a.value.result == "accepted" and a.value.session is not None:
                    session = a.value.session
        status = Status.ok if session is not None else Status.tls_error
        reason = None if session is not None else "no TLS version was accepted"
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

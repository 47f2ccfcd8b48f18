"""TLS probe: which versions the server accepts (one pinned handshake each) and its certificate.

For STARTTLS endpoints each handshake is preceded by the protocol's own upgrade dialogue:
the :class:`~pathsec.probes.interface.StartTls` hook of the endpoint's application probe.

Cost matters here (a version probe is one connection and one handshake): the version the
application probe's own handshake negotiated is taken as accepted without a new connection,
the certificate is parsed once (from that handshake, or from the newest pinned one when the
application probe had none), and a version probe keeps only its outcome in the transcript
(the dialogue before the handshake is already in the application probe's transcript).
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from pathsec.probes.certs import (
    LEGACY_OPTIONS,
    VERSIONS,
    LocalTlsUnsupported,
    TlsSession,
    describe_session,
    offer_versions,
    tls_context,
)
from pathsec.probes.hello import ServerHello, TlsAlert, read_server_hello
from pathsec.probes.interface import (
    AppProtocol,
    Attempt,
    Endpoint,
    Facts,
    Job,
    Observation,
    Prior,
    Probe,
    ProbeKind,
    ProbeSettings,
    ProtocolError,
    Speaks,
    Stage,
    StartTls,
    StartTlsObservation,
    Status,
)
from pathsec.probes.runtime import Conn, classify, connect, sni_for
from pathsec.probes.text import Transcript

Verdict = Literal["accepted", "rejected", "unknown"]
#: Every version pathsec judges, oldest first: SSL 2.0 and (where the local OpenSSL lacks
#: it) SSL 3.0 by hand-built hellos, the others by OpenSSL's.
ALL_VERSIONS = ("SSLv2", *VERSIONS)

#: Bounds of one version probe's handshake (a long certificate chain is well below).
MAX_HANDSHAKE_BYTES = 1024 * 1024
HANDSHAKE_CHUNK = 64 * 1024

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

    #: Equal values share one instance in a run's results (:func:`pathsec.compaction.compact`).
    interned: ClassVar[bool] = True

    versions: dict[str, Verdict] = Field(default_factory=dict)
    version_reasons: dict[str, str] = Field(default_factory=dict)
    session: TlsSession | None = None

    @property
    def accepted(self) -> tuple[str, ...]:
        """Versions the server accepted, oldest first."""
        return tuple(v for v in ALL_VERSIONS if self.versions.get(v) == "accepted")


def tls_available(endpoint: Endpoint, prior: Prior) -> bool:
    """True when the endpoint starts with TLS, or its application probe saw the in-band
    upgrade offered and can perform it (a :class:`StartTls` hook)."""
    if endpoint.implicit_tls:
        return True
    obs = prior.app_observation()
    return (
        isinstance(prior.app, StartTls)
        and isinstance(obs, StartTlsObservation)
        and obs.tls_offered()
    )


@dataclass(frozen=True)
class VersionJob(Job):
    """A handshake for the versions in ``span`` (one version: pinned; several: a range).

    ``known``: the application probe's handshake already negotiated this version; the job
    reports it accepted with that session and opens no connection. ``certificate``: parse
    the certificate of an accepted handshake (only needed when nothing is known).
    """

    known: TlsSession | None = field(default=None, compare=False)
    certificate: bool = True
    span: tuple[str, ...] = ()
    #: The application probe's in-band upgrade, run before each handshake on a plain port.
    upgrade: StartTls | None = field(default=None, compare=False)
    #: Not tried, and why (the verdict is ``unknown``).
    skip: str | None = None

    @property
    def needs_connection(self) -> bool:
        """A known or skipped version needs no handshake."""
        return self.known is None and self.skip is None


class VersionResults(BaseModel):
    """The outcomes of a range job, one per version of its span."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    results: tuple[VersionResult, ...]


class _OutcomeOnly(Transcript):
    """A transcript that keeps notes (handshake outcomes) but not the dialogue lines."""

    keeps_lines: ClassVar[bool] = False

    def add(self, who: str, text: str) -> None:
        """Keep ``*`` notes only."""
        if who == "*":
            super().add(who, text)


async def handshake(conn: Conn, ctx: ssl.SSLContext, server_hostname: str | None) -> ssl.SSLObject:
    """A full TLS handshake over memory BIOs on the plain stream, bounded in time and bytes.

    It skips asyncio's TLS transport (which allocates a 256 KiB buffer and a protocol
    object per connection) and drives OpenSSL directly: send what it wants sent, feed what
    arrives. Used when the certificate is wanted; a bare version verdict uses :func:`offer`.
    """
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_side=False, server_hostname=server_hostname)
    received = 0
    async with conn.deadline():
        while True:
            try:
                obj.do_handshake()
                finished = True
            except ssl.SSLWantReadError:
                finished = False
            pending = outgoing.read()
            if pending:
                conn.write(pending)
            if finished:
                conn.transcript.note(f"TLS handshake done ({obj.version()})")
                return obj
            chunk = await conn.read(HANDSHAKE_CHUNK)
            if not chunk:
                raise ConnectionResetError("connection closed by the server")
            received += len(chunk)
            if received > MAX_HANDSHAKE_BYTES:
                raise ProtocolError(f"TLS handshake longer than {MAX_HANDSHAKE_BYTES} bytes")
            incoming.write(chunk)


async def offer(conn: Conn, ctx: ssl.SSLContext, server_hostname: str | None) -> ServerHello:
    """Send the ClientHello ``ctx`` makes and read the version the server picks.

    The ServerHello decides, as in scanners that enumerate versions; the rest of the
    server's flight is neither read nor answered (the caller drops the connection).
    """
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_side=False, server_hostname=server_hostname)
    with contextlib.suppress(ssl.SSLWantReadError):
        obj.do_handshake()  # writes the ClientHello, then wants the server's answer
    conn.write(outgoing.read())
    async with conn.deadline():
        hello = await read_server_hello(conn)
    conn.transcript.note(f"TLS server hello ({hello.version})")
    return hello


@cache
def _context(version: str) -> ssl.SSLContext | str:
    """The pinned context for ``version``, or why the local OpenSSL cannot offer it (cached)."""
    try:
        return tls_context(version)
    except LocalTlsUnsupported as exc:
        return str(exc)


@cache
def _range_context(low: str, high: str) -> ssl.SSLContext:
    """A context offering ``low`` up to ``high`` (both offerable on their own), made once."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.options |= LEGACY_OPTIONS
    offer_versions(ctx, VERSIONS[low], VERSIONS[high])
    return ctx


def known_session(prior: Prior) -> TlsSession | None:
    """The session the application probe negotiated (a version pathsec pins), if any."""
    obs = prior.app_observation()
    session = obs.tls_session() if obs is not None else None
    if session is not None and session.version in VERSIONS:
        return session
    return None


#: Versions below this one share one range job when the protocol probe's handshake is known.
_LEGACY_BELOW = list(VERSIONS).index("TLSv1.2")

#: OpenSSL's names of versions (``SSLObject.version()``) -> pathsec's names.
_OPENSSL_NAMES = {"TLSv1": "TLSv1.0", **{v: v for v in VERSIONS}}

#: verdict, reason, the version the server chose, the finished handshake (full ones only)
_Outcome = tuple[Verdict, str | None, str | None, ssl.SSLObject | None]


class TlsProbe(Probe[TlsObservation]):
    """The TLS probe: one connection per version not yet known, legacy versions together.

    When the protocol probe's handshake is known, the versions below TLSv1.2 that the local
    OpenSSL can offer are tried in one range handshake: a server picks the highest version
    it supports in the offered range, so a refusal rejects them all, and an answer at
    version v accepts v and rejects the newer ones (the job then tries the older ones, with
    one more connection, only on servers that accept a legacy version).
    """

    kind = ProbeKind.tls
    observation = TlsObservation
    stage = Stage.follow_up
    #: A bare TLS port: no application dialogue, only the versions and the certificate.
    speaks = (Speaks(AppProtocol.tls, implicit_tls=True),)

    def plan(self, endpoint: Endpoint, settings: ProbeSettings, prior: Prior) -> Sequence[Job]:
        """Jobs for the versions not known yet, when TLS is reachable at all."""
        if endpoint.protocol is AppProtocol.tcp or not tls_available(endpoint, prior):
            return ()
        up = prior.app if isinstance(prior.app, StartTls) and not endpoint.implicit_tls else None
        known = known_session(prior)
        jobs: list[Job] = [VersionJob(self.kind, endpoint, "SSLv2", span=("SSLv2",), upgrade=up)]
        if known is not None and known.version == "TLSv1.3":
            jobs = [VersionJob(self.kind, endpoint, "SSLv2", span=("SSLv2",), skip=_NO_SSL2)]
        if known is None:
            return (
                *jobs,
                *(VersionJob(self.kind, endpoint, v, span=(v,), upgrade=up) for v in VERSIONS),
            )
        order = list(VERSIONS)
        legacy = [
            v
            for v in order[:_LEGACY_BELOW]
            if v != known.version and not isinstance(_context(v), str)
        ]
        for v in order:
            if v == known.version:
                jobs.append(VersionJob(self.kind, endpoint, v, known=known, span=(v,)))
            elif v not in legacy or len(legacy) == 1:
                jobs.append(
                    VersionJob(self.kind, endpoint, v, certificate=False, span=(v,), upgrade=up)
                )
        if len(legacy) > 1:
            variant = f"{legacy[0]}..{legacy[-1]}"
            jobs.append(
                VersionJob(
                    self.kind,
                    endpoint,
                    variant,
                    certificate=False,
                    span=tuple(legacy),
                    upgrade=up,
                )
            )
        return tuple(jobs)

    async def run(self, job: Job, settings: ProbeSettings) -> Attempt:
        """The job's handshake(s); the verdicts are the attempt's value."""
        ep = job.endpoint
        transcript = _OutcomeOnly()
        span = job.span if isinstance(job, VersionJob) and job.span else (job.variant,)
        up = job.upgrade if isinstance(job, VersionJob) else None
        results: dict[str, VersionResult] = {}

        def verdict(
            version: str, result: Verdict, reason: str | None, session: TlsSession | None = None
        ) -> None:
            transcript.note(f"{version}: {result}" + (f" ({reason})" if reason else ""))
            results[version] = VersionResult(
                version=version, result=result, reason=reason, session=session
            )

        if isinstance(job, VersionJob) and job.known is not None:
            verdict(span[0], "accepted", "negotiated by the protocol probe's handshake", job.known)
        elif isinstance(job, VersionJob) and job.skip is not None:
            verdict(span[0], "unknown", job.skip)
        elif span[0] in CRAFTED or (span[0] == "SSLv3" and isinstance(_context("SSLv3"), str)):
            result, reason = await _crafted(ep, settings, transcript, span[0], up)
            verdict(span[0], result, reason)
        elif len(span) == 1:
            ctx = _context(span[0])
            if isinstance(ctx, str):
                verdict(span[0], "unknown", ctx)
            else:
                describe = not isinstance(job, VersionJob) or job.certificate
                result, reason, chosen, obj = await _shake(
                    ep, settings, transcript, ctx, describe, up
                )
                if result == "accepted" and chosen != span[0]:  # OpenSSL would refuse it too
                    result, reason = "rejected", f"server answered {chosen} to a {span[0]} offer"
                session = (
                    describe_session(obj, ep.server_name or ep.host)
                    if describe and obj is not None
                    else None
                )
                verdict(span[0], result, reason, session)
        else:
            remaining = list(span)
            while remaining:  # at most len(span) rounds: each one settles one version or all
                high = remaining[-1]
                ctx = _range_context(remaining[0], high)
                result, reason, chosen, _ = await _shake(ep, settings, transcript, ctx, False, up)
                if result != "accepted" or chosen not in remaining:
                    if result == "accepted":
                        result, reason = "unknown", f"server chose {chosen}, not offered"
                    for v in remaining:
                        verdict(v, result, reason)
                    break
                verdict(chosen, "accepted", None)
                cut = remaining.index(chosen)
                for v in remaining[cut + 1 :]:
                    verdict(v, "rejected", f"server chose {chosen} when offered up to {high}")
                remaining = remaining[:cut]
        ordered = tuple(results[v] for v in span if v in results)
        value: BaseModel = ordered[0] if len(span) == 1 else VersionResults(results=ordered)
        return Attempt(job, Status.ok, None, transcript.freeze(), value)

    def fold(self, endpoint: Endpoint, attempts: Sequence[Attempt]) -> TlsObservation:
        """Versions table plus the session of the known handshake or the newest accepted one."""
        found: dict[str, VersionResult] = {}
        known: TlsSession | None = None
        transcript: list[str] = []
        for a in attempts:
            transcript.extend(a.transcript)
            if isinstance(a.value, VersionResult):
                found[a.value.version] = a.value
            elif isinstance(a.value, VersionResults):
                found.update((r.version, r) for r in a.value.results)
            if isinstance(a.job, VersionJob) and a.job.known is not None:
                known = a.job.known
        versions: dict[str, Verdict] = {}
        reasons: dict[str, str] = {}
        session: TlsSession | None = None
        for v in ALL_VERSIONS:
            r = found.get(v)
            if r is None:
                continue
            versions[v] = r.result
            if r.reason:
                reasons[v] = r.reason
            if r.result == "accepted" and r.session is not None:
                session = r.session
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

    def summary(self, obs: TlsObservation) -> str:
        """The accepted versions."""
        return f"TLS {', '.join(obs.accepted) or 'none accepted'}"

    def facts(self, obs: TlsObservation) -> Facts:
        """Accepted versions and the certificate's subject, issuer and expiry."""
        facts: Facts = {"tls.accepted": list(obs.accepted)}
        cert = obs.session.certificate if obs.session else None
        if cert is not None:
            facts["tls.subject"] = cert.subject
            facts["tls.issuer"] = cert.issuer
            facts["tls.not_after"] = str(cert.not_after)
        return facts


async def _shake(
    ep: Endpoint,
    settings: ProbeSettings,
    transcript: Transcript,
    ctx: ssl.SSLContext,
    complete: bool,
    upgrade: StartTls | None,
) -> _Outcome:
    """One connection: the STARTTLS dialogue if any, one handshake, then drop the connection.

    ``complete``: finish the handshake (for the certificate); otherwise the ServerHello
    decides (:func:`offer`).
    """
    implicit = ep.implicit_tls
    conn: Conn | None = None
    try:
        conn = await connect(ep, settings, transcript)
        if not implicit:
            if upgrade is None:
                return "unknown", "no STARTTLS dialogue for this protocol", None, None
            await upgrade.starttls(conn)
        try:
            if complete:
                obj = await handshake(conn, ctx, sni_for(ep))
                return "accepted", None, _OPENSSL_NAMES.get(obj.version() or ""), obj
            hello = await offer(conn, ctx, sni_for(ep))
            return "accepted", None, hello.version, None
        except ssl.SSLError as exc:
            return _handshake_failure(exc)
        except TlsAlert as exc:
            return "rejected", str(exc), None, None
        except (ConnectionError, EOFError) as exc:
            return "rejected", f"connection closed during handshake: {exc}", None, None
    except (OSError, TimeoutError, ProtocolError, EOFError) as exc:
        status, reason = classify(exc)
        if implicit and status is Status.reset:
            return "rejected", f"connection closed during handshake: {reason}", None, None
        return "unknown", reason, None, None
    finally:
        if conn is not None:
            # Nothing more to say on this connection: drop it at once (no close_notify
            # round trip, no waiting for the peer), as a scanner's version probe does.
            conn.abort()


#: Versions only a hand-built hello can offer (SSL 3.0 too where OpenSSL lacks it).
CRAFTED = ("SSLv2",)
_NO_SSL2 = "not tried: no server that speaks TLS 1.3 speaks SSL 2.0"


async def _crafted(
    ep: Endpoint,
    settings: ProbeSettings,
    transcript: Transcript,
    version: str,
    upgrade: StartTls | None,
) -> tuple[Verdict, str | None]:
    """SSL 2.0 or 3.0 offered by a hand-built hello (the local OpenSSL has neither)."""
    from pathsec.probes.flight import read_sslv2_server_hello, sslv2_client_hello
    from pathsec.probes.hello import HelloOffer, client_hello
    from pathsec.probes.suites import candidates

    conn: Conn | None = None
    sent = False
    try:
        conn = await connect(ep, settings, transcript)
        if not ep.implicit_tls:
            if upgrade is None:
                return "unknown", "no STARTTLS dialogue for this protocol"
            await upgrade.starttls(conn)
        sent = True
        async with conn.deadline():
            if version == "SSLv2":
                conn.write(sslv2_client_hello())
                hello2 = await read_sslv2_server_hello(conn)
                return "accepted", f"{len(hello2.ciphers)} SSL 2.0 cipher kinds"
            conn.write(client_hello(HelloOffer("SSLv3", candidates(False))))
            hello = await read_server_hello(conn)
        if hello.version != version:
            return "rejected", f"server answered {hello.version} to a {version} offer"
        return "accepted", None
    except TlsAlert as exc:
        return "rejected", str(exc)
    except ProtocolError as exc:
        return ("rejected" if sent and version == "SSLv2" else "unknown"), str(exc)
    except (ConnectionError, EOFError) as exc:
        if not sent:
            return "unknown", classify(exc)[1]
        return "rejected", f"connection closed during handshake: {exc}"
    except (OSError, TimeoutError) as exc:
        return "unknown", classify(exc)[1]
    finally:
        if conn is not None:
            conn.abort()


def _handshake_failure(exc: ssl.SSLError) -> _Outcome:
    reason = str(exc.reason or exc)
    if reason in _LOCAL_REASONS:
        return "unknown", f"the local OpenSSL cannot offer it ({reason})", None, None
    return "rejected", reason, None, None

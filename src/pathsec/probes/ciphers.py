"""Cipher-suite enumeration: which suites each accepted version takes, in whose order, with
which key exchange, and the certificate chain as sent.

Per version the TLS probe found accepted, hand-built ClientHellos offer every suite of the
registry (:mod:`pathsec.probes.suites`), also those the local OpenSSL cannot negotiate; the
server picks one, it is removed, and the offer repeats until the server refuses: one round
trip per accepted suite, plus the refusal. Each round reads the server's first flight
(:mod:`pathsec.probes.flight`): the DH group size or curve of an ephemeral key exchange,
and, in the first round of the newest version up to TLS 1.2, the chain as sent and whether
an OCSP response is stapled. TLS 1.3 rounds send an empty key_share, so the server answers
with a HelloRetryRequest naming suite and group and computes nothing; each of them takes
one suite and one group off the offer, so TLS 1.3's suites and groups come out of the same
rounds. One more round per version offers the accepted suites in reverse, unless the
choices already show the order: the server's own or the client's. A round's dialogue is
not kept (:class:`~pathsec.probes.text.NullTranscript`): it is the same every time.

Versions run concurrently (one job each); the rounds of a version follow each other. The
work is a property of the server port: every endpoint of one run on the same host, port
and protocol shares one enumeration (:mod:`pathsec.probes.shared`). On STARTTLS ports each
round starts with the protocol's own dialogue (the application probe's :class:`StartTls`).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from pathsec.compaction import compacted
from pathsec.probes.chain import ChainFacts, analyse_chain, verify_code_facts, verify_context
from pathsec.probes.cipher_results import CipherObservation, SuiteSeen, VersionSuites
from pathsec.probes.flight import Flight, read_flight
from pathsec.probes.hello import HelloOffer, TlsAlert, client_hello
from pathsec.probes.interface import (
    AppProtocol,
    Attempt,
    Endpoint,
    Facts,
    Job,
    Prior,
    Probe,
    ProbeKind,
    ProbeSettings,
    ProtocolError,
    Stage,
    StartTls,
    Status,
)
from pathsec.probes.runtime import Conn, classify, connect, sni_for
from pathsec.probes.shared import Published, claim
from pathsec.probes.suites import (
    GROUPS,
    LEGACY_CURVES,
    TLS13_GROUPS,
    candidates,
    candidates_wire,
    group_name,
    suite,
)
from pathsec.probes.text import NullTranscript
from pathsec.probes.tls import TlsObservation, tls_available

#: Versions enumerated by hand-built ClientHellos (SSL 2.0 lists its ciphers in one hello).
ENUMERATED = ("SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
#: Rounds one version may take at most (the registry has about 350 suites).
MAX_ROUNDS = 400
SHARED_NOTE = "enumerated once for"
#: Refusals: the server has no suite left among those offered.
_REFUSALS = {40, 47, 70, 71, 80, 86, 50}


@dataclass(frozen=True)
class EnumJob(Job):
    """The enumeration of one version (``variant``; TLS 1.3's with its groups), or the
    verified handshake ``chain`` of a TLS 1.3 only server.

    ``shared``: another endpoint's job does the work; this one waits for its result.
    """

    upgrade: StartTls | None = field(default=None, compare=False)
    shared: asyncio.Future[Any] | None = field(default=None, compare=False)
    owner: asyncio.Future[Any] | None = field(default=None, compare=False)
    #: The newest accepted version up to TLS 1.2: it also tries weak curves.
    newest_legacy: bool = False

    @property
    def needs_connection(self) -> bool:
        """A shared job opens no connection."""
        return self.shared is None


class _Refused(Exception):
    """The server refused the offer (alert or close): no suite left."""


async def _open(ep: Endpoint, settings: ProbeSettings, upgrade: StartTls | None) -> Conn:
    conn = await connect(ep, settings, NullTranscript())  # the rounds' dialogue is not kept
    try:
        if not ep.implicit_tls:
            if upgrade is None:
                raise ProtocolError("no STARTTLS dialogue for this protocol")
            await upgrade.starttls(conn)
    except BaseException:
        conn.abort()
        raise
    return conn


async def _round(
    ep: Endpoint,
    settings: ProbeSettings,
    offer: HelloOffer,
    upgrade: StartTls | None,
    suites_wire: bytes | None = None,
    certificates: bool = False,
) -> Flight:
    """One connection, one ClientHello, the first flight (its chain with ``certificates``)."""
    conn = await _open(ep, settings, upgrade)
    try:
        conn.write(client_hello(offer, suites_wire))
        async with conn.deadline():
            try:
                tls13 = offer.version == "TLSv1.3"
                return await read_flight(conn, allow_hrr=tls13, certificates=certificates)
            except TlsAlert as exc:
                if exc.description in _REFUSALS:
                    raise _Refused(str(exc)) from None
                raise ProtocolError(str(exc)) from None
            except (ConnectionResetError, EOFError, BrokenPipeError) as exc:
                raise _Refused(f"connection closed: {exc}") from None
    finally:
        conn.abort()


def _seen(flight: Flight) -> SuiteSeen:
    code = flight.hello.cipher_suite
    known = suite(code)
    kx = flight.key_exchange
    curve = kx.curve if kx is not None else None
    if flight.hello.hrr and flight.hello.group is not None:
        curve = None  # a TLS 1.3 group, recorded apart
    return SuiteSeen(
        id=f"0x{code:04X}",
        name=known.name if known else f"0x{code:04X}",
        dh_bits=kx.dh_bits if kx else None,
        curve=group_name(curve) if curve is not None else None,
        curve_bits=GROUPS.get(curve, ("", None))[1] if curve is not None else None,
        rsa_export_bits=kx.rsa_bits if kx else None,
    )


class _VersionResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    interned: ClassVar[bool] = True  # kept per server port for the run (shared work)

    suites: VersionSuites
    chain: ChainFacts | None = None
    stapled: bool | None = None
    groups: tuple[str, ...] = ()


async def enumerate_version(
    ep: Endpoint,
    settings: ProbeSettings,
    version: str,
    upgrade: StartTls | None,
    weak_curves: bool = True,
) -> _VersionResult:
    """Remove-and-repeat over the registry for ``version``, then the order check and (with
    ``weak_curves``, for the newest version up to TLS 1.2) one offer of weak curves alone."""
    tls13 = version == "TLSv1.3"
    groups = TLS13_GROUPS if tls13 else LEGACY_CURVES
    sni = sni_for(ep)
    remaining = list(candidates(tls13))
    # The offer shrinks by one suite a round: packed once, the chosen one cut out of it.
    wire = bytearray(candidates_wire(tls13))
    seen: list[SuiteSeen] = []
    first: Flight | None = None
    error: str | None = None
    complete = True

    def offer(suites: Sequence[int], curves: Sequence[int] = groups) -> HelloOffer:
        return HelloOffer(version, tuple(suites), tuple(curves), sni)

    for _ in range(MAX_ROUNDS):
        if not remaining:
            break
        try:
            flight = await _round(
                ep, settings, offer(remaining), upgrade, bytes(wire), certificates=first is None
            )
        except _Refused:
            break
        except (OSError, TimeoutError, ProtocolError, EOFError, ssl.SSLError) as exc:
            error, complete = classify(exc)[1], False
            break
        hello = flight.hello
        if hello.version != version:  # answered another version: nothing more at this one
            if not seen:
                error = f"server answered {hello.version} to a {version} offer"
            break
        if hello.cipher_suite not in remaining:
            error = f"server chose 0x{hello.cipher_suite:04X}, which was not offered"
            complete = False
            break
        first = first or flight
        seen.append(_seen(flight))
        cut = remaining.index(hello.cipher_suite)
        del remaining[cut]
        del wire[2 * cut : 2 * cut + 2]
    order = await _server_order(ep, settings, seen, complete, tls13, upgrade, offer)
    weak_curve = None
    ecdhe = [int(s.id, 16) for s in seen if s.curve and (s.curve_bits or 0) >= 256]
    if ecdhe and weak_curves and not tls13:  # a weak curve when offered nothing else?
        weak = [c for c in LEGACY_CURVES if GROUPS[c][1] < 256]
        try:
            flight = await _round(ep, settings, offer(ecdhe, weak), upgrade)
            kx = flight.key_exchange
            if kx is not None and kx.curve is not None and GROUPS.get(kx.curve, ("", 256))[1] < 256:
                weak_curve = group_name(kx.curve)
        except (_Refused, OSError, TimeoutError, ProtocolError, EOFError, ssl.SSLError):
            pass
    group = [] if first is None or first.hello.group is None else [group_name(first.hello.group)]
    chain: ChainFacts | None = None
    if first is not None and first.certificates:
        try:
            chain = analyse_chain(first.certificates, settings.ca_file)
        except ProtocolError as exc:
            chain = ChainFacts(error=str(exc))
    return _VersionResult(
        suites=VersionSuites(
            version=version,
            suites=tuple(seen),
            server_order=order,
            complete=complete,
            weak_curve=weak_curve,
            error=error,
        ),
        chain=chain,
        stapled=(first.ocsp_stapled or first.hello.stapling) if first is not None else None,
        groups=tuple(group),
    )


async def enumerate_tls13(
    ep: Endpoint, settings: ProbeSettings, upgrade: StartTls | None
) -> _VersionResult:
    """TLS 1.3 suites and groups in the same rounds: a HelloRetryRequest names the suite and
    the group the server picked, so each round takes one of each off what is offered, and
    the longer list sets the number of rounds (10 groups and 3 suites: 11 rounds, not 15).
    The server picks suite and group independently (RFC 8446 section 4.1.1), so each list
    comes out in the same order as when enumerated alone."""
    all_suites, all_groups = candidates(True), TLS13_GROUPS
    suites, groups = list(all_suites), list(all_groups)
    seen: list[SuiteSeen] = []
    taken: list[str] = []
    suites_open = groups_open = True
    error: str | None = None
    complete = True
    sni = sni_for(ep)

    def offer(s: Sequence[int], g: Sequence[int]) -> HelloOffer:
        return HelloOffer("TLSv1.3", tuple(s), tuple(g), sni)

    def take(flight: Flight, take_suite: bool, take_group: bool) -> str | None:
        """Record what the round showed; an error text when the server broke the rules."""
        nonlocal suites_open, groups_open
        hello = flight.hello
        if take_suite:
            if hello.cipher_suite not in suites:
                return f"server chose 0x{hello.cipher_suite:04X}, which was not offered"
            seen.append(_seen(flight))
            suites.remove(hello.cipher_suite)
            suites_open = bool(suites)
        if take_group:
            g = hello.group
            if g is None or g not in groups:
                groups_open = False  # as the groups alone: the list ends here
            else:
                taken.append(group_name(g))
                groups.remove(g)
                groups_open = bool(groups)
        return None

    for _ in range(MAX_ROUNDS):
        if not suites_open and not groups_open:
            break
        try:
            flight = await _round(
                ep,
                settings,
                offer(suites if suites_open else all_suites, groups if groups_open else all_groups),
                upgrade,
            )
        except _Refused:
            if suites_open and groups_open:
                # Both lists were cut: the groups left, with every suite, tell which ran out
                # (servers take more groups than TLS 1.3 suites: this round usually finds
                # one more group, so it is rarely spent on the question alone).
                try:
                    flight = await _round(ep, settings, offer(all_suites, groups), upgrade)
                except _Refused:
                    groups_open = False
                    continue
                except (OSError, TimeoutError, ProtocolError, EOFError, ssl.SSLError) as exc:
                    error, complete = classify(exc)[1], False
                    break
                suites_open = False
                if flight.hello.version != "TLSv1.3":
                    break
                error = take(flight, False, True)
                if error is not None:
                    complete = False
                    break
                continue
            suites_open = groups_open = False
            break
        except (OSError, TimeoutError, ProtocolError, EOFError, ssl.SSLError) as exc:
            error, complete = classify(exc)[1], False
            break
        if flight.hello.version != "TLSv1.3":  # answered another version
            if not seen:
                error = f"server answered {flight.hello.version} to a TLSv1.3 offer"
            break
        error = take(flight, suites_open, groups_open)
        if error is not None:
            complete = False
            break
    order = await _server_order(
        ep, settings, seen, complete, True, upgrade, lambda s: offer(s, all_groups)
    )
    return _VersionResult(
        suites=VersionSuites(
            version="TLSv1.3",
            suites=tuple(seen),
            server_order=order,
            complete=complete,
            error=error,
        ),
        groups=tuple(taken),
    )


async def _server_order(
    ep: Endpoint,
    settings: ProbeSettings,
    seen: Sequence[SuiteSeen],
    complete: bool,
    tls13: bool,
    upgrade: StartTls | None,
    offer: Any,
) -> bool | None:
    """Whether the server picks by its own order (None: fewer than two suites or unknown)."""
    ids = [int(s.id, 16) for s in seen]
    if len(seen) < 2 or not complete:
        return None
    if ids != sorted(ids, key=candidates(tls13).index):
        # Each offer listed the suites in registry order; a server that skipped an earlier
        # one it accepts later picks by its own order: no extra round needed to say so.
        return True
    try:
        flight = await _round(ep, settings, offer(list(reversed(ids))), upgrade)
    except (_Refused, OSError, TimeoutError, ProtocolError, EOFError, ssl.SSLError):
        return None
    pick = flight.hello.cipher_suite
    return True if pick == ids[0] else False if pick == ids[-1] else None


async def verified_chain(
    ep: Endpoint, settings: ProbeSettings, upgrade: StartTls | None
) -> ChainFacts:
    """A handshake verified against the trust store (for servers that speak only TLS 1.3)."""
    from pathsec.probes.tls import handshake

    conn = await _open(ep, settings, upgrade)
    try:
        await handshake(conn, verify_context(settings.ca_file), sni_for(ep))
    except ssl.SSLCertVerificationError as exc:
        return verify_code_facts(exc.verify_code, exc.verify_message)
    finally:
        conn.abort()
    return verify_code_facts(None, None)


class CipherProbe(Probe[CipherObservation]):
    """The cipher-suite enumeration: one job per accepted version, shared per server port."""

    kind = ProbeKind.ciphers
    observation = CipherObservation
    stage = Stage.follow_up
    after = (ProbeKind.tls,)

    def plan(self, endpoint: Endpoint, settings: ProbeSettings, prior: Prior) -> Sequence[Job]:
        """A job per version the TLS probe saw accepted (none with ``--tls quick``)."""
        tls = prior.observations.get(ProbeKind.tls)
        if (
            settings.tls_depth == "quick"
            or not isinstance(tls, TlsObservation)
            or endpoint.protocol is AppProtocol.tcp
            or not tls_available(endpoint, prior)
        ):
            return ()
        up = prior.app if isinstance(prior.app, StartTls) and not endpoint.implicit_tls else None
        accepted = [v for v in ENUMERATED if tls.versions.get(v) == "accepted"]
        variants = list(accepted)
        # (the TLS 1.3 job enumerates its groups too: enumerate_tls13)
        if "TLSv1.3" in accepted and not any(v in accepted for v in ENUMERATED[:-1]):
            variants.append("chain")
        jobs: list[Job] = []
        for variant in variants:
            key = (
                self.kind,
                endpoint.host,
                endpoint.port,
                endpoint.protocol,
                endpoint.server_name,
                variant,
            )
            first, fut = claim(key)
            if first:
                newest = variant == next((v for v in reversed(accepted) if v != "TLSv1.3"), None)
                jobs.append(
                    EnumJob(
                        self.kind, endpoint, variant, upgrade=up, owner=fut, newest_legacy=newest
                    )
                )
            else:
                jobs.append(EnumJob(self.kind, endpoint, variant, shared=fut))
        return tuple(jobs)

    async def run(self, job: Job, settings: ProbeSettings) -> Attempt:
        """The job's enumeration (or its wait for the endpoint that does it)."""
        assert isinstance(job, EnumJob)
        if job.shared is not None:
            done: Published = await asyncio.shield(job.shared)
            note = f"*: {job.variant}: {SHARED_NOTE} {done.label}"
            return Attempt(job, done.status, done.reason, (note,), done.value)
        try:
            attempt = await self._work(job, settings)
        except BaseException as exc:
            if job.owner is not None and not job.owner.done():
                reason = f"enumeration interrupted: {type(exc).__name__}"
                job.owner.set_result(Published(job.endpoint.label, Status.error, reason, None))
            raise
        if job.owner is not None and not job.owner.done():
            job.owner.set_result(
                Published(job.endpoint.label, attempt.status, attempt.reason, attempt.value)
            )
        return attempt

    async def _work(self, job: EnumJob, settings: ProbeSettings) -> Attempt:
        ep = job.endpoint
        try:
            value: BaseModel
            if job.variant == "chain":
                value = await verified_chain(ep, settings, job.upgrade)
            elif job.variant == "TLSv1.3":
                value = await enumerate_tls13(ep, settings, job.upgrade)
            else:
                value = await enumerate_version(
                    ep, settings, job.variant, job.upgrade, weak_curves=job.newest_legacy
                )
        except (OSError, TimeoutError, ProtocolError, EOFError, ssl.SSLError) as exc:
            status, reason = classify(exc)
            return Attempt(job, status, reason, (f"*: {job.variant}: {reason}",))
        value = compacted(value)  # kept for the run (shared work): equal ones one instance
        return Attempt(job, Status.ok, None, (f"*: {job.variant} enumerated",), value)

    def fold(self, endpoint: Endpoint, attempts: Sequence[Attempt]) -> CipherObservation:
        """Versions oldest first; the chain and stapling of the newest version up to TLS 1.2."""
        by_version: dict[str, _VersionResult] = {}
        chain: ChainFacts | None = None
        transcript: list[str] = []
        errors: list[str] = []
        for a in attempts:
            transcript.extend(a.transcript)
            if a.status is not Status.ok:
                errors.append(f"{a.job.variant}: {a.reason}")
            if isinstance(a.value, _VersionResult):
                by_version[a.job.variant] = a.value
            elif isinstance(a.value, ChainFacts):
                chain = a.value
        order = [v for v in ENUMERATED if v in by_version]
        stapled: bool | None = None
        legacy = [v for v in order if v != "TLSv1.3" and by_version[v].chain is not None]
        if legacy:
            newest = by_version[legacy[-1]]
            stapled, chain = newest.stapled, newest.chain
        groups = by_version["TLSv1.3"].groups if "TLSv1.3" in by_version else ()
        shared = next(
            (line.split(SHARED_NOTE, 1)[1].strip() for line in transcript if SHARED_NOTE in line),
            None,
        )
        ok = bool(by_version) or chain is not None
        return CipherObservation(
            status=Status.ok if ok else (attempts[0].status if attempts else Status.error),
            reason=None if ok else ("; ".join(errors) or "nothing enumerated"),
            transcript=tuple(transcript[:60]),
            versions=tuple(by_version[v].suites for v in order),
            tls13_groups=groups,
            chain=chain,
            ocsp_stapled=stapled,
            shared_with=shared,
        )

    def summary(self, obs: CipherObservation) -> str:
        """Suites per version and the forward-secrecy verdict."""
        parts = [f"{v.version}: {len(v.suites)} suites" for v in obs.versions]
        if not parts:
            return ""
        return f"{', '.join(parts)}; forward secrecy {obs.forward_secrecy}"

    def facts(self, obs: CipherObservation) -> Facts:
        """Accepted suites per version (a baseline notices a suite switched on)."""
        facts: Facts = {f"ciphers.{v.version}": [s.name for s in v.suites] for v in obs.versions}
        if obs.chain is not None:
            facts["ciphers.chain_trust"] = obs.chain.trust
        return facts

"""NTLM information probe (only with ``--ntlm-info``): one NTLMSSP NEGOTIATE, decode the challenge.

Nothing but the NEGOTIATE message (flags, no names, no credentials) is sent; the exchange is
cancelled with ``*`` right after the server's CHALLENGE. Structures come from pyspnego.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field

from pathsec.probes.certs import tls_context
from pathsec.probes.interface import (
    Attempt,
    Endpoint,
    Facts,
    Job,
    NtlmAuth,
    Observation,
    Prior,
    Probe,
    ProbeKind,
    ProbeSettings,
    ProtocolError,
    Stage,
    StartTlsObservation,
)
from pathsec.probes.runtime import connect, guarded
from pathsec.probes.text import Transcript

#: Flags of the NEGOTIATE message nmap's *-ntlm-info scripts send (0xa2088207-like).
NEGOTIATE_FLAGS = (
    0x00000001
    | 0x00000002
    | 0x00000004
    | 0x00000200
    | 0x00008000
    | 0x00080000
    | 0x20000000
    | 0x80000000
    | 0x02000000
)


def negotiate_message() -> bytes:
    """The NTLMSSP NEGOTIATE message: signature, type 1, flags, empty domain and workstation."""
    from spnego._ntlm_raw import messages as _ntlm  # pyspnego loads in ~70 ms: only when used

    return bytes(_ntlm.Negotiate(flags=NEGOTIATE_FLAGS).pack())


class NtlmObservation(Observation):
    """What an NTLM CHALLENGE discloses about the server."""

    target_name: str | None = None
    netbios_domain: str | None = None
    netbios_computer: str | None = None
    dns_domain: str | None = None
    dns_computer: str | None = None
    dns_tree: str | None = None
    os_version: str | None = None
    timestamp: str | None = None

    @property
    def discloses(self) -> bool:
        """True when the challenge named a host, domain or OS version."""
        return any(
            (
                self.netbios_computer,
                self.netbios_domain,
                self.dns_computer,
                self.dns_domain,
                self.os_version,
            )
        )


def decode_challenge(b64: str) -> NtlmObservation:
    """Decode a base64 CHALLENGE; raise :class:`ProtocolError` for anything else."""
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("NTLM challenge is not base64") from None
    if len(raw) < 32 or raw[:8] != b"NTLMSSP\x00" or raw[8:12] != b"\x02\x00\x00\x00":
        raise ProtocolError("not an NTLMSSP CHALLENGE message")
    from spnego._ntlm_raw import messages as _ntlm

    try:
        msg = _ntlm.Challenge.unpack(raw)
        info = msg.target_info
        av = _ntlm.AvId
        version = msg.version
        target_name = msg.target_name
    except Exception as exc:  # pyspnego raises assorted errors on malformed input
        raise ProtocolError(f"malformed NTLM challenge: {type(exc).__name__}") from None

    def get(key: object) -> str | None:
        if info is None:
            return None
        try:
            value = info.get(key)
        except Exception:
            return None
        return str(value) if value is not None else None

    os_version = None
    if version is not None:
        os_version = f"{version.major}.{version.minor}.{version.build}"
    return NtlmObservation(
        target_name=str(target_name) if target_name else None,
        netbios_computer=get(av.nb_computer_name),
        netbios_domain=get(av.nb_domain_name),
        dns_computer=get(av.dns_computer_name),
        dns_domain=get(av.dns_domain_name),
        dns_tree=get(av.dns_tree_name),
        timestamp=get(av.timestamp),
        os_version=os_version,
    )


def offers_ntlm(prior: Prior) -> NtlmAuth | None:
    """The application probe's NTLM hook when its observation lists NTLM as a login."""
    obs = prior.app_observation()
    if not isinstance(prior.app, NtlmAuth) or not isinstance(obs, StartTlsObservation):
        return None
    return prior.app if "NTLM" in {*obs.auth_before_tls(), *obs.auth_after_tls()} else None


@dataclass(frozen=True)
class NtlmJob(Job):
    """The NTLM exchange, through the application probe's :class:`NtlmAuth` hook."""

    auth: NtlmAuth | None = field(default=None, compare=False)


class NtlmProbe(Probe[NtlmObservation]):
    """The NTLM probe: one connection, only with ``--ntlm-info`` and when NTLM is offered."""

    kind = ProbeKind.ntlm
    observation = NtlmObservation
    stage = Stage.follow_up

    def plan(self, endpoint: Endpoint, settings: ProbeSettings, prior: Prior) -> Sequence[Job]:
        """One job when asked for and the protocol probe saw NTLM offered."""
        auth = offers_ntlm(prior) if settings.ntlm_info else None
        return (NtlmJob(self.kind, endpoint, auth=auth),) if auth is not None else ()

    async def run(self, job: Job, settings: ProbeSettings) -> Attempt:
        """Reach the AUTH state (through STARTTLS when offered), send NEGOTIATE, decode."""

        async def body(transcript: Transcript) -> NtlmObservation:
            ep = job.endpoint
            auth = job.auth if isinstance(job, NtlmJob) else None
            if auth is None:
                raise ProtocolError("no NTLM exchange for this protocol")
            implicit = ep.implicit_tls
            conn = await connect(ep, settings, transcript, tls_context() if implicit else None)
            try:
                await auth.ready_for_auth(conn, ep, not implicit)
                b64 = base64.b64encode(negotiate_message()).decode("ascii")
                return decode_challenge(await auth.ntlm_exchange(conn, b64))
            finally:
                await conn.close()

        return await guarded(job, body, settings)

    def fold(self, endpoint: Endpoint, attempts: Sequence[Attempt]) -> NtlmObservation:
        """The single attempt's observation."""
        return self.fold_one(attempts)

    def summary(self, obs: NtlmObservation) -> str:
        """The names and OS version the challenge disclosed."""
        parts = (
            ("domain", obs.netbios_domain or obs.dns_domain),
            ("computer", obs.dns_computer or obs.netbios_computer),
            ("OS", obs.os_version),
        )
        return ", ".join(f"{k} {v}" for k, v in parts if v)

    def facts(self, obs: NtlmObservation) -> Facts:
        """None: a baseline records what an endpoint offers, not what its challenge discloses."""
        return {}

"""The one probe registry: every probe, one line each; every probe table is derived from it.

A probe module declares what it speaks (:class:`~pathsec.probes.interface.Speaks`), its
stage, observation model and hooks; from :data:`PROBES` come the port-to-protocol table,
default ports, the catalog path of ad-hoc targets, which probe serves a protocol, the stages
of an endpoint and (in :mod:`pathsec.audit.observations`) the fields of the results'
``observations``. :func:`registry_problems` lists what is inconsistent or missing; the
module refuses to load while there is anything, and a test says what.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pathsec.probes.ciphers import CipherProbe
from pathsec.probes.dns import DnsProbe
from pathsec.probes.http import HttpProbe
from pathsec.probes.imap import ImapProbe
from pathsec.probes.interface import (
    AppProtocol,
    Endpoint,
    NtlmAuth,
    Observation,
    Probe,
    ProbeKind,
    Speaks,
    Stage,
    StartTls,
    StartTlsObservation,
    Transport,
)
from pathsec.probes.kerberos import KerberosProbe
from pathsec.probes.ldap import LdapProbe
from pathsec.probes.ntlm import NtlmProbe
from pathsec.probes.pop3 import Pop3Probe
from pathsec.probes.rpc import RpcProbe
from pathsec.probes.sip import SipProbe
from pathsec.probes.smb import SmbProbe
from pathsec.probes.smtp import SmtpProbe
from pathsec.probes.tcp import TcpProbe
from pathsec.probes.tls import TlsProbe
from pathsec.probes.udp import UdpProbe

#: Every probe, in the order of the results' ``observations`` (new probes go last).
PROBES: tuple[Probe[Any], ...] = (
    TcpProbe(),
    TlsProbe(),
    SmtpProbe(),
    Pop3Probe(),
    ImapProbe(),
    NtlmProbe(),
    HttpProbe(),
    LdapProbe(),
    KerberosProbe(),
    DnsProbe(),
    RpcProbe(),
    SmbProbe(),
    SipProbe(),
    UdpProbe(),
    CipherProbe(),
)

#: Protocols without a well-known port: a target must name the port.
BARE_PROTOCOLS = frozenset({AppProtocol.tcp, AppProtocol.tls, AppProtocol.udp})


class RegistryError(Exception):
    """The probe registry is incomplete or inconsistent (a programming error)."""


def registry_problems(probes: Iterable[Probe[Any]]) -> list[str]:
    """Everything inconsistent or missing in ``probes``, one sentence each (empty: sound)."""
    probes = tuple(probes)
    problems: list[str] = []
    kinds = [p.kind for p in probes]
    problems += [f"probe kind {k} is registered twice" for k in set(kinds) if kinds.count(k) > 1]
    problems += [f"ProbeKind.{k.name} has no probe" for k in ProbeKind if k not in kinds]
    spoken: dict[AppProtocol, ProbeKind] = {}
    ports: dict[tuple[Transport, int], AppProtocol] = {}
    for p in probes:
        name = type(p).__name__
        if not (isinstance(p.observation, type) and issubclass(p.observation, Observation)):
            problems.append(f"{name}.observation is not an Observation model")
            continue
        if issubclass(p.observation, StartTlsObservation) and not isinstance(p, StartTls):
            problems.append(
                f"{name} observes in-band TLS ({p.observation.__name__}) but has no StartTls "
                "hook: the TLS probe could not reach the handshake"
            )
        if isinstance(p, NtlmAuth) and not issubclass(p.observation, StartTlsObservation):
            problems.append(f"{name} has an NtlmAuth hook but no login list to offer NTLM in")
        for s in (x for d in p.speaks for x in d.expanded()):
            if s.protocol in spoken:
                problems.append(f"{s.protocol} is spoken by {spoken[s.protocol]} and {p.kind}")
            spoken[s.protocol] = p.kind
            if not s.ports and s.protocol not in BARE_PROTOCOLS:
                problems.append(f"{s.protocol} ({name}) has no default port")
            for port in s.ports:
                key = (s.transport, port)
                if key in ports:
                    problems.append(
                        f"{s.transport} {port} is claimed by {ports[key]} and {s.protocol}"
                    )
                ports[key] = s.protocol
    problems += [f"AppProtocol.{a.name} has no probe" for a in AppProtocol if a not in spoken]
    follow = {p.kind for p in probes if p.stage is Stage.follow_up}
    for p in probes:
        if p.after and (p.stage is not Stage.follow_up or not set(p.after) <= follow):
            problems.append(f"{p.kind} runs after {p.after}: only follow-ups order follow-ups")
    layered = {k for layer in _follow_up_layers(probes) for k in layer}
    if not problems and layered != follow:
        waiting = ", ".join(sorted(k.value for k in follow - layered))
        problems.append(f"follow-up probes wait for each other in a cycle: {waiting}")
    return problems


def _follow_up_layers(probes: Iterable[Probe[Any]]) -> list[tuple[ProbeKind, ...]]:
    """Follow-up probes in stages: each after the ones it names in ``after`` (registry order
    within a stage); a cycle leaves the rest out."""
    remaining = [p for p in probes if p.stage is Stage.follow_up]
    done: set[ProbeKind] = set()
    layers: list[tuple[ProbeKind, ...]] = []
    while remaining:
        layer = [p for p in remaining if set(p.after) <= done]
        if not layer:
            break
        layers.append(tuple(p.kind for p in layer))
        done.update(p.kind for p in layer)
        remaining = [p for p in remaining if p not in layer]
    return layers


def _load() -> None:
    problems = registry_problems(PROBES)
    if problems:
        raise RegistryError("; ".join(problems))


_load()

#: Probe of each kind.
BY_KIND: Mapping[ProbeKind, Probe[Any]] = {p.kind: p for p in PROBES}
#: Each protocol as its probe declares it (implicit-TLS twins as protocols of their own).
SPEAKS: Mapping[AppProtocol, Speaks] = {
    s.protocol: s for p in PROBES for d in p.speaks for s in d.expanded()
}
#: The probe that speaks each protocol.
SERVED_BY: Mapping[AppProtocol, Probe[Any]] = {
    s.protocol: p for p in PROBES for d in p.speaks for s in d.expanded()
}
#: (transport, port) -> the protocol spoken there by default: the one port table.
PORT_PROTOCOLS: Mapping[tuple[Transport, int], AppProtocol] = {
    (s.transport, port): s.protocol for s in SPEAKS.values() for port in s.ports
}
#: The follow-up probes, stage by stage (each after those it names in ``after``).
FOLLOW_UPS: tuple[tuple[ProbeKind, ...], ...] = tuple(_follow_up_layers(PROBES))
#: Probe kind of each observation model.
KIND_OF: Mapping[type[Observation], ProbeKind] = {p.observation: p.kind for p in PROBES}


def probe(kind: ProbeKind) -> Probe[Any]:
    """The probe of ``kind``."""
    return BY_KIND[kind]


def speaks(protocol: AppProtocol) -> Speaks:
    """How ``protocol`` is spoken: ports, transport, implicit TLS, ad-hoc catalog path."""
    return SPEAKS[protocol]


def app_probe(protocol: AppProtocol) -> Probe[Any] | None:
    """The application probe of ``protocol`` (None for the bare ``tcp`` and ``tls``)."""
    p = SERVED_BY[protocol]
    return p if p.stage is Stage.application else None


def served_by(protocol: AppProtocol) -> ProbeKind:
    """The kind of the probe that speaks ``protocol`` (``tcp`` and ``tls`` included)."""
    return SERVED_BY[protocol].kind


def protocol_at(port: int, transport: Transport = "tcp") -> AppProtocol | None:
    """The protocol spoken on a well-known port (None: unknown)."""
    return PORT_PROTOCOLS.get((transport, port))


def endpoint(
    host: str,
    port: int,
    protocol: AppProtocol,
    server_name: str | None = None,
    path_id: str | None = None,
    domain: str | None = None,
) -> Endpoint:
    """A probe-level endpoint speaking ``protocol``."""
    return Endpoint(host, port, SPEAKS[protocol], server_name, path_id, domain)


def stages(protocol: AppProtocol) -> tuple[tuple[ProbeKind, ...], ...]:
    """The probes run at an endpoint of ``protocol``, stage by stage.

    UDP: the application probe alone (no connect to test first). TCP: a bare connect,
    unless the application probe's own connect reports it; the application probe; then
    the follow-up probes (in as many stages as their ``after`` asks for), which decide from
    what was seen whether they have work.
    """
    app = app_probe(protocol)
    app_stage = (app.kind,) if app is not None else ()
    if SPEAKS[protocol].transport == "udp":
        return (app_stage,)
    if app is not None and app.reports_connect:
        return (app_stage, *FOLLOW_UPS)
    connect = tuple(p.kind for p in PROBES if p.stage is Stage.connect)
    return (connect, app_stage, *FOLLOW_UPS)

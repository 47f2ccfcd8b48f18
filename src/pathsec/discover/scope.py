"""What discovery may touch: addresses and CIDRs in, bounded; the endpoints to probe out.

Scope follows the audit's rules: only the addresses given (a CIDR's host addresses, never
its network or broadcast address), only the ports of :data:`DISCOVERY_PORTS`, the audit's
connection budget, ``--max-rate`` and ``--source-address`` (:mod:`pathsec.cli.probing`).
A range is counted before anything is expanded: more than ``max_hosts`` addresses is bad
input, however the total is reached.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pathsec.audit.models import Target
from pathsec.errors import InputError, InputProblem
from pathsec.probes import registry
from pathsec.probes.interface import AppProtocol

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_NETWORKS = (ipaddress.IPv4Network, ipaddress.IPv6Network)

#: Addresses one run probes unless ``--max-hosts`` raises it (a /20 of IPv4).
DEFAULT_MAX_HOSTS = 4096
#: ``--max-hosts`` cannot go beyond this (a /12 of IPv4: 21 ports each is 22 M endpoints).
MAX_HOSTS_LIMIT = 1 << 20

#: The TCP ports discovery probes on every address, and what an answer there tells. The
#: protocol of each is the probe registry's (25 -> smtp, 3268 -> ldap ...).
DISCOVERY_PORTS: tuple[tuple[int, str], ...] = (
    (25, "SMTP: Hub Transport (Default connector) or Edge Transport, by EHLO keywords"),
    (587, "SMTP submission: the Hub's Client connector"),
    (110, "POP3: Client Access"),
    (995, "POP3 over TLS: Client Access"),
    (143, "IMAP4: Client Access"),
    (993, "IMAP4 over TLS: Client Access"),
    (80, "HTTP: IIS version, Exchange virtual directories"),
    (443, "HTTPS: OWA, Autodiscover, EWS, ActiveSync, X-OWA-Version"),
    (135, "RPC endpoint mapper: EMSMDB (Mailbox), netlogon/drsuapi (DC), dynamic port range"),
    (445, "SMB: dialects (Windows release)"),
    (389, "LDAP: AD DS rootDSE (domain controller, functional level)"),
    (636, "LDAPS: AD DS rootDSE"),
    (3268, "Global catalog"),
    (3269, "Global catalog over TLS"),
    (88, "Kerberos: a KDC (domain controller)"),
    (53, "DNS: the AD zone's SOA and _ldap/_kerberos SRV records"),
    (50389, "ADAM (Edge Transport's directory for EdgeSync)"),
    (50636, "ADAM over TLS (EdgeSync)"),
    (5060, "SIP over TCP: Unified Messaging"),
    (5061, "SIP over TLS: Unified Messaging"),
    (5062, "SIP over TLS: Unified Messaging (the reference's third UM port)"),
)


def port_protocol(port: int) -> AppProtocol:
    """The protocol the registry speaks on a discovery port."""
    proto = registry.protocol_at(port)
    if proto is None:  # a programming error: tests hold every discovery port known
        raise ValueError(f"no probe speaks TCP {port}")
    return proto


@dataclass(frozen=True)
class Scope:
    """The addresses to probe (unique, in the order given) and the networks given."""

    given: tuple[str, ...]
    addresses: tuple[str, ...]
    networks: tuple[Network, ...]


def _bad(text: str, message: str) -> InputError:
    return InputError(InputProblem("TARGET", None, None, f"{text!r}: {message}"))


def _host_count(net: Network) -> int:
    """Host addresses of ``net`` (IPv4 without network and broadcast below /31; IPv6
    without the subnet-router anycast address below /127), computed, not enumerated."""
    n = net.num_addresses
    if net.version == 4 and net.prefixlen < 31:
        return n - 2
    if net.version == 6 and net.prefixlen < 127:
        return n - 1
    return n


def _usable(ip: Address) -> bool:
    return not (ip.is_multicast or ip.is_unspecified or (ip.is_reserved and ip.version == 4))


def parse_target(text: str) -> Address | Network:
    """One TARGET: an IPv4/IPv6 address or CIDR (``[v6]`` brackets allowed)."""
    raw = text.strip()
    if not raw or len(raw) > 100:
        raise _bad(text[:100], "give an IP address or a CIDR, e.g. 10.1.0.5 or 10.1.0.0/24")
    bare = raw[1:-1] if raw.startswith("[") and raw.endswith("]") else raw
    try:
        if "/" in bare:
            net = ipaddress.ip_network(bare, strict=False)
            if not _usable(net.network_address) or net.is_multicast:
                raise _bad(text, "not a range of host addresses")
            return net
        ip = ipaddress.ip_address(bare)
    except ValueError:
        raise _bad(
            text,
            "not an IP address or CIDR (e.g. 10.1.0.5, 10.1.0.0/24, 2001:db8::10); "
            "host names are not accepted: discovery scans addresses",
        ) from None
    if not _usable(ip):
        raise _bad(text, "not a host address (multicast, unspecified or reserved)")
    return ip


def _hosts(net: Network) -> Iterable[Address]:
    if _host_count(net) == net.num_addresses:
        return (net[i] for i in range(net.num_addresses))
    return net.hosts()


def parse_scope(texts: Sequence[str], max_hosts: int = DEFAULT_MAX_HOSTS) -> Scope:
    """The addresses of ``texts``; more than ``max_hosts`` of them is bad input (one line)."""
    if not texts:
        raise InputError(InputProblem("TARGET", None, None, "give at least one address or CIDR"))
    parsed = [(t, parse_target(t)) for t in texts]
    total = 0
    for text, item in parsed:
        total += (
            _host_count(item)
            if isinstance(item, (ipaddress.IPv4Network, ipaddress.IPv6Network))
            else 1
        )
        if total > max_hosts:
            raise _bad(
                text,
                f"the targets hold {total:,}+ addresses, more than --max-hosts {max_hosts:,}; "
                "give smaller ranges or raise --max-hosts",
            )
    seen: dict[str, None] = {}
    networks: list[Network] = []
    for _, item in parsed:
        if isinstance(item, _NETWORKS):
            if item.num_addresses > 1:
                networks.append(item)
            for ip in _hosts(item):
                seen.setdefault(str(ip), None)
        else:
            seen.setdefault(str(item), None)
    return Scope(tuple(t.strip() for t in texts), tuple(seen), tuple(networks))


def endpoint_targets(addresses: Sequence[str], domain: str | None = None) -> list[Target]:
    """One audit target per address and discovery port (the audit's own target model), port
    by port: consecutive connections go to different hosts, so the per-host budget holds
    back none of them and no host gets all its ports at once."""
    out: list[Target] = []
    for port, _ in DISCOVERY_PORTS:
        proto = port_protocol(port)
        for address in addresses:
            out.append(
                Target(
                    host=address,
                    port=port,
                    protocol=proto,
                    path_id=registry.speaks(proto).client_path,
                    domain=domain,
                )
            )
    return out


def target_line(target: Target) -> str:
    """``HOST:PORT/PROTO`` as ``pathsec audit --targets-file`` reads it (the timing bench)."""
    host = f"[{target.host}]" if ":" in target.host else target.host
    return f"{host}:{target.port}/{target.protocol.value}"

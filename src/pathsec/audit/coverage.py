"""Coverage of a plan: which flows a remote probe can check, and which it cannot (and why).

Every planned flow becomes either a **check** (an endpoint, a protocol and the probe that
runs there) or a **not observable** entry with the reason and how to verify it on the
server instead. Some paths get both: SMB log shipping is probed on 445, but its IPsec
encryption is not visible to a probe. Nothing is skipped silently: a catalog path the plan
has no flow for is listed too. This is what ``pathsec audit --dry-run`` prints.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from pathsec.catalog.models import Catalog
from pathsec.plan.models import Flow, HostInfo, HostKind, Plan
from pathsec.probes import registry
from pathsec.probes.interface import AppProtocol

SERVER_KINDS = frozenset({HostKind.server, HostKind.ip_gateway})


class Check(BaseModel):
    """One probe the audit would run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path_id: str | None
    host: str
    port: int
    protocol: AppProtocol
    probe: str
    from_zone: str | None
    expect: Literal["open", "closed"] = "open"
    destination: str
    flow_id: str | None = None
    source_zones: tuple[str, ...] = ()


class NotObservable(BaseModel):
    """A path (or an aspect of it) no remote probe can verify."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path_id: str
    reason: str
    how_to_verify: str
    flow_id: str | None = None


class DryRun(BaseModel):
    """What ``pathsec audit --dry-run`` prints: checks and what cannot be checked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    checks: tuple[Check, ...]
    not_observable: tuple[NotObservable, ...]


def single_address(addresses: Iterable[str]) -> str | None:
    """The first single IP address of a host (a /32 or /128 counts); None for ranges."""
    for a in addresses:
        try:
            return str(ipaddress.ip_address(a))
        except ValueError:
            try:
                net = ipaddress.ip_network(a, strict=False)
            except ValueError:
                continue
            if net.num_addresses == 1:
                return str(net.network_address)
    return None


def protocol_for(flow: Flow) -> AppProtocol | None:
    """The protocol a probe speaks to a flow's single destination port (None: not probeable)."""
    if flow.port is None:
        return None
    if flow.protocol is None:  # the reference names none: try TCP (e.g. 587 submission)
        return registry.protocol_at(flow.port)
    proto = registry.protocol_at(flow.port, flow.protocol)
    if proto is None:
        return AppProtocol.tcp if flow.protocol == "tcp" else AppProtocol.udp
    return proto


_RPC_HOW = (
    "On the server: `netsh int ipv4 show dynamicport tcp` and the registry key "
    "HKLM\\Software\\Microsoft\\Rpc\\Internet (KB 154596); the rpc probe on 135 lists the "
    "dynamic ports the endpoint mapper hands out and compares them with the range."
)


def _article(kind: str) -> str:
    words = kind.replace("_", " ")
    return ("an " if words[:1] in "aeiou" else "a ") + words


def _flow_gaps(flow: Flow, dest: HostInfo | None) -> list[tuple[str, str]]:
    """(reason, how) for every aspect of a flow a probe cannot see."""
    gaps: list[tuple[str, str]] = []
    if flow.local:
        gaps.append(
            (
                "local path inside one host: no network traffic to observe",
                "On the server: check the service configuration and its event log "
                "(e.g. VSS writer state with `vssadmin list writers`).",
            )
        )
        return gaps
    if flow.port_range is not None and flow.protocol is None:
        gaps.append(
            (
                f"random port ({flow.port_range}): chosen at run time, nothing listens in advance",
                "On the servers: during seeding or backup, `netstat -ano` shows the ports in use; "
                "check the firewall allows the range between the two hosts only.",
            )
        )
    elif flow.port_range is not None and flow.protocol == "udp":
        gaps.append(
            (
                f"RTP media on dynamic UDP ports ({flow.port_range}), negotiated per call in SDP",
                "Place a test call through the gateway and capture the SDP (c=/m= lines) and RTP "
                "ports; check the UM server's configured RTP range.",
            )
        )
    elif flow.port_range is not None:
        gaps.append(
            (
                f"RPC dynamic port range {flow.port_range}: endpoints are assigned at run time",
                _RPC_HOW,
            )
        )
    if "ipsec" in flow.encryption.mechanisms:
        gaps.append(
            (
                "encryption by IPsec only: negotiated by the operating system below the protocol, "
                "invisible to an application probe",
                "On both hosts: `netsh advfirewall consec show rule name=all` (2008) or "
                "`netsh ipsec static show all` (2003) and the IPsec main-mode SAs "
                "(`netsh advfirewall monitor show mmsa`).",
            )
        )
    if "rpc" in flow.encryption.mechanisms:
        gaps.append(
            (
                "RPC encryption (packet privacy) is negotiated after authentication; an "
                "unauthenticated probe cannot see it",
                "Exchange Management Shell: `Get-MailboxServer | fl Name,MAPIEncryptionRequired`; "
                "Outlook profiles: 'Encrypt data between Microsoft Office Outlook and Microsoft "
                "Exchange'.",
            )
        )
    if dest is not None and dest.kind not in SERVER_KINDS:
        gaps.append(
            (
                f"destination {dest.name} is {_article(dest.kind.value)}: nothing of "
                "ours listens there to probe",
                "Check the sending server's connector or client configuration and its logs.",
            )
        )
    elif dest is not None and single_address(dest.addresses) is None:
        gaps.append(
            (
                f"destination {dest.name} has no single IP address in the plan",
                "Give the host one address in the deployment file, or audit it with -t HOST:PORT.",
            )
        )
    return gaps


def _dest(plan: Plan, name: str) -> HostInfo | None:
    try:
        return plan.host(name)
    except KeyError:
        return None


def dry_run(plan: Plan, catalog: Catalog, from_zone: str | None = None) -> DryRun:
    """Every check the audit would run, and every path or aspect it cannot observe.

    Without ``from_zone`` every planned flow is checked once per endpoint and path. With it,
    only flows from that zone are checked, and every server port the plan opens to other
    zones but not to ``from_zone`` is checked to be closed.
    """
    checks: dict[tuple[str, int, AppProtocol, str | None], Check] = {}
    zones_of: dict[tuple[str, int, AppProtocol, str | None], set[str]] = {}
    gaps: dict[tuple[str, str], NotObservable] = {}
    flows_by_path: dict[str, int] = {}
    for flow in plan.flows:
        flows_by_path[flow.path_id] = flows_by_path.get(flow.path_id, 0) + 1
        dest = _dest(plan, flow.destination)
        for reason, how in _flow_gaps(flow, dest):
            gaps.setdefault(
                (flow.path_id, reason),
                NotObservable(
                    path_id=flow.path_id, reason=reason, how_to_verify=how, flow_id=flow.id
                ),
            )
        if from_zone is not None and flow.source_zone != from_zone:
            continue
        proto = protocol_for(flow)
        if flow.local or proto is None or dest is None or dest.kind not in SERVER_KINDS:
            continue
        addr = single_address(dest.addresses)
        if addr is None or flow.port is None:
            continue
        key = (addr, flow.port, proto, flow.path_id)
        zones_of.setdefault(key, set()).add(flow.source_zone)
        if key not in checks:
            checks[key] = Check(
                path_id=flow.path_id,
                host=addr,
                port=flow.port,
                protocol=proto,
                probe=registry.served_by(proto).value,
                from_zone=from_zone or flow.source_zone,
                destination=dest.name,
                flow_id=flow.id,
            )
    out = [
        c.model_copy(update={"source_zones": tuple(sorted(zones_of[k]))}) for k, c in checks.items()
    ]
    if from_zone is not None:
        out += closed_checks(plan, from_zone)
    for p in catalog.paths:
        if p.id not in flows_by_path:
            gaps[(p.id, "no flow")] = NotObservable(
                path_id=p.id,
                reason="no flow in this deployment: the roles of this path are not deployed "
                "(or the planner keeps it out)",
                how_to_verify="`pathsec plan DEPLOYMENT.yaml` lists why; nothing to probe.",
            )
    return DryRun(checks=tuple(out), not_observable=tuple(gaps.values()))


def closed_checks(plan: Plan, from_zone: str) -> list[Check]:
    """TCP ports the plan opens on a server to some zone but not to ``from_zone``."""
    opened: dict[tuple[str, int], set[str]] = {}
    names: dict[str, str] = {}
    for flow in plan.flows:
        if flow.local or flow.port is None or flow.protocol != "tcp":
            continue
        dest = _dest(plan, flow.destination)
        if dest is None or dest.kind not in SERVER_KINDS:
            continue
        addr = single_address(dest.addresses)
        if addr is None:
            continue
        names[addr] = dest.name
        opened.setdefault((addr, flow.port), set()).add(flow.source_zone)
    out = []
    for (addr, port), zones in sorted(opened.items()):
        if from_zone in zones:
            continue
        out.append(
            Check(
                path_id=None,
                host=addr,
                port=port,
                protocol=AppProtocol.tcp,
                probe="tcp",
                from_zone=from_zone,
                expect="closed",
                destination=names[addr],
                source_zones=tuple(sorted(zones)),
            )
        )
    return out

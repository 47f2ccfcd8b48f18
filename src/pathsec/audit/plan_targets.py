"""Targets from a :class:`~pathsec.plan.models.Plan`: each planned mail flow to a server."""

from __future__ import annotations

import ipaddress

from pathsec.audit.models import Expectations, Target
from pathsec.audit.targets import PORT_PROTOCOLS
from pathsec.plan.models import Plan

#: Zone kinds whose clients count as trusted for the NTLM disclosure check.
TRUSTED_ZONE_KINDS = frozenset({"internal", "management"})


def _address(addresses: tuple[str, ...]) -> str | None:
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


def targets_from_plan(plan: Plan) -> tuple[list[Target], list[str]]:
    """Mail-protocol flows as targets (deduplicated by endpoint and path) and skip notes."""
    zones = {z.name: z.kind for z in plan.zones}
    seen: set[tuple[str, int, str]] = set()
    targets: list[Target] = []
    skipped: list[str] = []
    for flow in plan.flows:
        if flow.local or flow.protocol not in ("tcp", None) or flow.port not in PORT_PROTOCOLS:
            continue
        try:
            host = plan.host(flow.destination)
        except KeyError:
            skipped.append(f"{flow.id}: unknown destination host {flow.destination}")
            continue
        addr = _address(host.addresses)
        if addr is None:
            skipped.append(f"{flow.id}: {host.name} has no single IP address")
            continue
        key = (addr, flow.port, flow.path_id)
        if key in seen:
            continue
        seen.add(key)
        targets.append(
            Target(
                host=addr,
                port=flow.port,
                protocol=PORT_PROTOCOLS[flow.port],
                path_id=flow.path_id,
                flow_id=flow.id,
                server_name=host.name if "." in host.name else None,
                trusted_source=zones.get(flow.source_zone) in TRUSTED_ZONE_KINDS,
                dial_port=host.listen_ports.get(flow.port),
                expectations=Expectations(
                    encryption_supported=flow.encryption.supported,
                    encryption_by_default=flow.encryption.by_default,
                    default_auth=flow.default_auth,
                    supported_auth=flow.supported_auth,
                ),
            )
        )
    return targets, skipped

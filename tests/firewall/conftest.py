"""Plan builders and tool helpers for the firewall tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pathsec.catalog import load_catalog
from pathsec.firewall import GeneratorOptions, HostFormat
from pathsec.plan import build_plan
from pathsec.plan.models import (
    EncryptionExpectation,
    FirewallInfo,
    Flow,
    HostInfo,
    HostKind,
    Plan,
    PortSpan,
    ZoneInfo,
)
from pathsec.topology import load_deployment

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
IN_CI = os.environ.get("CI", "").lower() == "true"


def need(tool: str, *, root: bool = True) -> str:
    """The path of ``tool``; skip locally, fail under CI when it or root is missing."""
    path = shutil.which(tool)
    problem = None
    if path is None:
        problem = f"{tool} is not installed"
    elif root and os.geteuid() != 0:
        problem = f"{tool} needs root"
    if problem:
        if IN_CI:
            pytest.fail(problem)
        pytest.skip(problem)
    assert path is not None
    return path


def example_plan(path: Path) -> Plan:
    """The planner's plan of an example deployment."""
    return build_plan(load_catalog(), load_deployment(path), f"examples/{path.name}")


def options(host_format: HostFormat = "own", **protocols: Any) -> GeneratorOptions:
    """Generator options with the built-in catalog."""
    return GeneratorOptions(catalog=load_catalog(), protocols=protocols, host_format=host_format)


def host(
    name: str, zone: str, *addresses: str, kind: HostKind = HostKind.server, **kw: Any
) -> HostInfo:
    return HostInfo(name=name, kind=kind, zone=zone, addresses=addresses, **kw)


def flow(
    path_id: str,
    src: HostInfo,
    dst: HostInfo,
    protocol: str | None,
    port: int | None = None,
    port_range: PortSpan | None = None,
    crosses: tuple[str, ...] = (),
    local: bool = False,
    label: str | None = None,
) -> Flow:
    ports = str(port) if port is not None else str(port_range) if port_range else "local"
    return Flow(
        id=f"{path_id}:{src.name}>{dst.name}:{protocol or 'any'}/{ports}",
        label=label,
        path_id=path_id,
        source=src.name,
        source_zone=src.zone,
        destination=dst.name,
        destination_zone=dst.zone,
        protocol=protocol,  # type: ignore[arg-type]
        port=port,
        port_range=port_range,
        local=local,
        default_auth=("kerberos",),
        supported_auth=("kerberos",),
        encryption=EncryptionExpectation(supported=True, mechanisms=("tls",), by_default=True),
        crosses=crosses,
    )


RPC = PortSpan(start=6005, end=6010)


def lab_plan(*, extra_flows: tuple[Flow, ...] = (), **host_overrides: Any) -> Plan:
    """The small example's shape, built by hand: internet, perimeter (Edge), internal (EX1, DC1).

    Two network firewalls (outer: internet|perimeter, inner: perimeter|internal), host
    firewalls on EX1 and DC1, IPv4 and IPv6, an RPC range on EX1, TCP and UDP flows.
    """
    inet = host(
        "internet-users",
        "internet",
        "203.0.113.0/24",
        "2001:db8:ffff::/48",
        kind=HostKind.client_population,
    )
    phones = host("phones", "internet", "203.0.113.128/25", kind=HostKind.client_population)
    edge = host("EDGE1", "perimeter", "192.0.2.25", "2001:db8:2::25")
    ex1 = host(
        "EX1",
        "internal",
        "10.1.0.20",
        "fd00:1::20",
        host_firewall=True,
        rpc_range=RPC,
        rpc_range_configured=True,
        windows="2008",
    )
    dc1 = host("DC1", "internal", "10.1.0.10", host_firewall=True, windows="2003")
    hosts = {h.name: h for h in (inet, phones, edge, ex1, dc1)}
    for name, changes in host_overrides.items():
        hosts[name] = hosts[name].model_copy(update=changes)
    inet, phones, edge, ex1, dc1 = (
        hosts[n] for n in ("internet-users", "phones", "EDGE1", "EX1", "DC1")
    )
    both = ("fw-outer", "fw-inner")
    flows = (
        flow("client_access.owa", inet, ex1, "tcp", 443, crosses=both),
        flow("client_access.activesync", phones, ex1, "tcp", 443, crosses=both),
        flow("transport.edge_to_hub", edge, ex1, "tcp", 25, crosses=("fw-inner",)),
        flow("transport.edgesync", ex1, edge, "tcp", 50636, crosses=("fw-inner",)),
        flow("transport.hub_ad_access", ex1, dc1, "tcp", 3268),
        flow("transport.hub_ad_access", ex1, dc1, "udp", 88),
        flow("client_access.cas_to_mailbox", ex1, ex1, "tcp", 135, local=True),
        flow("mailbox.admin_remote_registry", dc1, ex1, "tcp", 135),
        flow("client_access.cas_to_mailbox", dc1, ex1, "tcp", port_range=RPC),
        *extra_flows,
    )
    return Plan(
        deployment="Lab",
        source_file="<lab>",
        hosts=tuple(hosts.values()),
        zones=(
            ZoneInfo(
                name="internet", kind="internet", cidrs=("203.0.113.0/24", "2001:db8:ffff::/48")
            ),
            ZoneInfo(name="perimeter", kind="perimeter", cidrs=("192.0.2.0/24", "2001:db8:2::/64")),
            ZoneInfo(name="internal", kind="internal", cidrs=("10.1.0.0/16", "fd00:1::/64")),
        ),
        firewalls=(
            FirewallInfo(
                name="fw-outer",
                zones=("internet", "perimeter"),
                interfaces={"internet": "eth0", "perimeter": "eth1"},
            ),
            FirewallInfo(
                name="fw-inner",
                zones=("perimeter", "internal"),
                interfaces={"perimeter": "eth0", "internal": "eth1"},
            ),
        ),
        flows=flows,
    )


@pytest.fixture
def netns() -> Iterator[str]:
    """A fresh, empty network namespace (removed afterwards)."""
    need("ip")
    name = f"ps{os.getpid()}fwchk"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def options_for(plan: Plan, host_format: HostFormat = "own") -> GeneratorOptions:
    """Options that open TCP and UDP for every flow the reference gives no protocol (explicitly)."""
    null_paths = {f.path_id for f in plan.flows if f.protocol is None and not f.local}
    return options(host_format, **dict.fromkeys(null_paths, ("tcp", "udp")))


#: One server per Windows host firewall flavour, in the flavours plan.
FLAVOURS = {
    "W2003": "2003",
    "W2003R2": "2003-r2",
    "W2008": "2008",
    "W2008R2": "2008-r2",
    "W2012": "2012",
    "W2022": "2022",
}


def flavours_plan() -> Plan:
    """The same inbound flows to one server of every Windows flavour, for the Windows golden
    files: IPv4 and IPv6, a port set, TCP 135 and the RPC range (a path whose service
    executable is known and one whose is not), a small and a large range, UDP, a flow the
    reference leaves without a protocol."""
    base = lab_plan()
    inet, phones, edge, _, dc1 = (
        base.host(n) for n in ("internet-users", "phones", "EDGE1", "EX1", "DC1")
    )
    admins = host("admins", "internal", "10.1.9.0/26", kind=HostKind.admin)
    backup = host("BK1", "internal", "10.1.9.70", kind=HostKind.backup)
    servers = [
        host(
            name,
            "internal",
            f"10.1.0.{30 + i}",
            f"fd00:1::{30 + i:x}",
            host_firewall=True,
            rpc_range=RPC,
            rpc_range_configured=i % 2 == 0,
            windows=version,
            roles=("mailbox",),
        )
        for i, (name, version) in enumerate(FLAVOURS.items())
    ]
    flows: list[Flow] = []
    for s in servers:
        flows += [
            flow("client_access.owa", inet, s, "tcp", 443),
            flow("client_access.activesync", phones, s, "tcp", 443),
            flow("transport.edge_to_hub", edge, s, "tcp", 25),
            flow("transport.edge_to_hub", edge, s, "tcp", 587),
            flow("mailbox.mapi_access", dc1, s, "tcp", 135),
            flow("mailbox.mapi_access", dc1, s, "tcp", port_range=RPC, label="RPC dynamic"),
            flow("mailbox.admin_remote_registry", admins, s, "tcp", 135),
            flow(
                "mailbox.admin_remote_registry",
                admins,
                s,
                "tcp",
                port_range=RPC,
                label="RPC dynamic",
            ),
            flow("mailbox.cluster", dc1, s, "udp", 3343),
            flow("unified_messaging.pbx", dc1, s, "udp", port_range=PortSpan(start=5060, end=5062)),
            flow(
                "mailbox.legacy_backup", backup, s, None, port_range=PortSpan(start=1025, end=65535)
            ),
        ]
    lab_hosts = tuple(h.model_copy(update={"host_firewall": False}) for h in base.hosts)
    return base.model_copy(
        update={
            "deployment": "Flavours",
            "hosts": (*lab_hosts, admins, backup, *servers),
            "flows": tuple(flows),
        }
    )

"""Turn a deployment's servers, clients, gateways and partners into plan endpoints.

An :class:`Endpoint` is a :class:`~pathsec.plan.models.HostInfo` plus what the planner
needs to pair it: its catalog roles, the servers it may use, its SIP and media ports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pathsec.catalog.models import Role
from pathsec.plan.models import HostInfo, HostKind, PortSpan
from pathsec.topology.models import (
    ClientRole,
    Deployment,
    ExchangeVersion,
    Server,
    ServerRole,
    SipMode,
    WindowsVersion,
    parse_port_range,
    population_direct_mapi,
    population_roles,
)

#: Default RPC dynamic ranges by Windows release (KB 154596 / KB 929851).
DEFAULT_RPC_RANGE: dict[WindowsVersion, PortSpan] = {
    WindowsVersion.w2003: PortSpan(start=1025, end=5000),
    WindowsVersion.w2003_r2: PortSpan(start=1025, end=5000),
    WindowsVersion.w2008: PortSpan(start=49152, end=65535),
    WindowsVersion.w2008_r2: PortSpan(start=49152, end=65535),
    **dict.fromkeys(
        (
            WindowsVersion.w2012,
            WindowsVersion.w2012_r2,
            WindowsVersion.w2016,
            WindowsVersion.w2019,
            WindowsVersion.w2022,
            WindowsVersion.w2025,
        ),
        PortSpan(start=49152, end=65535),
    ),
}

#: Ports of a path with a ``random`` range: any unprivileged port above 1024.
RANDOM_RANGE = PortSpan(start=1025, end=65535)

_SERVER_ROLES: dict[ServerRole, tuple[Role, ...]] = {
    ServerRole.hub_transport: (Role.hub_transport,),
    ServerRole.edge_transport: (Role.edge_transport, Role.edge_adam),
    ServerRole.mailbox: (Role.mailbox,),
    ServerRole.client_access: (Role.client_access,),
    ServerRole.unified_messaging: (Role.unified_messaging,),
    ServerRole.domain_controller: (Role.domain_controller,),
}

_ROLE_ORDER = {r.value: i for i, r in enumerate(Role)}


@dataclass(frozen=True)
class Endpoint:
    """A plan endpoint with the facts the planner pairs it by."""

    info: HostInfo
    roles: frozenset[str]
    site: str | None
    server: Server | None = None
    #: Servers an external endpoint may reach (None: every server of the matching role).
    targets: frozenset[str] | None = None
    #: Population: reaches Mailbox servers directly (MAPI/RPC, WebDAV).
    direct_mapi: bool = True
    outlook_versions: frozenset[int] = frozenset()
    oab_web: bool = True
    #: IP gateway: which UM services it carries (voice, fax).
    services: frozenset[str] = frozenset()
    #: Backup server: vss and/or legacy.
    methods: frozenset[str] = frozenset()
    media_range: PortSpan | None = None
    sip_mode: SipMode | None = None
    exchange: ExchangeVersion | None = None

    @property
    def name(self) -> str:
        """The endpoint's name."""
        return self.info.name


@dataclass
class Topology:
    """Every endpoint of a deployment, indexed by name and by catalog role."""

    endpoints: list[Endpoint]
    by_name: dict[str, Endpoint] = field(default_factory=dict)
    by_role: dict[str, list[Endpoint]] = field(default_factory=dict)
    #: Roles that run as agents on a server, e.g. the VSS backup requestor on a Mailbox server.
    local_agents: dict[str, list[Endpoint]] = field(default_factory=dict)
    #: Cluster name -> (nodes, SCR targets, kind).
    clusters: dict[str, tuple[list[str], list[str], str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for e in self.endpoints:
            self.by_name[e.name] = e
            for r in e.roles:
                self.by_role.setdefault(r, []).append(e)

    def with_role(self, role: str) -> list[Endpoint]:
        """Endpoints holding ``role`` (in deployment order)."""
        return self.by_role.get(role, [])


def _span(text: str) -> PortSpan:
    start, end = parse_port_range(text)
    return PortSpan(start=start, end=end)


def _sorted_roles(roles: set[str]) -> tuple[str, ...]:
    return tuple(sorted(roles, key=lambda r: _ROLE_ORDER.get(r, 99)))


def server_roles(server: Server, cluster_nodes: set[str]) -> set[str]:
    """Catalog roles of a server (Exchange 2003 Mailbox is ``legacy_mailbox``)."""
    roles: set[str] = set()
    for r in server.roles:
        if r is ServerRole.mailbox and server.exchange is ExchangeVersion.e2003:
            roles.add(Role.legacy_mailbox.value)
        else:
            roles |= {x.value for x in _SERVER_ROLES[r]}
    if server.name in cluster_nodes and Role.mailbox.value in roles:
        roles.add(Role.cluster_node.value)
    return roles


def build_topology(dep: Deployment) -> Topology:
    """Every endpoint of ``dep`` as plan hosts, in a stable order (servers first)."""
    zones = {z.name: z for z in dep.zones}
    nodes = {n for c in dep.clusters for n in c.nodes}
    endpoints: list[Endpoint] = []
    for s in dep.servers:
        roles = server_roles(s, nodes)
        rpc = _span(s.rpc_range) if s.rpc_range else DEFAULT_RPC_RANGE[s.windows]
        is_um = ServerRole.unified_messaging in s.roles
        info = HostInfo(
            name=s.name,
            kind=HostKind.server,
            zone=s.zone,
            site=s.site,
            addresses=s.addresses,
            roles=_sorted_roles(roles),
            host_firewall=s.host_firewall,
            windows=s.windows.value,
            rpc_range=rpc,
            rpc_range_configured=s.rpc_range is not None,
            listen_ports=dict(s.listen_ports),
        )
        endpoints.append(
            Endpoint(
                info,
                frozenset(roles),
                s.site,
                server=s,
                media_range=_span(s.um_media_range) if is_um else None,
                sip_mode=s.um_sip_mode if is_um else None,
                exchange=s.exchange,
            )
        )
    for p in dep.client_populations:
        roles = {r.value for r in population_roles(p)}
        info = HostInfo(
            name=p.name,
            kind=HostKind.client_population,
            zone=p.zone,
            site=p.site,
            addresses=p.cidrs or zones[p.zone].cidrs,
            roles=_sorted_roles(roles),
        )
        endpoints.append(
            Endpoint(
                info,
                frozenset(roles),
                p.site,
                targets=frozenset(p.servers) if p.servers is not None else None,
                direct_mapi=population_direct_mapi(p),
                outlook_versions=frozenset(p.outlook_versions)
                if ClientRole.outlook_client in population_roles(p)
                else frozenset(),
                oab_web=p.oab_web_distribution,
            )
        )
    for g in dep.ip_gateways:
        info = HostInfo(
            name=g.name,
            kind=HostKind.ip_gateway,
            zone=g.zone,
            site=g.site,
            addresses=g.addresses,
            roles=(Role.ip_gateway.value,),
        )
        endpoints.append(
            Endpoint(
                info,
                frozenset({Role.ip_gateway.value}),
                g.site,
                targets=frozenset(g.um_servers) if g.um_servers is not None else None,
                services=frozenset(g.services),
                media_range=_span(g.media_range),
            )
        )
    for b in dep.backup_servers:
        info = HostInfo(
            name=b.name,
            kind=HostKind.backup,
            zone=b.zone,
            addresses=b.addresses,
            roles=(Role.backup.value,),
        )
        endpoints.append(
            Endpoint(
                info,
                frozenset({Role.backup.value}),
                None,
                targets=frozenset(b.targets) if b.targets is not None else None,
                methods=frozenset(b.methods),
            )
        )
    for a in dep.admin_workstations:
        info = HostInfo(
            name=a.name,
            kind=HostKind.admin,
            zone=a.zone,
            addresses=a.addresses,
            roles=(Role.admin.value,),
        )
        endpoints.append(
            Endpoint(
                info,
                frozenset({Role.admin.value}),
                None,
                targets=frozenset(a.targets) if a.targets is not None else None,
            )
        )
    for pt in dep.partners:
        info = HostInfo(
            name=pt.name,
            kind=HostKind.partner,
            zone=pt.zone,
            addresses=pt.addresses,
            roles=(Role.remote_organization.value,),
        )
        endpoints.append(
            Endpoint(
                info,
                frozenset({Role.remote_organization.value}),
                None,
                targets=frozenset(pt.edges) if pt.edges is not None else None,
            )
        )
    topo = Topology(endpoints)
    for c in dep.clusters:
        topo.clusters[c.name] = (list(c.nodes), list(c.scr_targets), c.kind.value)
    # The VSS requestor of a backup runs on the Mailbox server it backs up: a local path.
    seen: set[str] = set()
    for e in endpoints:
        if e.info.kind is HostKind.backup and "vss" in e.methods:
            for m in topo.with_role(Role.mailbox.value):
                if (e.targets is None or m.name in e.targets) and m.name not in seen:
                    seen.add(m.name)
                    topo.local_agents.setdefault(Role.backup.value, []).append(m)
    return topo

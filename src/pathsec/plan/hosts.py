"""Turn a deployment's servers, clients, gateways and partners into plan endpoints.

An :class:`Endpoint` is a :class:`~pathsec.plan.models.HostInfo` plus what the planner
needs to pair it: its catalog roles, the servers it may use, its SIP and media ports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pathsec.catalog.models import Role
from pathsec.plan.models import HostInfo, HostKind, PortSpan
from pathsec.topology.loader import internet_zone
from pathsec.topology.models import (
    ClientRole,
    Deployment,
    ExchangeVersion,
    PublishedService,
    Server,
    ServerRole,
    SipMode,
    WindowsVersion,
    ZoneKind,
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
    #: External endpoint: may open connections to servers / accept connections from them
    #: (internet mail: inbound / outbound).
    sends: bool = True
    accepts: bool = True
    #: Client population in a zone of kind internet.
    internet: bool = False
    #: Client Access server: serves internet populations (its own or its site's marking).
    facing: bool = True
    #: Publisher: its kind, the services (catalog path ids) it publishes, its CAS and clients.
    publisher_kind: str | None = None
    published_paths: frozenset[str] = frozenset()
    populations: frozenset[str] | None = None

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
    #: Where Edge servers check certificate revocation (None: nowhere known).
    crl: Endpoint | None = None
    #: Reverse proxies, load balancers and NATs, in deployment order.
    publishers: list[Endpoint] = field(default_factory=list)
    #: Whether any site or Client Access server says internet_facing.
    facing_marked: bool = False

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


#: Catalog path of each service a publisher can publish.
PUBLISHED_PATHS: dict[PublishedService, str] = {
    PublishedService.owa: "client_access.owa",
    PublishedService.activesync: "client_access.activesync",
    PublishedService.outlook_anywhere: "client_access.outlook_anywhere",
    PublishedService.autodiscover: "client_access.autodiscover",
    PublishedService.ews: "client_access.availability_service",
    PublishedService.oab: "client_access.outlook_oab_web",
    PublishedService.um_web_service: "unified_messaging.web_service",
}


def _facing(dep: Deployment) -> tuple[bool, dict[str, bool]]:
    """Whether anything is marked internet_facing, and each Client Access server's verdict."""
    sites = {s.name: s.internet_facing for s in dep.sites}
    marked = any(v is not None for v in sites.values()) or any(
        s.internet_facing is not None for s in dep.servers
    )
    verdict: dict[str, bool] = {}
    for s in dep.servers:
        if ServerRole.client_access in s.roles:
            own = s.internet_facing if s.internet_facing is not None else sites.get(s.site or "")
            verdict[s.name] = bool(own) if marked else True
    return marked, verdict


def _extra_endpoints(dep: Deployment, topo_zones: dict[str, tuple[str, ...]]) -> list[Endpoint]:
    """Internet mail, its resolvers and the publishers as plan endpoints."""
    out: list[Endpoint] = []
    inet = internet_zone(dep)
    mail = dep.internet_mail
    if mail is not None:
        zone = mail.zone or inet
        assert zone is not None  # the loader checked
        info = HostInfo(
            name=mail.name,
            kind=HostKind.internet_mail,
            zone=zone,
            addresses=mail.addresses or topo_zones[zone],
            roles=(Role.remote_organization.value,),
        )
        edges = frozenset(mail.edges) if mail.edges is not None else None
        out.append(
            Endpoint(
                info,
                frozenset({Role.remote_organization.value}),
                None,
                targets=edges,
                sends=mail.inbound,
                accepts=mail.outbound,
            )
        )
        if mail.resolvers is not None:
            r = mail.resolvers
            info = HostInfo(
                name=r.name,
                kind=HostKind.dns_resolver,
                zone=r.zone,
                addresses=r.addresses,
                roles=(Role.dns_resolver.value,),
            )
            out.append(Endpoint(info, frozenset({Role.dns_resolver.value}), None, targets=edges))
    for pub in dep.publishers:
        info = HostInfo(
            name=pub.name, kind=HostKind.publisher, zone=pub.zone, addresses=pub.addresses
        )
        out.append(
            Endpoint(
                info,
                frozenset(),
                None,
                targets=frozenset(pub.servers) if pub.servers is not None else None,
                publisher_kind=pub.kind.value,
                published_paths=frozenset(PUBLISHED_PATHS[x] for x in pub.publishes),
                populations=frozenset(pub.populations) if pub.populations is not None else None,
            )
        )
    return out


def _crl_endpoint(dep: Deployment, topo_zones: dict[str, tuple[str, ...]]) -> Endpoint | None:
    cc = dep.certificate_checks
    zone = (cc.zone if cc is not None else None) or internet_zone(dep)
    if zone is None:
        return None
    info = HostInfo(
        name=cc.name if cc is not None else "crl-endpoints",
        kind=HostKind.crl_endpoint,
        zone=zone,
        addresses=(cc.addresses if cc is not None else ()) or topo_zones[zone],
    )
    return Endpoint(info, frozenset(), None)


def build_topology(dep: Deployment) -> Topology:
    """Every endpoint of ``dep`` as plan hosts, in a stable order (servers first)."""
    zones = {z.name: z for z in dep.zones}
    internet_zones = {z.name for z in dep.zones if z.kind is ZoneKind.internet}
    marked, facing = _facing(dep)
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
                facing=facing.get(s.name, True),
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
                internet=p.zone in internet_zones,
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
    zone_cidrs = {z.name: z.cidrs for z in dep.zones}
    extra = _extra_endpoints(dep, zone_cidrs)
    endpoints.extend(extra)
    topo = Topology(endpoints)
    topo.publishers = [e for e in extra if e.info.kind is HostKind.publisher]
    topo.facing_marked = marked
    if any(ServerRole.edge_transport in s.roles for s in dep.servers):
        topo.crl = _crl_endpoint(dep, zone_cidrs)
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

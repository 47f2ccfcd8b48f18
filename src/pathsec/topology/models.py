"""The deployment file: an organisation's sites, zones, servers, clients and firewalls.

Every model is frozen and rejects unknown fields, so a typo in a deployment file is an
error naming its line rather than a silently ignored key. Cross-references (a server's
site, a cluster's nodes …) are checked by :mod:`pathsec.topology.loader`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from pathsec.ident import (
    CIDR,
    AddressOrCIDR,
    Description,
    DomainName,
    InterfaceName,
    IPAddress,
    Name,
    PathId,
    Port,
    PortRangeText,
    ShortText,
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _int_to_str(value: object) -> object:
    # ``windows: 2008`` in YAML is an integer; accept it as the version text.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def parse_port_range(text: str) -> tuple[int, int]:
    """Split a validated 'START-END' text into two integers."""
    start, end = text.split("-")
    return int(start), int(end)


class ServerRole(StrEnum):
    """Roles a server of the deployment can hold."""

    hub_transport = "hub_transport"
    edge_transport = "edge_transport"
    mailbox = "mailbox"
    client_access = "client_access"
    unified_messaging = "unified_messaging"
    domain_controller = "domain_controller"


class ExchangeVersion(StrEnum):
    """Exchange release on a server; ``2003`` is a legacy Exchange 2003 mailbox server."""

    e2007_rtm = "2007-rtm"
    e2007_sp1 = "2007-sp1"
    e2007_sp2 = "2007-sp2"
    e2007_sp3 = "2007-sp3"
    e2003 = "2003"


class WindowsVersion(StrEnum):
    """Windows Server release of a server: it decides the default RPC dynamic range and
    the host firewall format (2003: ``netsh firewall``; 2008: ``netsh advfirewall``; 2012
    and later: ``New-NetFirewallRule``). Exchange 2007 runs on 2003 to 2008 R2 only; the
    later releases are for the servers around it (domain controllers)."""

    w2003 = "2003"
    w2003_r2 = "2003-r2"
    w2008 = "2008"
    w2008_r2 = "2008-r2"
    w2012 = "2012"
    w2012_r2 = "2012-r2"
    w2016 = "2016"
    w2019 = "2019"
    w2022 = "2022"
    w2025 = "2025"


class SipMode(StrEnum):
    """Which SIP ports a Unified Messaging server listens on."""

    tcp = "tcp"  # 5060, unsecured
    tls = "tls"  # 5061, mutual TLS
    both = "both"


class ZoneKind(StrEnum):
    """What a network zone is for; ``other`` for the user's own kinds."""

    internet = "internet"
    perimeter = "perimeter"
    internal = "internal"
    management = "management"
    voice = "voice"
    other = "other"


class PopulationKind(StrEnum):
    """Kinds of client populations; each has default catalog client roles."""

    internal_users = "internal_users"
    internet_users = "internet_users"
    mobile_devices = "mobile_devices"
    pop_imap_clients = "pop_imap_clients"
    smtp_clients = "smtp_clients"
    webdav_clients = "webdav_clients"


class ClientRole(StrEnum):
    """Catalog client roles a population can take."""

    outlook_client = "outlook_client"
    web_client = "web_client"
    mobile_client = "mobile_client"
    pop_imap_client = "pop_imap_client"
    smtp_client = "smtp_client"
    webdav_client = "webdav_client"


class Organization(_Frozen):
    """The Exchange organisation and its Active Directory forest and domain."""

    name: ShortText = Field(min_length=1)
    forest: DomainName
    domain: DomainName


class Site(_Frozen):
    """An Active Directory site."""

    name: Name
    description: Description | None = None
    internet_facing: bool | None = Field(
        default=None,
        description="Its Client Access servers serve internet users and devices; CAS of other "
        "sites are reached through them (CAS-to-CAS proxying). Unset everywhere: every CAS.",
    )


class Zone(_Frozen):
    """A network zone with its address ranges."""

    name: Name
    kind: ZoneKind
    cidrs: tuple[CIDR, ...] = Field(min_length=1)


class Server(_Frozen):
    """A Windows server holding one or more roles."""

    name: Name
    addresses: tuple[IPAddress, ...] = Field(min_length=1)
    site: Name | None = Field(
        default=None, description="AD site; may be omitted only for Edge Transport servers."
    )
    zone: Name
    roles: tuple[ServerRole, ...] = Field(min_length=1)
    exchange: Annotated[ExchangeVersion | None, BeforeValidator(_int_to_str)] = Field(
        default=None, description="Exchange release; required when an Exchange role is present."
    )
    windows: Annotated[WindowsVersion, BeforeValidator(_int_to_str)] = WindowsVersion.w2003
    rpc_range: PortRangeText | None = Field(
        default=None, description="Configured RPC dynamic range (KB 154596); default by Windows."
    )
    domain_joined: bool | None = Field(
        default=None, description="Default: true, except for Edge Transport servers."
    )
    host_firewall: bool = False
    um_sip_mode: SipMode = SipMode.tcp
    um_media_range: PortRangeText = Field(
        default="1024-65535", description="RTP media ports of a UM server (UDP)."
    )
    global_catalog: bool = Field(default=True, description="Domain controllers: is a GC.")
    dns: bool = Field(default=True, description="Domain controllers: runs DNS.")
    listen_ports: dict[Port, Port] = Field(
        default_factory=dict,
        description=(
            "Reference port -> port actually listening, for services moved to a non-standard "
            "port (the pathsec lab without root): the audit dials the listening port and "
            "reports the reference port."
        ),
    )
    internet_facing: bool | None = Field(
        default=None,
        description="Client Access servers: overrides the site's internet_facing for this server.",
    )


class ClusterKind(StrEnum):
    """Mailbox cluster kinds of Exchange 2007."""

    ccr = "ccr"
    scc = "scc"


class Cluster(_Frozen):
    """A Mailbox cluster (CCR or SCC) and the SCR targets its storage groups replicate to."""

    name: Name
    kind: ClusterKind = ClusterKind.ccr
    nodes: tuple[Name, ...] = Field(min_length=1)
    scr_targets: tuple[Name, ...] = ()


class ClientPopulation(_Frozen):
    """Users or devices reaching Exchange from a zone or CIDRs."""

    name: Name
    kind: PopulationKind
    zone: Name
    cidrs: tuple[CIDR, ...] = Field(default=(), description="Default: the zone's CIDRs.")
    site: Name | None = Field(
        default=None, description="Only use servers of this AD site (default: any site)."
    )
    roles: tuple[ClientRole, ...] | None = Field(
        default=None, description="Catalog client roles; default by population kind."
    )
    servers: tuple[Name, ...] | None = Field(
        default=None, description="Servers used; default: every server of a matching role."
    )
    outlook_versions: tuple[Literal[2003, 2007], ...] = (2007,)
    oab_web_distribution: bool = Field(
        default=True, description="Outlook 2007 downloads the OAB over HTTP(S) from CAS."
    )
    direct_mapi: bool | None = Field(
        default=None,
        description="Reach Mailbox servers directly (MAPI/RPC, WebDAV). Default: false for "
        "internet users and mobile devices, true otherwise.",
    )


class GatewayKind(StrEnum):
    """IP gateway or IP PBX."""

    ip_gateway = "ip_gateway"
    ip_pbx = "ip_pbx"


class IpGateway(_Frozen):
    """A VoIP gateway or IP PBX talking SIP and RTP to Unified Messaging servers."""

    name: Name
    kind: GatewayKind = GatewayKind.ip_gateway
    addresses: tuple[IPAddress, ...] = Field(min_length=1)
    zone: Name
    site: Name | None = None
    services: tuple[Literal["voice", "fax"], ...] = ("voice", "fax")
    um_servers: tuple[Name, ...] | None = Field(
        default=None, description="Default: UM servers of its site, or all when no site."
    )
    media_range: PortRangeText = Field(default="1024-65535", description="RTP ports (UDP).")


class BackupServer(_Frozen):
    """A backup server: VSS (agent on the Mailbox server) or legacy streaming backup."""

    name: Name
    addresses: tuple[IPAddress, ...] = Field(min_length=1)
    zone: Name
    methods: tuple[Literal["vss", "legacy"], ...] = ("vss",)
    targets: tuple[Name, ...] | None = Field(
        default=None, description="Mailbox servers backed up; default all."
    )


class AdminWorkstations(_Frozen):
    """Administrator workstations (single addresses or CIDRs)."""

    name: Name
    addresses: tuple[AddressOrCIDR, ...] = Field(min_length=1)
    zone: Name
    targets: tuple[Name, ...] | None = Field(
        default=None, description="Mailbox servers administered; default all."
    )


class Partner(_Frozen):
    """A partner organisation exchanging mail with Domain Security (mutual TLS)."""

    name: Name
    domain: DomainName
    addresses: tuple[AddressOrCIDR, ...] = Field(min_length=1)
    zone: Name
    domain_security: bool = True
    edges: tuple[Name, ...] | None = Field(
        default=None, description="Edge Transport servers used; default all."
    )


class NetworkFirewall(_Frozen):
    """A network firewall separating the zones it lists."""

    name: Name
    zones: tuple[Name, ...] = Field(min_length=2)
    interfaces: dict[Name, InterfaceName] = Field(
        default_factory=dict, description="Zone -> interface."
    )


class DnsResolvers(_Frozen):
    """The DNS resolvers Edge Transport servers use to find the MX records of recipient domains."""

    name: Name = "dns-resolvers"
    zone: Name
    addresses: tuple[IPAddress, ...] = Field(min_length=1)


class InternetMail(_Frozen):
    """Mail with any server on the internet through the Edge Transport servers.

    Plans inbound SMTP (any source -> Edge 25), outbound SMTP (Edge -> any 25) and, with
    ``resolvers``, Edge -> resolvers 53 TCP and UDP. Partners stay for Domain Security peers.
    """

    name: Name = Field(
        default="internet-mail", description="The plan host standing for every mail server."
    )
    zone: Name | None = Field(default=None, description="Default: the first zone of kind internet.")
    addresses: tuple[CIDR | IPAddress, ...] = Field(
        default=(), description="Default: the zone's CIDRs."
    )
    edges: tuple[Name, ...] | None = Field(
        default=None, description="Edge Transport servers used; default all."
    )
    inbound: bool = True
    outbound: bool = True
    resolvers: DnsResolvers | None = None


class CertificateChecks(_Frozen):
    """Where Edge Transport servers check certificate revocation (CRL distribution points).

    The reference's Edge-to-Edge 80/TCP and 389/TCP/UDP ("certificate authentication") go
    from the Edge to these endpoints, never inbound. Default: the first internet zone.
    """

    name: Name = "crl-endpoints"
    zone: Name | None = Field(default=None, description="Default: the first zone of kind internet.")
    addresses: tuple[CIDR | IPAddress, ...] = Field(
        default=(), description="Default: the zone's CIDRs."
    )


class PublisherKind(StrEnum):
    """How a publisher forwards: a reverse proxy or load balancer opens its own connection to
    the Client Access server (the CAS sees the publisher's address); NAT rewrites the
    destination only (the CAS sees the client's address)."""

    reverse_proxy = "reverse_proxy"
    load_balancer = "load_balancer"
    nat = "nat"


class PublishedService(StrEnum):
    """Client Access services a publisher can publish (each is one catalog path)."""

    owa = "owa"
    activesync = "activesync"
    outlook_anywhere = "outlook_anywhere"
    autodiscover = "autodiscover"
    ews = "ews"
    oab = "oab"
    um_web_service = "um_web_service"


class Publisher(_Frozen):
    """A reverse proxy, load balancer or NAT in a zone publishing Client Access services."""

    name: Name
    kind: PublisherKind = PublisherKind.reverse_proxy
    zone: Name
    addresses: tuple[IPAddress, ...] = Field(
        min_length=1,
        description="The addresses clients connect to (and, except for NAT, "
        "the source the Client Access servers see).",
    )
    publishes: tuple[PublishedService, ...] = Field(min_length=1)
    servers: tuple[Name, ...] | None = Field(
        default=None,
        description="Client Access servers it forwards to; default: the "
        "internet-facing ones (every CAS when nothing is marked internet_facing).",
    )
    populations: tuple[Name, ...] | None = Field(
        default=None, description="Client populations it serves; default: those in internet zones."
    )


class PathException(_Frozen):
    """Leave out a catalog path, or some of its ports, where the deployment does not use it."""

    path: PathId = Field(description="Catalog path id.")
    ports: tuple[Port, ...] = Field(default=(), description="Only these ports; default: all.")
    protocol: Literal["tcp", "udp"] | None = Field(
        default=None, description="Only this protocol; default: any."
    )
    site: Name | None = Field(default=None, description="Flows with an end in this AD site.")
    zones: tuple[Name, Name] | None = Field(
        default=None, description="Flows between these two zones (either way)."
    )
    servers: tuple[Name, Name] | None = Field(
        default=None, description="Flows between these two hosts (either way)."
    )
    reason: ShortText = Field(min_length=1, description="Why: shown on every flow.")

    @model_validator(mode="after")
    def _one_scope(self) -> PathException:
        if sum(x is not None for x in (self.site, self.zones, self.servers)) > 1:
            raise ValueError("give at most one of site, zones and servers")
        return self


class EdgeSubscription(_Frozen):
    """An Edge Transport server subscribed to an AD site (EdgeSync)."""

    edge: Name
    site: Name


class Deployment(_Frozen):
    """A whole deployment file."""

    schema_version: Literal[1] = 1
    organization: Organization
    sites: tuple[Site, ...] = Field(min_length=1)
    zones: tuple[Zone, ...] = Field(min_length=1)
    servers: tuple[Server, ...] = Field(min_length=1)
    clusters: tuple[Cluster, ...] = ()
    client_populations: tuple[ClientPopulation, ...] = ()
    ip_gateways: tuple[IpGateway, ...] = ()
    backup_servers: tuple[BackupServer, ...] = ()
    admin_workstations: tuple[AdminWorkstations, ...] = ()
    partners: tuple[Partner, ...] = ()
    firewalls: tuple[NetworkFirewall, ...] = ()
    edge_subscriptions: tuple[EdgeSubscription, ...] = ()
    internet_mail: InternetMail | None = None
    certificate_checks: CertificateChecks | None = None
    publishers: tuple[Publisher, ...] = ()
    exceptions: tuple[PathException, ...] = ()
    operational_flows: bool = Field(
        default=False,
        description="Also plan the operational flows beyond the reference (labelled "
        "'operational'); the same as --with-operational.",
    )


DEFAULT_POPULATION_ROLES: dict[PopulationKind, tuple[ClientRole, ...]] = {
    PopulationKind.internal_users: (ClientRole.outlook_client, ClientRole.web_client),
    PopulationKind.internet_users: (ClientRole.web_client, ClientRole.outlook_client),
    PopulationKind.mobile_devices: (ClientRole.mobile_client,),
    # POP3/IMAP4 clients send mail by SMTP submission; `roles: [pop_imap_client]` opts out.
    PopulationKind.pop_imap_clients: (ClientRole.pop_imap_client, ClientRole.smtp_client),
    PopulationKind.smtp_clients: (ClientRole.smtp_client,),
    PopulationKind.webdav_clients: (ClientRole.webdav_client,),
}


def population_roles(pop: ClientPopulation) -> tuple[ClientRole, ...]:
    """The catalog client roles of a population (its own, or the default of its kind)."""
    return pop.roles if pop.roles is not None else DEFAULT_POPULATION_ROLES[pop.kind]


def population_direct_mapi(pop: ClientPopulation) -> bool:
    """Whether a population reaches Mailbox servers directly."""
    if pop.direct_mapi is not None:
        return pop.direct_mapi
    return pop.kind not in (PopulationKind.internet_users, PopulationKind.mobile_devices)


def server_domain_joined(server: Server) -> bool:
    """Whether a server is a domain member (Edge Transport servers default to no)."""
    if server.domain_joined is not None:
        return server.domain_joined
    return ServerRole.edge_transport not in server.roles

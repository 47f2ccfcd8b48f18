"""``pathsec init``: an annotated starter deployment for the common shapes of an organisation.

Every field the deployment models know appears in the starter, either set or commented out,
with a line saying what it means; placeholders carry ``TODO``. The text is built from
pathsec's own constants only (the options are counts and switches), and a test validates
every variant.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_SITES = 9
COMMENT_COLUMN = 40


@dataclass(frozen=True)
class StarterShape:
    """What the starter contains: AD sites, an Edge server, a CCR cluster, Unified Messaging."""

    sites: int = 1
    edge: bool = False
    ccr: bool = False
    um: bool = False

    def site_names(self) -> list[str]:
        """``HQ`` then ``Branch1``, ``Branch2`` …"""
        return ["HQ", *(f"Branch{i}" for i in range(1, self.sites))]


class _Lines:
    """Lines of YAML with comments aligned at one column."""

    def __init__(self) -> None:
        self.out: list[str] = []

    def __call__(self, text: str = "", comment: str | None = None) -> None:
        if comment is None:
            self.out.append(text)
        elif not text.strip():
            self.out.append(f"{text}# {comment}")
        else:
            self.out.append(f"{text.ljust(COMMENT_COLUMN - 2)}  # {comment}")

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.out) + "\n"


def _zone_of(site_index: int) -> str:
    return "hq-internal" if site_index == 0 else f"branch{site_index}-internal"


def _header(w: _Lines, shape: StarterShape) -> None:
    opts = [f"--sites {shape.sites}"]
    opts += [f"--{name}" for name in ("edge", "ccr", "um") if getattr(shape, name)]
    w("# pathsec deployment file: your Exchange 2007 organisation as data.")
    w(f"# Written by `pathsec init {' '.join(opts)}`. Valid as written, but every value marked")
    w("# TODO is a placeholder: replace it with yours, then run")
    w("#   pathsec validate deployment.yaml    # the reference's topology rules")
    w("#   pathsec plan deployment.yaml        # every flow between your hosts")
    w("# The schema: `pathsec schema deployment`; worked examples: `pathsec examples`.")
    w("# Addresses below are private/documentation ranges: nothing is contacted.")
    w("schema_version: 1", "format version of this file; always 1")
    w()
    w("organization:")
    w("  name: Contoso", "TODO: Exchange organisation name (Get-OrganizationConfig)")
    w("  forest: contoso.example", "TODO: DNS name of the AD forest root domain")
    w("  domain: contoso.example", "TODO: AD domain of the servers (Kerberos realm, DNS SOA)")
    w()


def _sites_and_zones(w: _Lines, shape: StarterShape) -> None:
    w("sites:", "Active Directory sites (Get-ADSite); servers of one site talk directly")
    for i, name in enumerate(shape.site_names()):
        if i == 0:
            w(f"  - name: {name}", "TODO: site name as in AD Sites and Services")
            w("    description: head office", "free text (optional)")
            w(
                "    # internet_facing: true",
                "internet clients reach only internet-facing sites' CAS",
            )
        else:
            w(f"  - name: {name}", "TODO: site name")
    w()
    w("zones:", "network zones; every address of a host must lie in its zone's CIDRs")
    if shape.edge:
        w("  - name: internet", "zone names are yours; firewalls and hosts refer to them")
        w(
            "    kind: internet",
            "internet | perimeter | internal | management | voice | other",
        )
        w("    cidrs: [203.0.113.0/24]", "TODO: where your internet clients come from")
        w("  - name: perimeter")
        w("    kind: perimeter", "the Edge Transport server belongs here (PS-TOPO-004)")
        w("    cidrs: [192.0.2.0/24]", "TODO: your perimeter network (DMZ)")
    for i, _ in enumerate(shape.site_names()):
        zone = _zone_of(i)
        if i == 0 and not shape.edge:
            w(f"  - name: {zone}", "zone names are yours; firewalls and hosts refer to them")
            w(
                "    kind: internal",
                "internet | perimeter | internal | management | voice | other",
            )
        else:
            w(f"  - name: {zone}")
            w("    kind: internal")
        w(f"    cidrs: [10.{i + 1}.0.0/16]", "TODO: the site's server and client subnets")
    if shape.um:
        w("  - name: voice")
        w("    kind: voice", "VoIP gateways and IP PBXs")
        w("    cidrs: [10.50.0.0/24]", "TODO: your voice network")
    w("  # - name: management", "uncomment for backup servers and admin workstations")
    w("  #   kind: management")
    w("  #   cidrs: [10.9.0.0/24]")
    w()


def _server(
    w: _Lines,
    name: str,
    address: str,
    site: str | None,
    zone: str,
    roles: str,
    *,
    exchange: bool = True,
    explain: bool = False,
) -> None:
    w(f"  - name: {name}", "TODO: the server's NetBIOS name" if explain else None)
    w(
        f"    addresses: [{address}]",
        "TODO: every IPv4/IPv6 address it serves on" if explain else None,
    )
    if site is not None:
        w(f"    site: {site}", "its AD site (omit only for Edge Transport)" if explain else None)
    w(f"    zone: {zone}", "its network zone" if explain else None)
    role_help = (
        "hub_transport client_access mailbox unified_messaging edge_transport domain_controller"
    )
    w(f"    roles: [{roles}]", role_help if explain else None)
    if exchange:
        w(
            "    exchange: 2007-sp3",
            'TODO: 2007-rtm | 2007-sp1 | 2007-sp2 | 2007-sp3 | "2003"' if explain else None,
        )
    w(
        '    windows: "2008"',
        'TODO: "2003" | 2003-r2 | "2008" | 2008-r2 (decides the RPC range)' if explain else None,
    )


def _servers(w: _Lines, shape: StarterShape) -> None:
    w("servers:", "Windows servers and their roles")
    for i, site in enumerate(shape.site_names()):
        n = i + 1
        zone = _zone_of(i)
        w(f"  # --- {site} ---")
        _server(w, f"{site}-DC1", f"10.{n}.0.10", site, zone, "domain_controller", exchange=False)
        if i == 0:
            w("    global_catalog: true", "domain controllers: is a global catalog (LDAP 3268)")
            w("    dns: true", "domain controllers: runs DNS (53)")
        _server(
            w, f"{site}-HC1", f"10.{n}.0.20", site, zone, "hub_transport, client_access",
            explain=i == 0,
        )  # fmt: skip
        if i == 0:
            w("    host_firewall: false", "true: pathsec also writes this host's own rules")
            w("    # rpc_range: 6000-6999", "KB 154596 restricted RPC range (>= 100 ports)")
            w("    # domain_joined: true", "default true, false for Edge Transport")
            w(
                "    # listen_ports: {25: 2525}",
                "reference port -> port it really listens on",
            )
            w("    # internet_facing: true", "a CAS: overrides its site's internet_facing")
        if i == 0 and shape.ccr:
            for node in (1, 2):
                _server(w, f"{site}-MBX{node}", f"10.{n}.0.3{node}", site, zone, "mailbox")
        else:
            _server(w, f"{site}-MBX1", f"10.{n}.0.31", site, zone, "mailbox")
        if i == 0 and shape.um:
            _server(w, f"{site}-UM1", f"10.{n}.0.40", site, zone, "unified_messaging")
            w("    um_sip_mode: tcp", "tcp (5060) | tls (5061, mutual TLS) | both (not RTM)")
            w("    um_media_range: 1024-65535", "RTP ports (UDP) the UM server uses")
    if shape.edge:
        w("  # --- perimeter ---")
        _server(w, "EDGE1", "192.0.2.25", None, "perimeter", "edge_transport")
        w("    domain_joined: false", "Edge Transport stays out of the domain (PS-TOPO-003)")
    w()


def _rest(w: _Lines, shape: StarterShape) -> None:
    sites = shape.site_names()
    if shape.ccr:
        w("clusters:", "Mailbox clusters of Exchange 2007")
        w(f"  - name: {sites[0]}-CMS1", "TODO: the clustered mailbox server's name")
        w("    kind: ccr", "ccr (cluster continuous replication) | scc (single copy)")
        w(f"    nodes: [{sites[0]}-MBX1, {sites[0]}-MBX2]", "the cluster's nodes (servers)")
        targets = f"[{sites[1]}-MBX1]" if len(sites) > 1 else "[]"
        w(f"    scr_targets: {targets}", "standby continuous replication targets (SP1+)")
        w()
    else:
        w("clusters: []", "CCR/SCC: {name, kind: ccr|scc, nodes: [...], scr_targets: [...]}")
        w()
    if shape.edge:
        w("edge_subscriptions:", "EdgeSync: an Edge server subscribed to an AD site")
        w("  - edge: EDGE1", "the Edge Transport server")
        w(f"    site: {sites[0]}", "the site whose Hub Transport servers it syncs with")
        w()
    w("client_populations:", "users and devices, by kind; each finds the servers it uses")
    for i, site in enumerate(sites):
        if i == 0:
            w(f"  - name: {site.lower()}-users", "a name of yours")
            w(
                "    kind: internal_users",
                "internal_users internet_users mobile_devices pop_imap_clients smtp_clients "
                "webdav_clients",
            )
            w(f"    zone: {_zone_of(i)}", "the zone they are in")
            w(f"    cidrs: [10.{i + 1}.128.0/17]", "TODO: their subnets (default: the zone's)")
            w(f"    site: {site}", "use only this site's servers (default: any site)")
            w("    outlook_versions: [2007]", "2003 and/or 2007 (2003 fetches the OAB by RPC)")
            w("    # roles: [outlook_client, web_client]", "default by kind")
            w("    # servers: [HQ-HC1]", "default: every server of a matching role")
            w("    # oab_web_distribution: true", "Outlook 2007 fetches the OAB over HTTP(S)")
            w("    # direct_mapi: true", "reach Mailbox servers directly (default by kind)")
        else:
            w(f"  - name: {site.lower()}-users")
            w("    kind: internal_users")
            w(f"    zone: {_zone_of(i)}")
            w(f"    cidrs: [10.{i + 1}.128.0/17]", "TODO")
            w(f"    site: {site}")
    if shape.edge:
        w("  - name: internet-users")
        w("    kind: internet_users", "OWA and Outlook Anywhere from the internet")
        w("    zone: internet")
    w()
    if shape.um:
        w("ip_gateways:", "VoIP gateways and IP PBXs (Get-UMIPGateway)")
        w("  - name: GW1", "TODO: gateway name")
        w("    kind: ip_gateway", "ip_gateway | ip_pbx")
        w("    addresses: [10.50.0.10]", "TODO: its address")
        w("    zone: voice")
        w(f"    site: {sites[0]}", "default: its UM servers are those of this site")
        w("    services: [voice, fax]", "voice and/or fax")
        w("    media_range: 1024-65535", "its RTP ports (UDP)")
        w(f"    # um_servers: [{sites[0]}-UM1]", "default: UM servers of its site")
        w()
    w("# backup_servers:", "uncomment with the management zone")
    w("#   - name: BK1")
    w("#     addresses: [10.9.0.20]")
    w("#     zone: management")
    w("#     methods: [vss]", "vss (agent on the Mailbox server) and/or legacy streaming")
    w(f"#     targets: [{sites[0]}-MBX1]", "Mailbox servers backed up (default all)")
    w("# admin_workstations:")
    w("#   - name: admins")
    w("#     addresses: [10.9.0.64/26]", "addresses or CIDRs")
    w("#     zone: management")
    w(f"#     targets: [{sites[0]}-MBX1]", "Mailbox servers administered (default all)")
    w("# partners:", "partner organisations with Domain Security (mutual TLS)")
    w("#   - name: fabrikam")
    w("#     domain: fabrikam.example")
    w("#     addresses: [198.51.100.0/28]")
    w("#     zone: internet")
    w("#     domain_security: true")
    w("#     edges: [EDGE1]", "Edge servers used (default all)")
    w()
    _internet(w, shape)
    _firewalls(w, shape)


def _internet(w: _Lines, shape: StarterShape) -> None:
    """Internet mail, certificate checks, publishing, exceptions, operational flows."""
    prefix = "" if shape.edge else "# "
    w(f"{prefix}internet_mail:", "any MTA <-> Edge 25; Edge -> resolvers 53 (TCP and UDP)")
    w(f"{prefix}  name: internet-mail", "the plan host standing for every mail server")
    w(f"{prefix}  zone: internet", "default: the first zone of kind internet")
    w(f"{prefix}  edges: [EDGE1]", "default: every Edge Transport server")
    w(f"{prefix}  inbound: true", "mail from the internet to the Edge (25)")
    w(f"{prefix}  outbound: true", "mail from the Edge to the internet (25)")
    w(f"{prefix}  # resolvers: {{name: dns-resolvers, zone: perimeter, addresses: [192.0.2.53]}}")
    w(
        f"{prefix}# certificate_checks: {{name: crl-endpoints, zone: internet, addresses: []}}",
        "where Edges fetch CRLs (80, 389; outbound)",
    )
    w("# publishers:", "reverse proxies, load balancers or NAT publishing CAS services")
    w("#   - name: rp1")
    w("#     kind: reverse_proxy", "reverse_proxy | load_balancer | nat")
    w("#     zone: perimeter")
    w("#     addresses: [192.0.2.80]", "what clients connect to")
    w(
        "#     publishes: [owa, activesync, outlook_anywhere, autodiscover, ews, oab]",
        "and um_web_service",
    )
    w("#     servers: [HQ-HC1]", "default: the internet-facing CAS")
    w("#     populations: [internet-users]", "default: every population in an internet zone")
    w("# exceptions:", "leave out what this deployment does not use (a deviation)")
    w("#   - path: transport.edgesync", "a catalog path id (pathsec catalog)")
    w("#     ports: [50389]", "default: every port of the path")
    w("#     protocol: tcp", "tcp | udp narrows (optional)")
    w("#     reason: EdgeSync over LDAPS only", "required; shown on every flow it removes")
    w("operational_flows: false", "true: also plan flows beyond the reference (KB-labelled)")
    w()


def _firewalls(w: _Lines, shape: StarterShape) -> None:
    sites = shape.site_names()
    fws: list[tuple[str, str, str | None]] = []
    if shape.edge:
        fws.append(("fw-outer", "[internet, perimeter]", "{internet: eth0, perimeter: eth1}"))
        fws.append(("fw-inner", f"[perimeter, {_zone_of(0)}]", None))
    for i in range(1, len(sites)):
        fws.append((f"fw-wan{i}", f"[{_zone_of(0)}, {_zone_of(i)}]", None))
    if shape.um:
        fws.append(("fw-voice", f"[{_zone_of(0)}, voice]", None))
    if not fws:
        w("firewalls: []", "network firewalls: {name, zones: [a, b], interfaces: {zone: if}}")
        return
    w("firewalls:", "network firewalls; pathsec writes rules for the flows that cross them")
    for k, (name, zones, interfaces) in enumerate(fws):
        w(f"  - name: {name}", "TODO: your firewall's name" if k == 0 else None)
        w(f"    zones: {zones}", "the zones it separates" if k == 0 else None)
        if interfaces:
            w(f"    interfaces: {interfaces}", "TODO: zone -> interface (optional)")


def starter_deployment(shape: StarterShape) -> str:
    """The annotated starter deployment YAML for ``shape``."""
    if not 1 <= shape.sites <= MAX_SITES:
        raise ValueError(f"sites must be 1 to {MAX_SITES}")
    w = _Lines()
    _header(w, shape)
    _sites_and_zones(w, shape)
    _servers(w, shape)
    _rest(w, shape)
    return w.text()

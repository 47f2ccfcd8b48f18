"""Exchange's own inventory (the collector's folder) -> a draft deployment with TODO notes.

Sites come from AD, zones from AD subnets (one internal zone per site, kinds to review),
servers from Get-ExchangeServer and the domain controllers, clusters from Get-MailboxServer
and Get-ClusteredMailboxServerStatus, SCR targets from Get-StorageGroup, Edge subscriptions,
UM servers and gateways from the UM cmdlets, addresses and Windows from WMI (or DNS).
Nothing is invented: what the inventory does not say is a default with a TODO note, and a
host without any address is left out with a note.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from pathsec.errors import InputError, InputProblem
from pathsec.inventory import exports as ex
from pathsec.inventory.draft import Draft
from pathsec.topology import check_references
from pathsec.topology.models import Cluster, Deployment, IpGateway

Net = ipaddress.IPv4Network | ipaddress.IPv6Network

_EXCHANGE_ROLES = {
    ex.ExchangeRole.Mailbox: "mailbox",
    ex.ExchangeRole.ClientAccess: "client_access",
    ex.ExchangeRole.HubTransport: "hub_transport",
    ex.ExchangeRole.UnifiedMessaging: "unified_messaging",
    ex.ExchangeRole.Edge: "edge_transport",
}
_SP = {0: "2007-rtm", 1: "2007-sp1", 2: "2007-sp2", 3: "2007-sp3"}


def exchange_version(version: tuple[int, int, int, int]) -> str | None:
    """``AdminDisplayVersion`` numbers -> the deployment's release, None when unsupported."""
    major, minor = version[0], version[1]
    if major == 8:
        return _SP.get(minor)
    if major == 6 and minor == 5:
        return "2003"
    return None


def windows_version(os_version: str, caption: str) -> str | None:
    """WMI ``Version``/``Caption`` or AD ``OSVersion`` text -> the deployment's Windows."""
    if os_version.startswith("5.2"):
        return "2003-r2" if "R2" in caption else "2003"
    if os_version.startswith("6.0"):
        return "2008"
    if os_version.startswith("6.1"):
        return "2008-r2"
    text = caption.replace("\u00ae", "")
    for release in ("2025", "2022", "2019", "2016", "2012 R2", "2012"):
        if f"Server {release}" in text:
            return release.replace(" R2", "-r2")
    if "2008 R2" in text:
        return "2008-r2"
    if "2008" in text:
        return "2008"
    if "2003" in text:
        return "2003-r2" if "R2" in text else "2003"
    return None


def _usable(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast)


def _host_net(address: str) -> str:
    ip = ipaddress.ip_address(address)
    return str(ipaddress.ip_network(f"{ip}/{24 if ip.version == 4 else 64}", strict=False))


class _Builder:
    def __init__(self, inv: ex.Inventory) -> None:
        self.inv = inv
        self.notes: dict[tuple[str, str], list[str]] = {}
        self.header: list[str] = []
        self.left_out: list[str] = []
        self.subnets: list[tuple[Net, str]] = []
        self.extra_zones: dict[str, tuple[str, list[str]]] = {}
        self.hosts = {r.name.upper(): r for r in inv.get("ServerHost.csv")}
        self.servers: dict[str, dict[str, Any]] = {}  # upper name -> server data

    def note(self, section: str, name: str, text: str) -> None:
        self.notes.setdefault((section, name), []).append(text)

    # --- zones -----------------------------------------------------------------------
    def zone_name(self, site: str) -> str:
        return f"{site}-internal"

    def match(self, address: str) -> tuple[Net, str] | None:
        ip = ipaddress.ip_address(address)
        best: tuple[Net, str] | None = None
        for net, site in self.subnets:
            inside = ip.version == net.version and ip in net
            if inside and (best is None or net.prefixlen > best[0].prefixlen):
                best = (net, site)
        return best

    def place(
        self, section: str, name: str, addresses: list[str], fallback: str
    ) -> tuple[str, list[str]] | None:
        """The zone for a host and the addresses of it that lie in that zone."""
        usable = [a for a in addresses if _usable(a)]
        if not usable:
            return None
        zone = None
        for a in usable:
            hit = self.match(a)
            if hit is not None:
                zone = self.zone_name(hit[1])
                break
        if zone is None:
            kind = {"perimeter": "perimeter", "voice": "voice"}.get(fallback, "internal")
            nets = self.extra_zones.setdefault(fallback, (kind, []))[1]
            for a in usable:
                if _host_net(a) not in nets:
                    nets.append(_host_net(a))
            return fallback, usable
        kept = [a for a in usable if (hit := self.match(a)) and self.zone_name(hit[1]) == zone]
        dropped = [a for a in usable if a not in kept]
        if dropped:
            self.note(
                section,
                name,
                f"TODO: also has {', '.join(dropped)} outside zone {zone} (a heartbeat or "
                "replication network?); left out",
            )
        return zone, kept

    # --- servers ---------------------------------------------------------------------
    def addresses_of(self, name: str, *more: str | None) -> list[str]:
        out: list[str] = []
        facts = self.hosts.get(name.upper())
        for a in (*(facts.wmi_addresses if facts else ()), *(facts.dns_addresses if facts else ())):
            if a not in out:
                out.append(a)
        for a in more:
            if a and a not in out:
                out.append(a)
        return out

    def windows_of(self, name: str, ad_os: str = "") -> str:
        facts = self.hosts.get(name.upper())
        found = windows_version(facts.os_version, facts.os_caption) if facts else None
        if found is None and ad_os:
            found = windows_version("", ad_os)
            if found == "2003":
                self.note("servers", name, "AD says Windows Server 2003; check for R2 (2003-r2)")
        if found is None:
            self.note("servers", name, 'TODO: Windows unknown (WMI failed); "2003" assumed')
            return "2003"
        return found

    def add_server(
        self, name: str, site: str | None, roles: list[str], exchange: str | None, *more: str | None
    ) -> dict[str, Any] | None:
        edge = "edge_transport" in roles
        placed = self.place(
            "servers", name, self.addresses_of(name, *more), "perimeter" if edge else "unmapped"
        )
        if placed is None:
            self.left_out.append(
                f"server {name}: no address known (WMI and DNS gave none); add it by hand"
            )
            return None
        zone, addresses = placed
        if site is None and not edge:
            hit = self.match(addresses[0])
            site = hit[1] if hit else None
            if site is None:
                self.left_out.append(f"server {name}: no AD site and no address in an AD subnet")
                return None
            self.note("servers", name, f"site {site} from its address (no site in Exchange)")
        server: dict[str, Any] = {"name": name, "addresses": addresses}
        if site is not None:
            server["site"] = site
        server.update(zone=zone, roles=roles)
        if exchange is not None:
            server["exchange"] = exchange
        server["windows"] = self.windows_of(name)
        if edge:
            server["domain_joined"] = False
        self.servers[name.upper()] = server
        return server

    def exchange_servers(self) -> dict[str, tuple[str, str, list[str]]]:
        """CMS name (upper) -> (name, kind, nodes) of each clustered mailbox server."""
        mailbox = {r.name.upper(): r for r in self.inv.get("MailboxServer.csv")}
        status = {r.cms.upper(): r for r in self.inv.get("ClusteredMailboxServerStatus.csv")}
        clusters: dict[str, tuple[str, str, list[str]]] = {}
        for row in self.inv.get("ExchangeServer.csv"):
            release = exchange_version(row.version)
            shown = ".".join(str(n) for n in row.version)
            if release is None:
                self.left_out.append(
                    f"server {row.name}: Exchange {shown} is not a release the reference covers"
                )
                continue
            if release == "2003":
                roles = ["mailbox"]
            else:
                roles = [_EXCHANGE_ROLES[r] for r in row.roles if r in _EXCHANGE_ROLES]
            if not roles:
                self.left_out.append(f"server {row.name}: no role ({shown}, provisioned only?)")
                continue
            mbx = mailbox.get(row.name.upper())
            if mbx is not None and mbx.storage is not ex.StorageType.Disabled:
                nodes = list(mbx.redundant_machines)
                if not nodes and row.name.upper() in status:
                    nodes = list(status[row.name.upper()].operational_machines)
                if not nodes:
                    self.left_out.append(f"cluster {row.name}: no node known")
                    continue
                kind = "ccr" if mbx.storage is ex.StorageType.NonShared else "scc"
                clusters[row.name.upper()] = (row.name, kind, nodes)
                for node in nodes:
                    if self.add_server(node, row.site, ["mailbox"], release) is not None:
                        self.note("servers", node, f"node of clustered mailbox server {row.name}")
                continue
            server = self.add_server(row.name, row.site, roles, release)
            if server is not None and release == "2003":
                self.note(
                    "servers",
                    row.name,
                    "Exchange 2003: pathsec models it as a legacy mailbox server (front-end? TODO)",
                )
        return clusters

    def domain_controllers(self) -> None:
        for row in self.inv.get("DomainController.csv"):
            existing = self.servers.get(row.name.upper())
            if existing is not None:
                existing["roles"] = [*existing["roles"], "domain_controller"]
                existing["global_catalog"] = bool(row.global_catalog)
                continue
            server = self.add_server(row.name, row.site, ["domain_controller"], None, row.address)
            if server is None:
                continue
            server["windows"] = self.windows_of(row.name, row.os_version)
            server["global_catalog"] = bool(row.global_catalog)
            self.note("servers", row.name, "TODO: dns: true assumed; false if it runs no DNS")

    def um_sip_modes(self) -> None:
        plans = {p.name: p.voip_security for p in self.inv.get("UMDialPlan.csv")}
        for row in self.inv.get("UMServer.csv"):
            server = self.servers.get(row.name.upper())
            if server is None:
                continue
            modes = {
                "tcp" if plans[p] is ex.VoipSecurity.Unsecured else "tls"
                for p in row.dial_plans
                if p in plans
            }
            mode = "both" if len(modes) > 1 else (modes.pop() if modes else "tcp")
            server["um_sip_mode"] = mode
            if not row.dial_plans:
                self.note("servers", row.name, "TODO: in no UM dial plan; SIP mode tcp assumed")

    def gateways(self) -> list[dict[str, Any]]:
        hunts = self.inv.get("UMHuntGroup.csv")
        um_rows = self.inv.get("UMServer.csv")
        out: list[dict[str, Any]] = []
        taken = {n.upper() for n in self.servers}
        for row in self.inv.get("UMIPGateway.csv"):
            name = _gateway_name(row.name, taken)
            taken.add(name.upper())
            if name != row.name:
                self.note("ip_gateways", name, f"renamed from {row.name!r}: spaces and symbols")
            addresses = [row.address] if _is_ip(row.address) else list(row.resolved)
            placed = self.place("ip_gateways", name, addresses, "voice")
            if placed is None:
                self.left_out.append(
                    f"gateway {name}: its address {row.address} did not resolve; add it by hand"
                )
                continue
            zone, kept = placed
            gateway: dict[str, Any] = {"name": name, "kind": "ip_gateway"}
            gateway.update(addresses=kept, zone=zone)
            plans = {h.dial_plan for h in hunts if h.gateway == row.name}
            um = sorted(
                self.servers[u.name.upper()]["name"]
                for u in um_rows
                if u.name.upper() in self.servers and plans & set(u.dial_plans)
            )
            if um:
                gateway["um_servers"] = um
            self.note("ip_gateways", name, "TODO: kind ip_gateway or ip_pbx; services voice, fax")
            if row.port == 5061:
                self.note("ip_gateways", name, "talks SIP over TLS (port 5061)")
            out.append(gateway)
        return out

    def connectors(self) -> None:
        for row in self.inv.get("ReceiveConnector.csv"):
            if row.server.upper() not in self.servers:
                continue
            name = self.servers[row.server.upper()]["name"]
            ports = ", ".join(f"{a}:{p}" if ":" not in a else f"[{a}]:{p}" for a, p in row.bindings)
            auth = ", ".join(m.value for m in row.auth) or "none"
            self.note("servers", name, f"receive connector on {ports}: auth {auth}")

    def clusters(self, found: dict[str, tuple[str, str, list[str]]]) -> list[dict[str, Any]]:
        groups = self.inv.get("StorageGroup.csv")
        out = []
        for cms_upper, (cms, kind, nodes) in found.items():
            names = [self.servers[n.upper()]["name"] for n in nodes if n.upper() in self.servers]
            if not names:
                continue
            cms = next(
                r.name for r in self.inv.get("ExchangeServer.csv") if r.name.upper() == cms_upper
            )
            targets: list[str] = []
            for g in groups:
                if g.server.upper() != cms_upper:
                    continue
                for t in g.standby_machines:
                    server = self.servers.get(t.upper())
                    if server is not None and server["name"] not in targets:
                        targets.append(server["name"])
                    elif server is None:
                        self.note("clusters", cms, f"SCR target {t} is not in the inventory")
            cluster: dict[str, Any] = {"name": ex.deployment_name(cms, Cluster), "kind": kind}
            cluster["nodes"] = names
            if targets:
                cluster["scr_targets"] = targets
            out.append(cluster)
        return out


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _gateway_name(raw: str, taken: set[str]) -> str:
    """A UM IP gateway's display name made into a deployment name (they may have spaces)."""
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "-" for c in raw)
    cleaned = "-".join(p for p in cleaned.split("-") if p).strip("._")[:100] or "gateway"
    name = cleaned
    n = 2
    while name.upper() in taken:
        name = f"{cleaned}-{n}"
        n += 1
    return ex.deployment_name(name, IpGateway)


def _dedupe(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for i in items:
        if i not in out:
            out.append(i)
    return out


def build_draft(inv: ex.Inventory) -> Draft:
    """The draft deployment of one collector folder (validated, cross-checked)."""
    b = _Builder(inv)
    about = inv.about
    for line, sub in inv.rows["AdSubnet.csv"]:
        if sub.site is not None:
            b.subnets.append((ipaddress.ip_network(sub.name), sub.site))
        else:
            b.header.append(f"AD subnet {sub.name} belongs to no site (AdSubnet.csv:{line})")
    clusters = b.exchange_servers()
    b.domain_controllers()
    b.um_sip_modes()
    gateways = b.gateways()
    b.connectors()
    cluster_data = b.clusters(clusters)
    edges = []
    for row in inv.get("EdgeSubscription.csv"):
        server = b.servers.get(row.name.upper())
        if server is None or row.site is None:
            b.left_out.append(f"Edge subscription of {row.name}: server or site not imported")
            continue
        edges.append({"edge": server["name"], "site": row.site})
    site_names = _dedupe(
        [s.name for s in inv.get("AdSite.csv")]
        + [s["site"] for s in b.servers.values() if "site" in s]
        + [e["site"] for e in edges]
        + [site for _, site in b.subnets]
    )
    used_zones = {s["zone"] for s in b.servers.values()} | {g["zone"] for g in gateways}
    zones: list[dict[str, Any]] = []
    for site in site_names:
        cidrs = [str(n) for n, s in b.subnets if s == site]
        if cidrs:
            zones.append({"name": b.zone_name(site), "kind": "internal", "cidrs": cidrs})
            b.note("zones", b.zone_name(site), f"TODO: AD site {site}'s subnets; kind internal?")
    for name, (kind, nets) in b.extra_zones.items():
        zones.append({"name": name, "kind": kind, "cidrs": nets})
        what = {
            "perimeter": "Edge servers' networks (/24 or /64 guessed)",
            "voice": "gateways outside every AD subnet (/24 guessed)",
        }.get(name, "hosts outside every AD subnet (/24 or /64 guessed)")
        b.note("zones", name, f"TODO: {what}; set the real CIDRs and kind")
    zones = [z for z in zones if z["name"] in used_zones or z["kind"] == "internal"]
    organization = {
        "name": about.organization or about.forest or "TODO",
        "forest": about.forest or "TODO.example",
        "domain": about.domain or about.forest or "TODO.example",
    }
    data: dict[str, Any] = {
        "schema_version": 1,
        "organization": organization,
        "sites": [{"name": s} for s in site_names],
        "zones": zones,
        "servers": list(b.servers.values()),
    }
    if cluster_data:
        data["clusters"] = cluster_data
    if gateways:
        data["ip_gateways"] = gateways
    if edges:
        data["edge_subscriptions"] = edges
    for line, problem in inv.rows["Errors.csv"]:
        b.header.append(
            f"collector: {problem.step} {problem.target}: {problem.message} (Errors.csv:{line})"
        )
    dep = _validate(inv, data)
    return Draft(
        data=data,
        deployment=dep,
        header=b.header,
        notes=b.notes,
        left_out=b.left_out,
        summary={
            "sites": len(dep.sites),
            "zones": len(dep.zones),
            "servers": len(dep.servers),
            "clusters": len(dep.clusters),
            "ip_gateways": len(dep.ip_gateways),
            "edge_subscriptions": len(dep.edge_subscriptions),
            "left_out": len(b.left_out),
        },
    )


def _validate(inv: ex.Inventory, data: dict[str, Any]) -> Deployment:
    """The deployment models check the draft; a failure names the inventory folder."""
    try:
        dep = Deployment.model_validate(data)
        check_references(dep)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise InputError(
            InputProblem(str(inv.folder), None, loc, f"draft is not valid: {err['msg']}")
        ) from None
    except InputError as exc:
        raise InputError(
            InputProblem(str(inv.folder), None, exc.problem.field, exc.problem.message)
        ) from None
    return dep

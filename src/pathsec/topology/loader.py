"""Load a deployment file: YAML -> :class:`Deployment`, then check every cross-reference.

Every problem is an :class:`pathsec.errors.InputError` naming file, line and field, so the
CLI prints one line and exits with code 2.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from pathlib import Path

from pathsec.errors import InputError, InputProblem
from pathsec.topology.models import Deployment, Server, ServerRole, Zone, ZoneKind
from pathsec.yamlfile import (
    LocatedYaml,
    format_loc,
    load_yaml_file,
    load_yaml_text,
    validate_located,
)


def load_deployment(path: str | Path) -> Deployment:
    """Read, validate and cross-check the deployment file at ``path``."""
    return _load(load_yaml_file(path))


def load_deployment_text(text: str, file: str = "<text>") -> Deployment:
    """Validate and cross-check deployment YAML given as text (``file`` names it in errors)."""
    return _load(load_yaml_text(text, file))


def _load(doc: LocatedYaml) -> Deployment:
    dep = validate_located(Deployment, doc)
    check_references(dep, doc)
    return dep


class _Checker:
    def __init__(self, doc: LocatedYaml | None) -> None:
        self.doc = doc

    def fail(self, loc: Sequence[str | int], message: str) -> None:
        file = self.doc.file if self.doc else "<deployment>"
        line = self.doc.line_of(loc) if self.doc else None
        raise InputError(InputProblem(file, line, format_loc(loc), message))

    def unique(self, names: Iterable[tuple[str, tuple[str | int, ...]]], what: str) -> None:
        # Ignoring case: file names derive from names, and Windows and macOS ignore case.
        seen: dict[str, tuple[str, tuple[str | int, ...]]] = {}
        for name, loc in names:
            key = name.casefold()
            if key in seen:
                other, first_loc = seen[key]
                first = self.doc.line_of(first_loc) if self.doc else None
                where = f" (first defined on line {first})" if first else ""
                same = "" if other == name else f" (same as {other!r} ignoring case)"
                self.fail(loc, f"duplicate {what} {name!r}{same}{where}")
            seen[key] = (name, loc)

    def known(self, name: str, pool: Iterable[str], loc: Sequence[str | int], what: str) -> None:
        pool = list(pool)
        if name not in pool:
            hint = ", ".join(sorted(pool)[:8]) or "none defined"
            self.fail(loc, f"unknown {what} {name!r} (known: {hint})")


def _inside(address: str, cidrs: Sequence[str]) -> bool:
    if "/" in address:
        net = ipaddress.ip_network(address, strict=False)
        return any(
            net.version == z.version and net.subnet_of(z)  # type: ignore[arg-type]
            for z in (ipaddress.ip_network(c) for c in cidrs)
        )
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(c) for c in cidrs)


def internet_zone(dep: Deployment) -> str | None:
    """The first zone of kind ``internet`` (the default of internet mail and CRL checks)."""
    return next((z.name for z in dep.zones if z.kind is ZoneKind.internet), None)


def implicit_hosts(dep: Deployment) -> list[tuple[str, tuple[str | int, ...]]]:
    """Names of plan hosts that deployment objects add (internet mail, resolvers, CRL)."""
    out: list[tuple[str, tuple[str | int, ...]]] = []
    if dep.internet_mail is not None:
        out.append((dep.internet_mail.name, ("internet_mail", "name")))
        if dep.internet_mail.resolvers is not None:
            out.append((dep.internet_mail.resolvers.name, ("internet_mail", "resolvers", "name")))
    if dep.certificate_checks is not None:
        out.append((dep.certificate_checks.name, ("certificate_checks", "name")))
    elif any(ServerRole.edge_transport in s.roles for s in dep.servers):
        # The default CRL endpoint host; naming another object so asks for certificate_checks.
        out.append(("crl-endpoints", ("certificate_checks", "name")))
    return out


def check_references(dep: Deployment, doc: LocatedYaml | None = None) -> None:
    """Check names are unique and every reference resolves; addresses lie in their zone."""
    c = _Checker(doc)
    c.unique(((s.name, ("sites", i, "name")) for i, s in enumerate(dep.sites)), "site")
    c.unique(((z.name, ("zones", i, "name")) for i, z in enumerate(dep.zones)), "zone")
    # Objects the deployment declares with a default name come first, so a clash is
    # reported on the object that takes the name.
    endpoints: list[tuple[str, tuple[str | int, ...]]] = []
    implicit = implicit_hosts(dep)
    endpoints.extend((n, loc) for n, loc in implicit if loc[0] != "certificate_checks")
    for key in (
        "servers",
        "client_populations",
        "ip_gateways",
        "backup_servers",
        "admin_workstations",
        "partners",
    ):
        for i, item in enumerate(getattr(dep, key)):
            endpoints.append((item.name, (key, i, "name")))
    for i, pub in enumerate(dep.publishers):
        endpoints.append((pub.name, ("publishers", i, "name")))
    for name, loc in implicit:
        if loc[0] != "certificate_checks":
            continue
        for other, where in endpoints:
            if other == name:
                c.fail(
                    where,
                    f"{name!r} names the host Edge servers check certificate revocation "
                    "against (certificate_checks.name); rename one of them",
                )
    c.unique(endpoints, "name")
    c.unique(((f.name, ("firewalls", i, "name")) for i, f in enumerate(dep.firewalls)), "firewall")
    c.unique(((k.name, ("clusters", i, "name")) for i, k in enumerate(dep.clusters)), "cluster")

    sites = [s.name for s in dep.sites]
    zones = {z.name: z for z in dep.zones}
    servers = {s.name: s for s in dep.servers}

    def zone_and_addresses(
        key: str, i: int, zone: str, addresses: Sequence[str], field: str
    ) -> None:
        c.known(zone, zones, (key, i, "zone"), "zone")
        for j, addr in enumerate(addresses):
            if not _inside(addr, zones[zone].cidrs):
                c.fail(
                    (key, i, field, j),
                    f"{addr} is outside zone {zone!r} ({', '.join(zones[zone].cidrs)})",
                )

    for i, s in enumerate(dep.servers):
        zone_and_addresses("servers", i, s.zone, s.addresses, "addresses")
        if s.site is not None:
            c.known(s.site, sites, ("servers", i, "site"), "site")
        elif ServerRole.edge_transport not in s.roles:
            c.fail(("servers", i, "site"), "required for servers other than Edge Transport")
        if len(set(s.roles)) != len(s.roles):
            c.fail(("servers", i, "roles"), "a role is listed twice")
        exchange_roles = set(s.roles) - {ServerRole.domain_controller}
        if exchange_roles and s.exchange is None:
            c.fail(("servers", i, "exchange"), "required for a server with Exchange roles")
        if (
            s.exchange is not None
            and s.exchange.value == "2003"
            and exchange_roles != {ServerRole.mailbox}
        ):
            c.fail(("servers", i, "roles"), "an Exchange 2003 server may only hold 'mailbox' here")
    for i, k in enumerate(dep.clusters):
        for j, n in enumerate(k.nodes):
            c.known(n, servers, ("clusters", i, "nodes", j), "server")
        for j, n in enumerate(k.scr_targets):
            c.known(n, servers, ("clusters", i, "scr_targets", j), "server")
    for i, p in enumerate(dep.client_populations):
        zone_and_addresses("client_populations", i, p.zone, p.cidrs, "cidrs")
        if p.site is not None:
            c.known(p.site, sites, ("client_populations", i, "site"), "site")
        for j, n in enumerate(p.servers or ()):
            c.known(n, servers, ("client_populations", i, "servers", j), "server")
    for i, g in enumerate(dep.ip_gateways):
        zone_and_addresses("ip_gateways", i, g.zone, g.addresses, "addresses")
        if g.site is not None:
            c.known(g.site, sites, ("ip_gateways", i, "site"), "site")
        for j, n in enumerate(g.um_servers or ()):
            c.known(n, servers, ("ip_gateways", i, "um_servers", j), "server")
    for i, b in enumerate(dep.backup_servers):
        zone_and_addresses("backup_servers", i, b.zone, b.addresses, "addresses")
        for j, n in enumerate(b.targets or ()):
            c.known(n, servers, ("backup_servers", i, "targets", j), "server")
    for i, a in enumerate(dep.admin_workstations):
        zone_and_addresses("admin_workstations", i, a.zone, a.addresses, "addresses")
        for j, n in enumerate(a.targets or ()):
            c.known(n, servers, ("admin_workstations", i, "targets", j), "server")
    for i, pt in enumerate(dep.partners):
        zone_and_addresses("partners", i, pt.zone, pt.addresses, "addresses")
        for j, n in enumerate(pt.edges or ()):
            c.known(n, servers, ("partners", i, "edges", j), "server")
    for i, f in enumerate(dep.firewalls):
        for j, z in enumerate(f.zones):
            c.known(z, zones, ("firewalls", i, "zones", j), "zone")
        for z in f.interfaces:
            if z not in f.zones:
                c.fail(("firewalls", i, "interfaces", z), "not one of the firewall's zones")
    for i, e in enumerate(dep.edge_subscriptions):
        c.known(e.edge, servers, ("edge_subscriptions", i, "edge"), "server")
        if ServerRole.edge_transport not in servers[e.edge].roles:
            c.fail(("edge_subscriptions", i, "edge"), f"{e.edge!r} is not an Edge Transport server")
        c.known(e.site, sites, ("edge_subscriptions", i, "site"), "site")
    _check_additions(c, dep, sites, zones, servers, {n for n, _ in endpoints})


def _check_additions(
    c: _Checker,
    dep: Deployment,
    sites: list[str],
    zones: dict[str, Zone],
    servers: dict[str, Server],
    names: set[str],
) -> None:
    """Internet mail, certificate checks, publishers, exceptions, internet-facing CAS."""

    def place(loc: tuple[str | int, ...], zone: str | None, addresses: Sequence[str]) -> str:
        if zone is None:
            zone = internet_zone(dep)
            if zone is None:
                c.fail((*loc, "zone"), "no zone of kind internet to default to; name the zone")
        assert zone is not None
        c.known(zone, zones, (*loc, "zone"), "zone")
        for j, addr in enumerate(addresses):
            if not _inside(addr, zones[zone].cidrs):
                c.fail(
                    (*loc, "addresses", j),
                    f"{addr} is outside zone {zone!r} ({', '.join(zones[zone].cidrs)})",
                )
        return zone

    def role(name: str, need: ServerRole, loc: tuple[str | int, ...], what: str) -> None:
        c.known(name, servers, loc, "server")
        if need not in servers[name].roles:
            c.fail(loc, f"{name!r} is not a{what}")

    for i, s in enumerate(dep.servers):
        if s.internet_facing is not None and ServerRole.client_access not in s.roles:
            c.fail(
                ("servers", i, "internet_facing"), "only Client Access servers face the internet"
            )
    mail = dep.internet_mail
    if mail is not None:
        place(("internet_mail",), mail.zone, mail.addresses)
        for j, n in enumerate(mail.edges or ()):
            role(
                n,
                ServerRole.edge_transport,
                ("internet_mail", "edges", j),
                "n Edge Transport server",
            )
        if mail.resolvers is not None:
            r = mail.resolvers
            place(("internet_mail", "resolvers"), r.zone, r.addresses)
    if dep.certificate_checks is not None:
        cc = dep.certificate_checks
        place(("certificate_checks",), cc.zone, cc.addresses)
    pops = {p.name for p in dep.client_populations}
    for i, pub in enumerate(dep.publishers):
        place(("publishers", i), pub.zone, pub.addresses)
        for j, n in enumerate(pub.servers or ()):
            role(
                n,
                ServerRole.client_access,
                ("publishers", i, "servers", j),
                " Client Access server",
            )
        for j, n in enumerate(pub.populations or ()):
            c.known(n, pops, ("publishers", i, "populations", j), "client population")
        if len(set(pub.publishes)) != len(pub.publishes):
            c.fail(("publishers", i, "publishes"), "a service is listed twice")
    for i, ex in enumerate(dep.exceptions):
        if ex.site is not None:
            c.known(ex.site, sites, ("exceptions", i, "site"), "site")
        for j, z in enumerate(ex.zones or ()):
            c.known(z, zones, ("exceptions", i, "zones", j), "zone")
        for j, n in enumerate(ex.servers or ()):
            c.known(n, names, ("exceptions", i, "servers", j), "host")

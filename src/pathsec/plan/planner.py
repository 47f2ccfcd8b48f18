"""The planner: catalog + deployment -> every concrete flow, driven by the catalog's data.

Each data path is paired into (source host, destination host) by its ``scope``, then
expanded into one :class:`Flow` per port: RPC endpoint-mapper ports (label ``RPC…``) also
yield the destination's RPC dynamic range; ``random`` ranges become protocol-less flows on
1025-65535; the UM dynamic range becomes UDP flows on the destination's RTP media range;
SIP 5060/5061 follow the UM server's SIP mode.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pathsec.catalog.models import (
    BasisKind,
    Catalog,
    DataPath,
    Direction,
    Port,
    Role,
    Scope,
    Towards,
)
from pathsec.plan.hosts import RANDOM_RANGE, Endpoint, Topology
from pathsec.plan.models import (
    EncryptionExpectation,
    FirewallInfo,
    Flow,
    FlowBasis,
    HostKind,
    PortSpan,
)
from pathsec.topology.models import SipMode

#: Conditions the planner can decide, by catalog condition id.
CONDITION_PREDICATES: dict[str, Callable[[Endpoint, Endpoint], bool]] = {
    "hub_mailbox_colocated": lambda s, d: s is d,
}


def _windows_2008(e: Endpoint) -> bool:
    return e.server is not None and e.server.windows.value.startswith("2008")


def _global_catalog(e: Endpoint) -> bool:
    return e.server is not None and e.server.global_catalog


#: Conditions that decide whether a host pair has the path at all, by catalog condition id.
PAIR_CONDITIONS: dict[str, Callable[[Endpoint, Endpoint], bool]] = {
    "windows_2008_nodes": lambda s, d: _windows_2008(s) and _windows_2008(d),
    "global_catalog_only": lambda s, d: _global_catalog(d),
}

#: Conditions on the whole organisation: the path exists only where a role is deployed.
ORGANIZATION_CONDITIONS: dict[str, Role] = {"unified_messaging_deployed": Role.unified_messaging}

#: Operational rows planned without the operational switch: the deployment asks for them by
#: declaring their endpoints (internet_mail.resolvers).
ALWAYS_PLANNED = frozenset({"operational.edge_dns"})

#: Outlook OAB download paths by client version (see the notes of the two catalog rows).
OAB_RPC_PATH = "mailbox.outlook_oab_rpc"
OAB_WEB_PATH = "client_access.outlook_oab_web"

#: UM services an IP gateway must carry for a path.
GATEWAY_SERVICE = {"unified_messaging.fax": "fax", "unified_messaging.pbx": "voice"}

_EXTERNAL_KINDS = {
    HostKind.client_population,
    HostKind.ip_gateway,
    HostKind.backup,
    HostKind.admin,
    HostKind.partner,
    HostKind.internet_mail,
    HostKind.dns_resolver,
}

_DC = Role.domain_controller.value
#: Destinations only populations with direct MAPI access reach (Mailbox, global catalogs).
_DIRECT_ROLES = frozenset({Role.mailbox, Role.domain_controller})


def publisher_for(
    topo: Topology, path: DataPath, pop: Endpoint, cas: Endpoint, *, explicit: bool = False
) -> Endpoint | None:
    """The first publisher that publishes ``path`` of ``cas`` to population ``pop``.

    Default servers of a publisher are the internet-facing CAS (every CAS when nothing is
    marked); default populations are those in internet zones. ``explicit``: only publishers
    that name ``cas`` in their servers.
    """
    if pop.info.kind is not HostKind.client_population:
        return None
    for pub in topo.publishers:
        if path.id not in pub.published_paths:
            continue
        if pub.targets is None:
            if explicit or not cas.facing:
                continue
        elif cas.name not in pub.targets:
            continue
        if (pub.populations is None and pop.internet) or (
            pub.populations is not None and pop.name in pub.populations
        ):
            return pub
    return None


SIP_TCP = 5060
SIP_TLS = 5061
GC_PORT = 3268
DNS_PORT = 53


def zone_routes(firewalls: tuple[FirewallInfo, ...]) -> Callable[[str, str], tuple[str, ...]]:
    """A function giving the firewalls crossed between two zones (shortest path, in order)."""
    graph: dict[str, list[tuple[str, str]]] = {}
    for fw in sorted(firewalls, key=lambda f: f.name):
        for a in fw.zones:
            for b in fw.zones:
                if a != b:
                    graph.setdefault(a, []).append((b, fw.name))
    cache: dict[tuple[str, str], tuple[str, ...]] = {}

    def route(src: str, dst: str) -> tuple[str, ...]:
        if src == dst:
            return ()
        key = (src, dst)
        if key not in cache:
            prev: dict[str, tuple[str, str]] = {}
            seen = {src}
            queue = deque([src])
            while queue:
                z = queue.popleft()
                for nxt, fw in graph.get(z, []):
                    if nxt not in seen:
                        seen.add(nxt)
                        prev[nxt] = (z, fw)
                        queue.append(nxt)
            hops: list[str] = []
            cur = dst
            while cur in prev:
                cur, fw = prev[cur]
                hops.append(fw)
            cache[key] = tuple(reversed(hops)) if dst in seen else ()
        return cache[key]

    return route


def _external_allows(path: DataPath, ext: Endpoint, server: Endpoint, topo: Topology) -> bool:
    """Whether external endpoint ``ext`` uses ``server`` on ``path``."""
    if ext.targets is not None and server.name not in ext.targets:
        return False
    kind = ext.info.kind
    if kind is HostKind.client_population:
        if ext.site is not None and server.site != ext.site:
            return False
        if path.destination_role in _DIRECT_ROLES and not ext.direct_mapi:
            return False
        if (
            ext.internet
            and ext.targets is None
            and not server.facing
            and path.destination_role is Role.client_access
            and publisher_for(topo, path, ext, server, explicit=True) is None
        ):
            return False  # internet users reach internet-facing CAS; CAS-to-CAS serves the rest
        if path.id == OAB_RPC_PATH:
            return 2003 in ext.outlook_versions or (
                2007 in ext.outlook_versions and not ext.oab_web
            )
        if path.id == OAB_WEB_PATH:
            return 2007 in ext.outlook_versions and ext.oab_web
    elif kind is HostKind.ip_gateway:
        if ext.targets is None and ext.site is not None and server.site != ext.site:
            return False
        service = GATEWAY_SERVICE.get(path.id)
        if service is not None and service not in ext.services:
            return False
    elif kind is HostKind.backup and path.scope is Scope.external and "legacy" not in ext.methods:
        return False
    return True


def _pairs(
    path: DataPath, topo: Topology, subs: dict[str, str]
) -> Iterator[tuple[Endpoint, Endpoint]]:
    src_role, dst_role = path.source_role.value, path.destination_role.value
    sources, dests = topo.with_role(src_role), topo.with_role(dst_role)
    scope = path.scope
    if scope is Scope.local:
        agents = {a.name for a in topo.local_agents.get(src_role, [])}
        for d in dests:
            if src_role in d.roles or d.name in agents:
                yield d, d
    elif scope is Scope.site:
        for s in sources:
            for d in dests:
                if (
                    s.site is not None
                    and s.site == d.site
                    and not (s is d and src_role == dst_role)
                ):
                    yield s, d
    elif scope is Scope.organization:
        for s in sources:
            for d in dests:
                if not (s is d and src_role == dst_role):
                    yield s, d
                    if path.bidirectional:
                        yield d, s
    elif scope is Scope.subscription:
        for s in sources:
            for d in dests:
                edge, hub = (s, d) if Role.edge_transport.value in s.roles else (d, s)
                if edge is not hub and subs.get(edge.name) == hub.site and hub.site is not None:
                    yield s, d
    elif scope is Scope.cluster:
        yield from _cluster_pairs(path, topo)
    else:  # external
        ext_is_source = sources and sources[0].info.kind in _EXTERNAL_KINDS
        if ext_is_source:
            for s in sources:
                for d in dests:
                    if d.info.kind is HostKind.server and _external_allows(path, s, d, topo):
                        if s.sends:
                            yield s, d
                        if path.bidirectional and s.accepts:
                            yield d, s
        else:
            for d in dests:
                for s in sources:
                    if s.info.kind is HostKind.server and _external_allows(path, d, s, topo):
                        if d.accepts:
                            yield s, d
                        if path.bidirectional and d.sends:
                            yield d, s


def _cluster_pairs(path: DataPath, topo: Topology) -> Iterator[tuple[Endpoint, Endpoint]]:
    clusters = topo.clusters
    src_role, dst_role = path.source_role.value, path.destination_role.value
    for _name, (nodes, targets, kind) in sorted(clusters.items()):
        members = [topo.by_name[n] for n in nodes]
        if src_role == Role.cluster_node.value or kind == "ccr":
            for a in members:
                for b in members:
                    if a is not b and src_role in a.roles and dst_role in b.roles:
                        yield a, b
        if src_role == Role.cluster_node.value:
            continue
        # SCR: the target's Replication service pulls logs; the reference gives no direction.
        for a in members:
            for t in (topo.by_name[x] for x in targets):
                if src_role in a.roles and dst_role in t.roles:
                    yield a, t
                    yield t, a


@dataclass(frozen=True)
class _PortSpec:
    """The facts of one catalog port the expander needs, decoded once."""

    kind: str  # number | dynamic | random | local
    proto: str | None
    number: int | None
    label: str | None
    rpc: bool
    basis: FlowBasis
    note: str | None
    outbound_only: bool  # never from the path's destination role back to its source role
    to_crl: bool  # reaches the CRL distribution points, not the path's destination


def _port_spec(path: DataPath, pt: Port) -> _PortSpec:
    basis, note = FlowBasis.reference, None
    direction = pt.direction
    if path.basis is not None and path.basis.kind is BasisKind.operational:
        basis, note = FlowBasis.operational, path.basis.reason
    elif direction is not None and direction.basis.kind is not BasisKind.source:
        basis, note = FlowBasis.inferred, direction.basis.reason
    elif pt.protocol_basis is not None:
        basis, note = FlowBasis.inferred, pt.protocol_basis.reason
    elif path.destination_basis is not None:
        basis, note = FlowBasis.inferred, path.destination_basis.reason
    return _PortSpec(
        kind="number" if pt.port is not None else str(pt.range),
        proto=pt.protocol.value if pt.protocol else None,
        number=pt.port,
        label=pt.label,
        rpc=bool(pt.label and pt.label.upper().startswith("RPC")),
        basis=basis,
        note=note,
        outbound_only=direction is not None and direction.direction is Direction.outbound,
        to_crl=direction is not None and direction.towards is Towards.certificate_revocation,
    )


class _Expander:
    """Turns one (path, source, destination) into flows, one per port."""

    def __init__(self, catalog: Catalog, route: Callable[[str, str], tuple[str, ...]]) -> None:
        self.route = route
        self.sip_tcp, self.sip_tls = SIP_TCP, SIP_TLS
        for rule in catalog.rules:
            if rule.id == "um_rtm_single_sip_port" and len(rule.ports) == 2:
                a, b = rule.ports
                if a.port is not None and b.port is not None:
                    self.sip_tcp, self.sip_tls = a.port, b.port
        every = (*catalog.paths, *catalog.operational)
        self.enc: dict[str, EncryptionExpectation] = {
            p.id: EncryptionExpectation(
                supported=p.encryption.supported,
                mechanisms=tuple(m.value for m in p.encryption.mechanisms),
                by_default=p.encryption.by_default,
            )
            for p in every
        }
        self.sip_paths = {
            p.id for p in every if any(x.port in (self.sip_tcp, self.sip_tls) for x in p.ports)
        }
        # Port facts decoded once per catalog port, keyed by the (immutable) Port object.
        self.specs: dict[int, _PortSpec] = {}
        for p in every:
            for pt in p.ports:
                self.specs[id(pt)] = _port_spec(p, pt)
        self.auth = {
            p.id: (tuple(a.value for a in p.default_auth), tuple(a.value for a in p.supported_auth))
            for p in every
        }
        self.media_enc = EncryptionExpectation(supported=False, mechanisms=(), by_default=False)

    def flows(
        self,
        path: DataPath,
        s: Endpoint,
        d: Endpoint,
        out: list[Flow],
        *,
        reverse: bool = False,
        crl: bool = False,
        reason: str | None = None,
        enters: str | None = None,
    ) -> None:
        """Append the flows of ``path`` from ``s`` to ``d`` to ``out``, one per port.

        ``reverse``: the pair runs from the path's destination role back to its source role
        (ports read as outbound-only are left out). ``crl``: only the ports that reach the
        CRL distribution points (``d`` is that endpoint); otherwise those are left out.
        ``reason`` explains the flow; ``enters`` is the zone the packets enter the network
        from when it is not the source's (the inside leg of a NAT).
        """
        local = s is d
        default_auth, supported_auth = self.auth[path.id]
        if local:
            reason = "roles co-located on one server: no network traffic"
        for cond in path.conditions:
            pred = CONDITION_PREDICATES.get(cond.id)
            if cond.default_auth and pred is not None and pred(s, d):
                default_auth = tuple(a.value for a in cond.default_auth)
                reason = f"{reason}; " if reason else ""
                reason += f"condition {cond.id}: default authentication {', '.join(default_auth)}"
        source_zone = enters or s.info.zone
        # Every Flow field, in Flow's field order (model_dump follows the schema; golden
        # files stay stable): _make copies this and fills in the per-port fields.
        base: dict[str, Any] = {
            "id": "",
            "path_id": path.id,
            "source": s.name,
            "source_zone": source_zone,
            "destination": d.name,
            "destination_zone": d.info.zone,
            "protocol": None,
            "port": None,
            "port_range": None,
            "label": None,
            "local": local,
            "default_auth": default_auth,
            "supported_auth": supported_auth,
            "encryption": self.enc[path.id],
            "crosses": () if local else self.route(source_zone, d.info.zone),
            "reason": reason,
            "basis": FlowBasis.reference,
            "basis_note": None,
            "deviation": None,
        }
        um = None  # SIP port selection only applies to SIP paths
        if path.id in self.sip_paths:
            um = s if s.sip_mode is not None else d if d.sip_mode is not None else None
        prefix = f"{path.id}:{s.name}>{d.name}:"  # of every flow id
        for port in path.ports:
            spec = self.specs[id(port)]
            if spec.to_crl != crl or (spec.outbound_only and reverse):
                continue
            if spec.basis is not FlowBasis.reference:
                base = {**base, "basis": spec.basis, "basis_note": spec.note}
            elif base["basis"] is not FlowBasis.reference:
                base = {**base, "basis": FlowBasis.reference, "basis_note": None}
            self._port_flows(spec, s, d, um, base, prefix, out, path)

    def _port_flows(
        self,
        spec: _PortSpec,
        s: Endpoint,
        d: Endpoint,
        um: Endpoint | None,
        base: dict[str, Any],
        prefix: str,
        out: list[Flow],
        path: DataPath,
    ) -> None:
        make = self._make
        kind, proto, number, label, rpc = spec.kind, spec.proto, spec.number, spec.label, spec.rpc
        if kind == "number":
            assert number is not None
            dc = d.server if d.server is not None and _DC in d.roles else None
            if dc is not None and (
                (number == GC_PORT and not dc.global_catalog) or (number == DNS_PORT and not dc.dns)
            ):
                return  # LDAP GC only to global catalogs, DNS only to DNS servers
            if um is not None:
                if number in (self.sip_tcp, self.sip_tls):
                    mode = um.sip_mode
                    if (mode is SipMode.tcp and number != self.sip_tcp) or (
                        mode is SipMode.tls and number != self.sip_tls
                    ):
                        return
                elif um is not d:
                    return  # 5062 and the like: UM listening ports only
            out.append(make(base, prefix, proto, number, None, label))
            if rpc and number == 135 and d.info.rpc_range is not None:
                out.append(make(base, prefix, "tcp", None, d.info.rpc_range, "RPC dynamic"))
        elif kind == "dynamic":
            if rpc and d.info.rpc_range is not None:
                out.append(
                    make(base, prefix, proto or "tcp", None, d.info.rpc_range, "RPC dynamic")
                )
            elif d.media_range is not None:
                out.append(
                    make(
                        base,
                        prefix,
                        "udp",
                        None,
                        d.media_range,
                        "RTP media (dynamic)",
                        self.media_enc if path.encryption.by_default == "conditional" else None,
                    )
                )
        elif kind == "random":
            out.append(make(base, prefix, None, None, RANDOM_RANGE, label or "random"))
        else:  # local: inside the host
            local = {**base, "local": True, "crosses": ()}
            out.append(make(local, prefix, None, None, None, label or "local"))

    @staticmethod
    def _make(
        base: dict[str, Any],
        prefix: str,
        proto: str | None,
        port: int | None,
        span: PortSpan | None,
        label: str | None,
        enc: EncryptionExpectation | None = None,
    ) -> Flow:
        what = str(port) if port is not None else str(span) if span is not None else "local"
        fields = base.copy()  # all fields, in Flow's order
        fields["id"] = f"{prefix}{proto or 'any'}/{what}"
        fields["protocol"] = proto
        fields["port"] = port
        fields["port_range"] = span
        fields["label"] = label
        if enc is not None:
            fields["encryption"] = enc
        return _fast_flow(fields)


_FLOW_FIELDS = tuple(Flow.model_fields)
_FIELDS_SET = set(_FLOW_FIELDS)
_new = Flow.__new__
_set = object.__setattr__


def _fast_flow(fields: dict[str, Any]) -> Flow:
    """Build a Flow from already-validated parts without re-validation.

    Every value comes from validated catalog and deployment models, and a 500-server plan
    has ~75,000 flows: ``model_construct`` alone would take over a second. This does what
    it does (pydantic v2) for a complete set of fields, in field order.
    """
    assert len(fields) == len(_FLOW_FIELDS)
    flow = _new(Flow)
    _set(flow, "__dict__", fields)
    _set(flow, "__pydantic_fields_set__", _FIELDS_SET)
    _set(flow, "__pydantic_extra__", None)
    _set(flow, "__pydantic_private__", None)
    return flow


def _legs(
    path: DataPath, s: Endpoint, d: Endpoint, topo: Topology
) -> Iterator[tuple[Endpoint, Endpoint, str | None, str | None]]:
    """(source, destination, reason, entry zone) of a pair: itself, or through a publisher."""
    pub = publisher_for(topo, path, s, d) if d.info.kind is HostKind.server else None
    if pub is None:
        yield s, d, None, None
        return
    kind = pub.publisher_kind or "reverse_proxy"
    yield s, pub, f"published by {pub.name} ({kind}) for {d.name}", None
    if kind == "nat":
        yield (
            s,
            d,
            f"through {pub.name} (nat): destination translated, source kept; enters from "
            f"zone {pub.info.zone}",
            pub.info.zone,
        )
    else:
        yield pub, d, f"{pub.name} ({kind}) forwards {s.name}'s requests", None


def plan_flows(
    catalog: Catalog,
    topo: Topology,
    subscriptions: dict[str, str],
    firewalls: tuple[FirewallInfo, ...],
    *,
    operational: bool = False,
) -> tuple[Flow, ...]:
    """Every flow of the deployment, deduplicated by id and sorted deterministically.

    ``operational``: also the catalog's operational rows (beyond the reference).
    """
    expander = _Expander(catalog, zone_routes(firewalls))
    out: dict[str, tuple[tuple[int, str, str, str, int, int], Flow]] = {}
    batch: list[Flow] = []
    paths = [*catalog.paths]
    paths += [p for p in catalog.operational if operational or p.id in ALWAYS_PLANNED]
    for order, path in enumerate(paths):
        if any(
            not topo.with_role(ORGANIZATION_CONDITIONS[c.id].value)
            for c in path.conditions
            if c.id in ORGANIZATION_CONDITIONS
        ):
            continue
        src_role = path.source_role.value
        checks = [PAIR_CONDITIONS[c.id] for c in path.conditions if c.id in PAIR_CONDITIONS]
        crl = topo.crl if any(expander.specs[id(p)].to_crl for p in path.ports) else None
        crl_sources: dict[str, Endpoint] = {}
        for s, d in _pairs(path, topo, subscriptions):
            if checks and not all(check(s, d) for check in checks):
                continue
            reverse = src_role not in s.roles
            for a, b, reason, enters in _legs(path, s, d, topo):
                expander.flows(path, a, b, batch, reverse=reverse, reason=reason, enters=enters)
            if crl is not None:
                edge = d if reverse else s
                crl_sources.setdefault(edge.name, edge)
        for edge in crl_sources.values():
            assert crl is not None
            why = f"certificate revocation check of {path.id} peers"
            expander.flows(path, edge, crl, batch, crl=True, reason=why)
        for f in batch:
            if f.id in out:
                continue
            port, span = f.port, f.port_range
            start = port if port is not None else span.start if span is not None else 0
            end = span.end if span is not None else start
            out[f.id] = ((order, f.source, f.destination, f.protocol or "", start, end), f)
        batch.clear()
    return tuple(f for _k, f in sorted(out.values(), key=_first))


def _first(
    kv: tuple[tuple[int, str, str, str, int, int], Flow],
) -> tuple[int, str, str, str, int, int]:
    return kv[0]

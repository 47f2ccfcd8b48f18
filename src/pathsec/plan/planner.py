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
from typing import Any

from pathsec.catalog.models import Catalog, DataPath, Port, Role, Scope
from pathsec.plan.hosts import RANDOM_RANGE, Endpoint, Topology
from pathsec.plan.models import EncryptionExpectation, FirewallInfo, Flow, HostKind, PortSpan
from pathsec.topology.models import SipMode

#: Conditions the planner can decide, by catalog condition id.
CONDITION_PREDICATES: dict[str, Callable[[Endpoint, Endpoint], bool]] = {
    "hub_mailbox_colocated": lambda s, d: s is d,
}

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
}

_DC = Role.domain_controller.value

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


def _external_allows(path: DataPath, ext: Endpoint, server: Endpoint) -> bool:
    """Whether external endpoint ``ext`` uses ``server`` on ``path``."""
    if ext.targets is not None and server.name not in ext.targets:
        return False
    kind = ext.info.kind
    if kind is HostKind.client_population:
        if ext.site is not None and server.site != ext.site:
            return False
        if path.destination_role is Role.mailbox and not ext.direct_mapi:
            return False
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
                    if d.info.kind is HostKind.server and _external_allows(path, s, d):
                        yield s, d
                        if path.bidirectional:
                            yield d, s
        else:
            for d in dests:
                for s in sources:
                    if s.info.kind is HostKind.server and _external_allows(path, d, s):
                        yield s, d
                        if path.bidirectional:
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
        self.enc: dict[str, EncryptionExpectation] = {
            p.id: EncryptionExpectation(
                supported=p.encryption.supported,
                mechanisms=tuple(m.value for m in p.encryption.mechanisms),
                by_default=p.encryption.by_default,
            )
            for p in catalog.paths
        }
        self.sip_paths = {
            p.id
            for p in catalog.paths
            if any(x.port in (self.sip_tcp, self.sip_tls) for x in p.ports)
        }
        # Port facts decoded once per catalog port, keyed by the (immutable) Port object.
        self.specs: dict[int, tuple[str, str | None, int | None, str | None, bool]] = {}
        for p in catalog.paths:
            for pt in p.ports:
                kind = "number" if pt.port is not None else str(pt.range)
                rpc = bool(pt.label and pt.label.upper().startswith("RPC"))
                proto = pt.protocol.value if pt.protocol else None
                self.specs[id(pt)] = (kind, proto, pt.port, pt.label, rpc)
        self.auth = {
            p.id: (tuple(a.value for a in p.default_auth), tuple(a.value for a in p.supported_auth))
            for p in catalog.paths
        }
        self.media_enc = EncryptionExpectation(supported=False, mechanisms=(), by_default=False)

    def flows(self, path: DataPath, s: Endpoint, d: Endpoint, out: list[Flow]) -> None:
        """Append the flows of ``path`` from ``s`` to ``d`` to ``out``, one per port."""
        local = s is d
        default_auth, supported_auth = self.auth[path.id]
        reason = "roles co-located on one server: no network traffic" if local else None
        for cond in path.conditions:
            pred = CONDITION_PREDICATES.get(cond.id)
            if cond.default_auth and pred is not None and pred(s, d):
                default_auth = tuple(a.value for a in cond.default_auth)
                reason = f"{reason}; " if reason else ""
                reason += f"condition {cond.id}: default authentication {', '.join(default_auth)}"
        # Every Flow field, in Flow's field order (model_dump follows the schema; golden
        # files stay stable): _make copies this and fills in the per-port fields.
        base: dict[str, Any] = {
            "id": "",
            "path_id": path.id,
            "source": s.name,
            "source_zone": s.info.zone,
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
            "crosses": () if local else self.route(s.info.zone, d.info.zone),
            "reason": reason,
        }
        um = None  # SIP port selection only applies to SIP paths
        if path.id in self.sip_paths:
            um = s if s.sip_mode is not None else d if d.sip_mode is not None else None
        prefix = f"{path.id}:{s.name}>{d.name}:"  # of every flow id
        for port in path.ports:
            self._port_flows(path, port, s, d, um, base, prefix, out)

    def _port_flows(
        self,
        path: DataPath,
        port: Port,
        s: Endpoint,
        d: Endpoint,
        um: Endpoint | None,
        base: dict[str, Any],
        prefix: str,
        out: list[Flow],
    ) -> None:
        make = self._make
        kind, proto, number, label, rpc = self.specs[id(port)]
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


def plan_flows(
    catalog: Catalog,
    topo: Topology,
    subscriptions: dict[str, str],
    firewalls: tuple[FirewallInfo, ...],
) -> tuple[Flow, ...]:
    """Every flow of the deployment, deduplicated by id and sorted deterministically."""
    expander = _Expander(catalog, zone_routes(firewalls))
    out: dict[str, tuple[tuple[int, str, str, str, int, int], Flow]] = {}
    batch: list[Flow] = []
    for order, path in enumerate(catalog.paths):
        for s, d in _pairs(path, topo, subscriptions):
            expander.flows(path, s, d, batch)
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

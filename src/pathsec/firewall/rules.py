"""From a plan to enforcement points and address-family-split rules, shared by all targets.

An enforcement point is a network firewall (rules for the flows that cross it, in its
``forward`` path) or a host firewall (rules for the flows that end at the host, in its
``input`` path). Each flow becomes one :class:`FlowRule` per protocol with its IPv4 and
IPv6 address pairs; every check that could widen or drop a flow raises
:class:`~pathsec.firewall.interface.FirewallError` naming the flow and its catalog path.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from pathsec.catalog import DataPath, PortRange
from pathsec.errors import InputError, InputProblem
from pathsec.firewall.interface import L4, FirewallError, GeneratorOptions, Selection
from pathsec.plan.models import FirewallInfo, Flow, HostInfo, Plan, PortSpan

IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class FamilyMatch:
    """Source and destination networks of one address family of a rule."""

    family: Literal[4, 6]
    sources: tuple[IPNet, ...]
    destinations: tuple[IPNet, ...]

    @cached_property
    def source_texts(self) -> tuple[str, ...]:
        """The sources as rules write them (see :func:`address_text`)."""
        return tuple(address_text(n) for n in self.sources)

    @cached_property
    def destination_texts(self) -> tuple[str, ...]:
        """The destinations as rules write them (see :func:`address_text`)."""
        return tuple(address_text(n) for n in self.destinations)


@dataclass(frozen=True)
class FlowRule:
    """One accept rule: a flow on one protocol, split into address families."""

    flow: Flow
    path: DataPath
    protocol: L4
    ports: PortSpan
    families: tuple[FamilyMatch, ...]
    in_interface: str | None = None
    out_interface: str | None = None
    ingress_zone: str | None = None
    egress_zone: str | None = None

    def family(self, family: Literal[4, 6]) -> FamilyMatch | None:
        """The match of ``family``, or None when the flow has no such addresses."""
        for fm in self.families:
            if fm.family == family:
                return fm
        return None

    @cached_property
    def label(self) -> str:
        """The flow id with the protocol this rule opens: a flow the reference leaves open
        (``…:any/587``) shows the protocol chosen with ``--protocol`` (``…:tcp/587``)."""
        fid = self.flow.id
        if self.flow.protocol is None:
            head, sep, tail = fid.rpartition(":")
            if sep and tail.startswith("any/"):
                fid = f"{head}:{self.protocol}/{tail[4:]}"
        return fid

    @property
    def comment(self) -> str:
        """:attr:`label`, prefixed by the catalog path id unless it already starts with it."""
        label = self.label
        if label.startswith(self.flow.path_id):
            return label
        return f"{self.flow.path_id} {label}"


@dataclass(frozen=True)
class EnforcementPoint:
    """A network firewall (``kind == "network"``) or a host firewall with its rules."""

    kind: Literal["network", "host"]
    name: str
    rules: tuple[FlowRule, ...]
    host: HostInfo | None = None
    firewall: FirewallInfo | None = None
    unknown_interfaces: tuple[str, ...] = ()

    @property
    def slug(self) -> str:
        """A file-name-safe name: ``firewall-<name>`` or ``host-<name>``."""
        prefix = "firewall" if self.kind == "network" else "host"
        return f"{prefix}-{safe_name(self.name)}"


def safe_name(name: str) -> str:
    """``name`` with every character outside ``[A-Za-z0-9._-]`` replaced by ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) or "_"


def flow_label(flow: Flow) -> str:
    """How messages name a flow: its id and catalog path."""
    return f"flow {flow.id} (catalog path {flow.path_id})"


def parse_addresses(host: HostInfo, flow: Flow) -> tuple[IPNet, ...]:
    """The host's addresses as networks; refuse a host without addresses or with a bad one."""
    if not host.addresses:
        raise FirewallError(
            f"{flow_label(flow)}: host {host.name!r} has no addresses; pathsec will not "
            "write a rule that matches any address. Give the host its addresses in the deployment."
        )
    nets: list[IPNet] = []
    for addr in host.addresses:
        try:
            nets.append(ipaddress.ip_network(addr, strict=True))
        except ValueError as exc:
            raise FirewallError(
                f"{flow_label(flow)}: host {host.name!r} address {addr!r} is not an address "
                f"or a network ({exc})"
            ) from exc
    return tuple(nets)


def _families(
    flow: Flow, src: HostInfo, dst: HostInfo, ctx: _Lookups | None = None
) -> tuple[FamilyMatch, ...]:
    if ctx is not None:
        key = (src.name, dst.name)
        cached = ctx.families.get(key)
        if cached is None:
            cached = ctx.families[key] = _families(flow, src, dst)
        return cached
    s = _parse_cached(src, flow)
    d = _parse_cached(dst, flow)
    out: list[FamilyMatch] = []
    for fam in (4, 6):
        ss = tuple(n for n in s if n.version == fam)
        dd = tuple(n for n in d if n.version == fam)
        if ss and dd:
            out.append(FamilyMatch(4 if fam == 4 else 6, ss, dd))
    if not out:
        sf = "/".join(sorted({f"IPv{n.version}" for n in s}))
        df = "/".join(sorted({f"IPv{n.version}" for n in d}))
        raise FirewallError(
            f"{flow_label(flow)}: source {src.name!r} has only {sf} addresses and destination "
            f"{dst.name!r} only {df}; no packet can make this flow. Fix the addresses in the plan."
        )
    return tuple(out)


#: Single-port spans by port (frozen models; at most 65,535 of them).
_SINGLE_PORTS: dict[int, PortSpan] = {}


def _ports(flow: Flow, dst: HostInfo, path: DataPath) -> PortSpan:
    if flow.port is not None and flow.port_range is not None:
        raise FirewallError(f"{flow_label(flow)}: has both a port and a port range")
    if flow.port is not None:
        span = _SINGLE_PORTS.get(flow.port)
        if span is None:
            span = _SINGLE_PORTS[flow.port] = PortSpan(start=flow.port, end=flow.port)
        return span
    if flow.port_range is None:
        raise FirewallError(
            f"{flow_label(flow)}: names no port and no port range (random ports?); "
            "a rule for it would have to open every port, which pathsec refuses"
        )
    if is_rpc_range(flow, path) and flow.port_range != dst.rpc_range:
        raise FirewallError(
            f"{flow_label(flow)}: port range {flow.port_range} differs from the RPC dynamic "
            f"range {dst.rpc_range} of {dst.name!r}; the rule must open exactly that range"
        )
    return flow.port_range


def is_rpc_range(flow: Flow, path: DataPath) -> bool:
    """Whether a flow's port range is an RPC dynamic range (label or catalog port says RPC)."""
    if flow.port_range is None:
        return False
    if flow.label and "rpc" in flow.label.lower():
        return True
    return any(
        p.range is PortRange.dynamic and p.label is not None and "RPC" in p.label
        for p in path.ports
    )


def protocols_of(flow: Flow, options: GeneratorOptions) -> tuple[L4, ...]:
    """The protocols a flow opens: its own, or the user's explicit choice when it has none."""
    if flow.protocol is not None:
        return (flow.protocol,)
    chosen = options.protocols.get(flow.id) or options.protocols.get(flow.path_id)
    if chosen:
        return chosen
    raise FirewallError(
        f"{flow_label(flow)}: the reference names no protocol for port "
        f"{flow.port if flow.port is not None else flow.port_range}. pathsec opens TCP and "
        f"UDP only when you say so: --protocol {flow.path_id}=tcp (or =udp, =both)"
    )


def _catalog_path(flow: Flow, options: GeneratorOptions, ctx: _Lookups | None = None) -> DataPath:
    if ctx is not None:
        found = ctx.paths.get(flow.path_id)
        if found is not None:
            return found
    for p in (*options.catalog.paths, *options.catalog.operational):
        if p.id == flow.path_id:
            return p
    raise FirewallError(f"{flow_label(flow)}: catalog path {flow.path_id!r} is not in the catalog")


def _shared_zone(a: FirewallInfo, b: FirewallInfo) -> str | None:
    shared = [z for z in a.zones if z in b.zones]
    return shared[0] if len(shared) == 1 else None


def _zones_at(
    plan: Plan, flow: Flow, fw: FirewallInfo, ctx: _Lookups | None = None
) -> tuple[str | None, str | None]:
    """Ingress and egress zone of ``flow`` at ``fw`` (None when the plan does not say)."""
    if ctx is not None:
        key = (id(fw), flow.crosses, flow.source_zone, flow.destination_zone)
        cached = ctx.zones.get(key)
        if cached is None:
            cached = ctx.zones[key] = _zones_at(plan, flow, fw, None)
        return cached
    fws = {f.name: f for f in plan.firewalls}
    idx = flow.crosses.index(fw.name)
    if idx == 0:
        ingress = flow.source_zone if flow.source_zone in fw.zones else None
    else:
        prev = fws.get(flow.crosses[idx - 1])
        ingress = _shared_zone(prev, fw) if prev else None
    if idx == len(flow.crosses) - 1:
        egress = flow.destination_zone if flow.destination_zone in fw.zones else None
    else:
        nxt = fws.get(flow.crosses[idx + 1])
        egress = _shared_zone(fw, nxt) if nxt else None
    return ingress, egress


class _FlowIndex:
    """One pass over a plan's flows: the names they use and the flows by enforcement point."""

    def __init__(self, flows: tuple[Flow, ...]) -> None:
        self.ends: set[str] = set()
        self.crossed: set[str] = set()
        self.open_keys: set[str] = set()  # ids and path ids of flows without a protocol
        self.by_firewall: dict[str, list[Flow]] = {}  # non-local flows, plan order
        self.by_destination: dict[str, list[Flow]] = {}  # non-local flows, plan order
        ends, crossed, open_keys = self.ends, self.crossed, self.open_keys
        by_fw, by_dest = self.by_firewall, self.by_destination
        for f in flows:
            ends.add(f.source)
            ends.add(f.destination)
            if f.protocol is None:
                open_keys.add(f.id)
                open_keys.add(f.path_id)
            c = f.crosses
            if c:
                crossed.update(c)
            if f.local:
                continue
            if c:
                for name in dict.fromkeys(c) if len(c) > 1 else c:
                    group = by_fw.get(name)
                    if group is None:
                        by_fw[name] = [f]
                    else:
                        group.append(f)
            group = by_dest.get(f.destination)
            if group is None:
                by_dest[f.destination] = [f]
            else:
                group.append(f)


def _check_plan(plan: Plan, index: _FlowIndex | None = None) -> None:
    hosts = {h.name for h in plan.hosts}
    fws = {f.name for f in plan.firewalls}
    if index is not None and index.ends <= hosts and index.crossed <= fws:
        return
    for flow in plan.flows:
        for end in (flow.source, flow.destination):
            if end not in hosts:
                raise FirewallError(f"{flow_label(flow)}: host {end!r} is not in the plan")
        for name in flow.crosses:
            if name not in fws:
                raise FirewallError(
                    f"{flow_label(flow)}: crosses firewall {name!r}, which is not in the plan"
                )


class _Lookups:
    """Indexes and caches for one :func:`enforcement_points` call (a plan has ~10^5 flows)."""

    def __init__(self, plan: Plan, options: GeneratorOptions) -> None:
        self.hosts: dict[str, HostInfo] = {}
        for h in plan.hosts:
            self.hosts.setdefault(h.name, h)  # Plan.host: the first of that name
        self.paths: dict[str, DataPath] = {}
        for p in (*options.catalog.paths, *options.catalog.operational):
            self.paths.setdefault(p.id, p)
        self.families: dict[tuple[str, str], tuple[FamilyMatch, ...]] = {}
        self.zones: dict[tuple[int, tuple[str, ...], str, str], tuple[str | None, str | None]] = {}

    def host(self, name: str) -> HostInfo:
        """Like :meth:`Plan.host`, by dictionary."""
        return self.hosts[name]


#: Parsed addresses by the (immutable, hashable) address tuple of a host.
_NETS: dict[tuple[str, ...], tuple[IPNet, ...]] = {}


def _parse_cached(host: HostInfo, flow: Flow) -> tuple[IPNet, ...]:
    nets = _NETS.get(host.addresses)
    if nets is None:
        nets = parse_addresses(host, flow)  # raises, naming the flow, on a bad address
        if len(_NETS) > 100_000:
            _NETS.clear()
        _NETS[host.addresses] = nets
    return nets


def _rules_for(
    plan: Plan,
    flows: list[Flow],
    options: GeneratorOptions,
    fw: FirewallInfo | None,
    ctx: _Lookups | None = None,
) -> tuple[tuple[FlowRule, ...], tuple[str, ...]]:
    if ctx is None:
        ctx = _Lookups(plan, options)
    rules: list[FlowRule] = []
    unknown: set[str] = set()
    for flow in flows:
        src, dst = ctx.host(flow.source), ctx.host(flow.destination)
        path = _catalog_path(flow, options, ctx)
        ports = _ports(flow, dst, path)
        fams = _families(flow, src, dst, ctx)
        iz = ez = iif = oif = None
        if fw is not None:
            iz, ez = _zones_at(plan, flow, fw, ctx)
            iif = fw.interfaces.get(iz) if iz else None
            oif = fw.interfaces.get(ez) if ez else None
            for zone, itf in ((iz, iif), (ez, oif)):
                if itf is None:
                    unknown.add(zone or f"(unknown zone of {flow.id})")
        for proto in protocols_of(flow, options):
            rules.append(FlowRule(flow, path, proto, ports, fams, iif, oif, iz, ez))
    return tuple(rules), tuple(sorted(unknown))


def _check_protocols(
    plan: Plan, firewalls: list[FirewallInfo], hosts: list[HostInfo], options: GeneratorOptions
) -> None:
    """Refuse, in one message, every selected flow without a protocol and without a choice."""
    fw_names = {f.name for f in firewalls}
    host_names = {h.name for h in hosts}
    open_paths: dict[str, list[str]] = {}
    for f in plan.flows:
        if f.local or f.protocol is not None:
            continue
        if not (fw_names.intersection(f.crosses) or f.destination in host_names):
            continue
        if f.id in options.protocols or f.path_id in options.protocols:
            continue
        open_paths.setdefault(f.path_id, []).append(f.id)
    if open_paths:
        flows = "; ".join(
            f"flow {i} (catalog path {p})" for p, ids in open_paths.items() for i in ids
        )
        hint = " ".join(f"--protocol {p}=tcp|udp|both" for p in open_paths)
        raise FirewallError(
            f"{flows}: the reference names no protocol, so a rule would have to open TCP and "
            f"UDP. pathsec does that only when you say so: {hint}"
        )


def _deployment_file(plan: Plan) -> str:
    return plan.source_file or f"<plan {plan.deployment}>"


OsFamily = Literal["windows", "other"]


def os_family(host: HostInfo) -> OsFamily:
    """``windows`` for a host the plan gives a Windows version, else ``other``."""
    return "windows" if host.windows else "other"


def _own_family(host: HostInfo, family: OsFamily | None, options: GeneratorOptions) -> bool:
    return family is None or options.host_format == "any" or os_family(host) == family


def skipped_hosts(
    plan: Plan, selection: Selection, options: GeneratorOptions, family: OsFamily
) -> tuple[str, ...]:
    """Hosts with a host firewall that a target of ``family`` leaves to their own format."""
    if selection.host is not None or selection.firewall is not None:
        return ()
    return tuple(
        h.name for h in plan.hosts if h.host_firewall and not _own_family(h, family, options)
    )


def _wrong_family(host: HostInfo, family: OsFamily) -> FirewallError:
    if family == "windows":
        return FirewallError(
            f"host {host.name!r} is not a Windows server (the plan gives no Windows version): "
            "write its rules with --target nftables, iptables or aerleon"
        )
    return FirewallError(
        f"host {host.name!r} runs Windows Server {host.windows}: its rules are written by "
        "--target windows; add --host-format any to write them in this format as well"
    )


def enforcement_points(
    plan: Plan,
    selection: Selection,
    options: GeneratorOptions,
    *,
    hosts_only: bool = False,
    family: OsFamily | None = None,
) -> tuple[EnforcementPoint, ...]:
    """The network and host firewalls of ``selection`` with their rules, in plan order.

    ``family``: the OS family of the target's host rule formats; with
    ``options.host_format == "own"`` hosts of the other family are left out (refused when
    chosen with ``--host``).
    """
    index = _FlowIndex(plan.flows)
    _check_plan(plan, index)
    for key in options.protocols:
        if key not in index.open_keys:
            raise InputError(
                InputProblem(
                    _deployment_file(plan),
                    None,
                    "--protocol",
                    f"{key!r} names no flow without a protocol in the plan",
                )
            )
    points: list[EnforcementPoint] = []
    if selection.firewall is not None:
        chosen = [f for f in plan.firewalls if f.name == selection.firewall]
        if not chosen:
            known = ", ".join(f.name for f in plan.firewalls) or "none"
            raise InputError(
                InputProblem(
                    _deployment_file(plan),
                    None,
                    "--firewall",
                    f"no network firewall {selection.firewall!r} in the plan (known: {known})",
                )
            )
    else:
        chosen = [] if (selection.host is not None or hosts_only) else list(plan.firewalls)
    if selection.host is not None:
        try:
            host = plan.host(selection.host)
        except KeyError:
            known = ", ".join(h.name for h in plan.hosts if h.host_firewall) or "none"
            raise InputError(
                InputProblem(
                    _deployment_file(plan),
                    None,
                    "--host",
                    f"no host {selection.host!r} in the plan (hosts with a host firewall: {known})",
                )
            ) from None
        if not host.host_firewall:
            raise InputError(
                InputProblem(
                    _deployment_file(plan),
                    None,
                    "--host",
                    f"host {host.name!r} has no host firewall in the plan (host_firewall: false)",
                )
            )
        if family is not None and not _own_family(host, family, options):
            raise _wrong_family(host, family)
        hosts = [host]
    elif selection.firewall is None:
        hosts = [h for h in plan.hosts if h.host_firewall and _own_family(h, family, options)]
    else:
        hosts = []
    _check_protocols(plan, chosen, hosts, options)
    ctx = _Lookups(plan, options)
    for fw in chosen:
        flows = index.by_firewall.get(fw.name, [])
        rules, unknown = _rules_for(plan, flows, options, fw, ctx)
        points.append(EnforcementPoint("network", fw.name, rules, None, fw, unknown))
    for host in hosts:
        flows = index.by_destination.get(host.name, [])
        rules, _ = _rules_for(plan, flows, options, None, ctx)
        points.append(EnforcementPoint("host", host.name, rules, host, None))
    return tuple(points)


def address_text(net: IPNet) -> str:
    """A network as rules write it: a bare address for a single host, else CIDR."""
    if net.prefixlen == net.max_prefixlen:
        return str(net.network_address)
    return str(net)


def header_lines(
    plan: Plan, point: EnforcementPoint, comment: Callable[[object], str]
) -> list[str]:
    """Comment lines that open every generated file, each made by the target's ``comment``
    function (:mod:`pathsec.quoting`), so no name can end a comment early."""
    what = "network firewall" if point.kind == "network" else "host firewall of"
    lines = [
        comment(f"pathsec rules: {what} {point.name!r}, deployment {plan.deployment!r}"),
        comment("Generated from the plan; only planned flows are accepted, all else is dropped."),
    ]
    if point.unknown_interfaces:
        lines.append(
            comment(
                f"No interface known for zone(s) {', '.join(point.unknown_interfaces)}: "
                "those rules match addresses only."
            )
        )
    return lines

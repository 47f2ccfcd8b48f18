"""Consolidation: per-flow rules merged into fewer rules that accept exactly the same packets.

A per-flow rule accepts the product ``sources x destinations x {protocol} x ports`` of one
flow (addresses paired within one family, as packets are). Merging two products that agree
in all but one dimension into one product with the union of that dimension is exact::

    S x D x P1  ∪  S x D x P2  =  S x D x (P1 ∪ P2)      (ports: a port set)
    S x D1 x P  ∪  S x D2 x P  =  S x (D1 ∪ D2) x P      (destinations: an address set)
    S1 x D x P  ∪  S2 x D x P  =  (S1 ∪ S2) x D x P      (sources: an address set)

:func:`consolidate` applies these three merges until nothing merges any more, within one
context (interfaces, zones and a target's own kind, e.g. Windows' ``RPC`` keyword), never
across protocols. Sources and destinations are sets of plan hosts, so a merged side is the
union of the hosts' addresses; sets get names after roles and hosts (:class:`SetNamer`).
``tests/firewall/test_equivalence.py`` proves the result accepts the same (source address,
destination address, protocol, port) set as the per-flow rules, by interval arithmetic,
for every example and the 500-server bench plan.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pathsec.firewall.interface import (
    L4,
    GeneratorOptions,
    PointSummary,
    Refusal,
    RenderedFile,
    Selection,
)
from pathsec.firewall.rules import (
    EnforcementPoint,
    FlowRule,
    IPNet,
    OsFamily,
    address_text,
    enforcement_points,
)
from pathsec.plan.models import HostInfo, Plan, PortSpan

#: How many flow ids a rule's comment lists before it gives a count and the side file.
INLINE_FLOWS = 6

Ports = tuple[tuple[int, int], ...]
_Context = tuple[str | None, str | None, str | None, str | None, str]


def merge_ports(spans: Iterable[tuple[int, int]]) -> Ports:
    """Sorted, non-overlapping, non-adjacent port intervals covering exactly ``spans``."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1] + 1:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return tuple(out)


def collapse(nets: Iterable[IPNet]) -> tuple[IPNet, ...]:
    """The fewest networks covering exactly ``nets``: IPv4 first, then IPv6."""
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    for n in nets:
        if isinstance(n, ipaddress.IPv4Network):
            v4.append(n)
        else:
            v6.append(n)
    out: list[IPNet] = []
    if v4:
        out.extend(ipaddress.collapse_addresses(v4))
    if v6:
        out.extend(ipaddress.collapse_addresses(v6))
    return tuple(out)


@dataclass(frozen=True)
class HostSet:
    """One side of a rule: plan hosts, their collapsed addresses and a name for the set."""

    hosts: tuple[str, ...]
    nets: tuple[IPNet, ...]
    name: str

    @property
    def label(self) -> str:
        """How comments name the set: the host's own name for one host, else the set name."""
        return self.hosts[0] if len(self.hosts) == 1 else self.name

    def family(self, family: Literal[4, 6]) -> tuple[IPNet, ...]:
        """The networks of one address family."""
        return tuple(n for n in self.nets if n.version == family)

    def texts(self, family: Literal[4, 6] | None = None) -> tuple[str, ...]:
        """The networks as rules write them (a bare address for a single host)."""
        nets = self.nets if family is None else self.family(family)
        return tuple(address_text(n) for n in nets)


@dataclass(frozen=True)
class Rule:
    """A consolidated accept rule and the per-flow rules it replaces.

    ``kind`` is ``"ports"`` unless a target matched the flows some other way (Windows:
    ``RPC``, ``RPC-EPMap``, an allowed program); ``ports`` are then still the flows' ports.
    """

    number: int
    protocol: L4
    ports: Ports
    sources: HostSet
    destinations: HostSet
    flows: tuple[FlowRule, ...]
    in_interface: str | None = None
    out_interface: str | None = None
    ingress_zone: str | None = None
    egress_zone: str | None = None
    kind: str = "ports"

    @property
    def tag(self) -> str:
        """``r7``: how files and side files refer to the rule."""
        return f"r{self.number}"

    def families(self) -> list[tuple[Literal[4, 6], tuple[IPNet, ...], tuple[IPNet, ...]]]:
        """(family, sources, destinations) for each family both sides have."""
        out: list[tuple[Literal[4, 6], tuple[IPNet, ...], tuple[IPNet, ...]]] = []
        for fam in (4, 6):
            f: Literal[4, 6] = 4 if fam == 4 else 6
            s, d = self.sources.family(f), self.destinations.family(f)
            if s and d:
                out.append((f, s, d))
        return out

    def port_texts(self, sep: str = "-") -> list[str]:
        """Each port interval as ``25`` or ``6000<sep>6999``."""
        return [str(a) if a == b else f"{a}{sep}{b}" for a, b in self.ports]

    def flow_labels(self) -> list[str]:
        """The flow ids of the rule, with the protocol it opens (plan order, no repeats)."""
        return list(dict.fromkeys(r.label for r in self.flows))

    def summary(self) -> str:
        """``tcp 25,587 hub_transport_HQ -> mailbox_HQ`` (``tcp RPC (6000-6999) …`` for a
        rule a target matches by keyword)."""
        ports = ",".join(self.port_texts())
        if self.kind != "ports":
            ports = f"{self.kind} ({ports})"
        return f"{self.protocol} {ports} {self.sources.label} -> {self.destinations.label}"

    def comment(self, side_file: str | None, limit: int = INLINE_FLOWS) -> str:
        """``r7: <flow ids>``, or ``r7: 12 flows (<side file>)`` when there are more than
        ``limit``."""
        labels = self.flow_labels()
        if len(labels) <= limit or side_file is None:
            return f"{self.tag}: {' '.join(labels)}"
        return f"{self.tag}: {len(labels)} flows ({side_file})"


def _token(text: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9_]", "_", text).strip("_") or "set"
    return clean if clean[0].isalpha() else f"h_{clean}"


class SetNamer:
    """Names for host sets after the plan's roles, sites and hosts, unique within one run.

    One host: its name. Hosts sharing a role: the role, and the site when they share one
    (``hub_transport_HQ``); a part of such a class gets its size (``mailbox_HQ_3``). No
    shared role: the shared kind (``client_population``), else ``hosts``. Names are
    identifiers (``[A-Za-z0-9_]``, at most 20 characters plus a ``_2`` style suffix).
    """

    MAX = 20

    def __init__(self, plan: Plan) -> None:
        self._hosts: dict[str, HostInfo] = {}
        for h in plan.hosts:
            self._hosts.setdefault(h.name, h)
        self._classes: dict[tuple[str, str | None], int] = {}
        for h in self._hosts.values():
            for role in h.roles:
                for site in (None, h.site):
                    key = (role, site)
                    self._classes[key] = self._classes.get(key, 0) + 1
        self._names: dict[frozenset[str], str] = {}
        self._used: set[str] = set()
        #: Per run: each host's parsed addresses and each host set, shared by all points.
        self.nets: dict[str, tuple[IPNet, ...]] = {}
        self.sets: dict[frozenset[str], HostSet] = {}

    def name(self, hosts: frozenset[str]) -> str:
        """The name of ``hosts`` (the same set always gets the same name)."""
        found = self._names.get(hosts)
        if found is not None:
            return found
        base = _token(self._base(hosts))[: self.MAX]
        name, n = base, 2
        while name in self._used:
            name, n = f"{base}_{n}", n + 1
        self._used.add(name)
        self._names[hosts] = name
        return name

    def _base(self, hosts: frozenset[str]) -> str:
        if len(hosts) == 1:
            return next(iter(hosts))
        infos = [self._hosts[h] for h in sorted(hosts) if h in self._hosts]
        if not infos:
            return "hosts"
        common = [r for r in infos[0].roles if all(r in i.roles for i in infos[1:])]
        sites = {i.site for i in infos}
        site = next(iter(sites)) if len(sites) == 1 else None
        if common:
            role = common[0]
            whole = self._classes.get((role, site), 0) == len(hosts)
            base = f"{role}_{site}" if site else role
            return base if whole else f"{base}_{len(hosts)}"
        kinds = {i.kind for i in infos}
        if len(kinds) == 1:
            kind = str(next(iter(kinds)))
            return f"{kind}_{site}" if site else kind
        joined = "_".join(i.name for i in infos)
        return joined if len(joined) <= self.MAX else f"hosts_{len(infos)}"


def host_networks(
    plan: Plan, rules: Iterable[FlowRule], known: dict[str, tuple[IPNet, ...]] | None = None
) -> dict[str, tuple[IPNet, ...]]:
    """Every end host of ``rules`` with its parsed addresses (already validated by rules.py),
    added to ``known`` (a run's cache) when given."""
    nets: dict[str, tuple[IPNet, ...]] = {} if known is None else known
    hosts: dict[str, HostInfo] | None = None
    for r in rules:
        for name in (r.flow.source, r.flow.destination):
            if name in nets:
                continue
            if hosts is None:
                hosts = {h.name: h for h in reversed(plan.hosts)}  # Plan.host: the first
            nets[name] = tuple(ipaddress.ip_network(a) for a in hosts[name].addresses)
    return nets


@dataclass
class _Item:
    first: int
    ctx: _Context
    protocol: L4
    srcs: frozenset[str]
    dsts: frozenset[str]
    ports: Ports
    flows: list[int] = field(default_factory=list)


def _merge(items: list[_Item], dim: str) -> list[_Item]:
    """Merge items equal in every dimension but ``dim`` (``srcs``, ``dsts`` or ``ports``)."""
    out: dict[tuple[object, ...], _Item] = {}
    for it in items:
        if dim == "ports":
            key: tuple[object, ...] = (it.ctx, it.protocol, it.srcs, it.dsts)
        elif dim == "dsts":
            key = (it.ctx, it.protocol, it.srcs, it.ports)
        else:
            key = (it.ctx, it.protocol, it.dsts, it.ports)
        have = out.get(key)
        if have is None:
            out[key] = it
            continue
        if dim == "ports":
            have.ports = merge_ports((*have.ports, *it.ports))
        elif dim == "dsts":
            have.dsts = have.dsts | it.dsts
        else:
            have.srcs = have.srcs | it.srcs
        have.first = min(have.first, it.first)
        have.flows.extend(it.flows)
    return list(out.values())


def consolidate(
    rules: Sequence[FlowRule],
    nets: Mapping[str, tuple[IPNet, ...]],
    namer: SetNamer,
    kind_of: Callable[[FlowRule], str] | None = None,
) -> tuple[Rule, ...]:
    """Merge ``rules`` (one enforcement point) into the fewest products this greedy finds.

    ``kind_of`` keeps apart rules a target matches differently (Windows' ``RPC``); rules
    with different interfaces, zones or protocols are never merged. Result in the order of
    each rule's first flow; rule numbers from 1.
    """
    start: dict[tuple[object, ...], _Item] = {}
    for i, r in enumerate(rules):
        kind = kind_of(r) if kind_of is not None else "ports"
        ctx: _Context = (r.in_interface, r.out_interface, r.ingress_zone, r.egress_zone, kind)
        key = (ctx, r.protocol, r.flow.source, r.flow.destination)
        span = (r.ports.start, r.ports.end)
        have = start.get(key)
        if have is None:
            start[key] = _Item(
                i,
                ctx,
                r.protocol,
                frozenset((r.flow.source,)),
                frozenset((r.flow.destination,)),
                (span,),
                [i],
            )
        else:
            have.ports = merge_ports((*have.ports, span))
            have.flows.append(i)
    items = list(start.values())
    for _ in range(8):  # each round only merges; 2-3 rounds reach the fixpoint in practice
        before = len(items)
        for dim in ("dsts", "srcs", "ports"):
            items = _merge(items, dim)
        if len(items) == before:
            break
    items.sort(key=lambda it: it.first)
    sets = namer.sets

    def host_set(names: frozenset[str]) -> HostSet:
        hs = sets.get(names)
        if hs is None:
            ordered = tuple(sorted(names))
            merged = collapse(n for h in ordered for n in nets[h])
            hs = sets[names] = HostSet(ordered, merged, namer.name(names))
        return hs

    out: list[Rule] = []
    for number, it in enumerate(items, start=1):
        iif, oif, iz, ez, kind = it.ctx
        out.append(
            Rule(
                number=number,
                protocol=it.protocol,
                ports=it.ports,
                sources=host_set(it.srcs),
                destinations=host_set(it.dsts),
                flows=tuple(rules[i] for i in sorted(it.flows)),
                in_interface=iif,
                out_interface=oif,
                ingress_zone=iz,
                egress_zone=ez,
                kind=kind,
            )
        )
    return tuple(out)


def span_of(ports: Ports) -> tuple[PortSpan, ...]:
    """``ports`` as plan port spans."""
    return tuple(PortSpan(start=a, end=b) for a, b in ports)


def side_file_text(point_name: str, rules: Sequence[Rule]) -> str:
    """The flows of every rule, one per line: ``r7<TAB>protocol<TAB>ports<TAB>flow id``."""
    lines = [f"# pathsec: flows of each rule of {point_name} (rule, protocol, ports, flow id)"]
    for rule in rules:
        ports = ",".join(rule.port_texts())
        for label in rule.flow_labels():
            lines.append(f"{rule.tag}\t{rule.protocol}\t{ports}\t{label}")
    return "\n".join(lines) + "\n"


def needs_side_file(rules: Sequence[Rule], limit: int = INLINE_FLOWS) -> bool:
    """Whether some rule lists more flows than its comment holds."""
    return any(len(r.flow_labels()) > limit for r in rules)


#: The longest rule comment written in full (nftables' limit; other targets allow more).
COMMENT_CHARS = 128


def _needs_side(rule: Rule) -> bool:
    labels = rule.flow_labels()
    return len(labels) > INLINE_FLOWS or len(rule.comment(None)) > COMMENT_CHARS


@dataclass(frozen=True)
class Consolidated:
    """An enforcement point with its consolidated rules.

    ``side_file``: the name of the file listing every rule's flows, when some rule has too
    many to list in its comment (None: every comment lists all its flows).
    """

    point: EnforcementPoint
    rules: tuple[Rule, ...]
    side_file: str | None
    nets: Mapping[str, tuple[IPNet, ...]] = field(default_factory=dict)

    def comment(self, rule: Rule) -> str:
        """The rule's comment: all its flows, or their count and the side file."""
        if self.side_file is None or not _needs_side(rule):
            return rule.comment(None)
        return rule.comment(self.side_file, limit=0)

    def flow_lines(self, rule: Rule, limit: int = INLINE_FLOWS) -> list[str]:
        """Comment lines for above a rule: what it matches and (some of) its flows."""
        labels = rule.flow_labels()
        head = f"{rule.tag}: {rule.summary()}; {len(labels)} flow{'s' if len(labels) != 1 else ''}"
        lines = [head] + [f"  {label}" for label in labels[:limit]]
        if len(labels) > limit:
            lines.append(f"  ... and {len(labels) - limit} more in {self.side_file}")
        return lines

    def files(self) -> list[RenderedFile]:
        """The side file, when there is one."""
        if self.side_file is None:
            return []
        return [RenderedFile(self.side_file, side_file_text(self.point.name, self.rules))]

    def summary(self, fmt: str, refused: tuple[Refusal, ...] = ()) -> PointSummary:
        """The point's summary line for the format ``fmt``."""
        flows = {r.flow.id for rule in self.rules for r in rule.flows}
        flow_rules = sum(len(rule.flows) for rule in self.rules)
        return PointSummary(
            self.point.kind,
            self.point.name,
            fmt,
            len(flows),
            flow_rules,
            len(self.rules),
            refused,
        )

    def headline(self) -> str:
        """``46 flows (52 per-flow rules) -> 16 rules``, for file headers."""
        s = self.summary("")
        text = f"{s.flows} flows ({s.flow_rules} per-flow rules) -> {s.rules} rules"
        if self.side_file is not None:
            text += f"; the flows of each rule: {self.side_file}"
        return text


def consolidate_point(
    plan: Plan,
    point: EnforcementPoint,
    namer: SetNamer,
    kind_of: Callable[[FlowRule], str] | None = None,
    rules: Sequence[FlowRule] | None = None,
) -> Consolidated:
    """Consolidate the rules of one enforcement point (or ``rules`` in their stead)."""
    flow_rules = point.rules if rules is None else rules
    nets = host_networks(plan, flow_rules, namer.nets)
    merged = consolidate(flow_rules, nets, namer, kind_of)
    side = f"{point.slug}.flows" if any(_needs_side(r) for r in merged) else None
    return Consolidated(point, merged, side, nets)


def consolidated_points(
    plan: Plan,
    selection: Selection,
    options: GeneratorOptions,
    family: OsFamily | None,
    *,
    hosts_only: bool = False,
) -> list[Consolidated]:
    """Every enforcement point of ``selection`` for a target of ``family`` (None: every
    host, whatever its OS), consolidated."""
    namer = SetNamer(plan)
    points = enforcement_points(plan, selection, options, hosts_only=hosts_only, family=family)
    return [consolidate_point(plan, p, namer) for p in points]

"""The plan sections of the HTML pages, and the plan-only report (``pathsec plan -f html``).

Zones, firewalls, hosts and topology findings are tables in the page itself; the diagram,
the flows table and the rules of each firewall are drawn by the page's script from the JSON
data block of :mod:`pathsec.report.plan_view`. The audit report shows the same sections
when it has a plan (:class:`pathsec.report.html_writer.HtmlWriter`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from pathsec.audit.models import Text
from pathsec.plan.models import Plan
from pathsec.report.checks import safe
from pathsec.report.html_page import render_page, script_labels
from pathsec.report.i18n import LABELS
from pathsec.report.interface import ReportLang
from pathsec.report.plan_rules import PointRules, plan_rules
from pathsec.report.plan_view import FlowState, script_json, view_data, zone_columns, zone_kinds
from pathsec.report.vocab import term


@dataclass(frozen=True)
class ZoneRow:
    """A zone: its kind, ranges, hosts, flows from and to it, firewalls at its border."""

    name: str
    kind: Text
    column: int
    cidrs: tuple[str, ...]
    hosts: int
    flows_from: int
    flows_to: int
    firewalls: tuple[str, ...]


@dataclass(frozen=True)
class FirewallRow:
    """A network firewall: zones, interfaces, flows crossing it, rules and refused flows."""

    name: str
    zones: tuple[str, ...]
    interfaces: tuple[str, ...]
    crossing: int
    rules: int
    refused: int


@dataclass(frozen=True)
class HostRow:
    """A host of the plan (server, client population, gateway …)."""

    name: str
    kind: Text
    zone: str
    site: str
    roles: tuple[Text, ...]
    addresses: tuple[str, ...]
    host_firewall: bool
    flows_from: int
    flows_to: int


@dataclass(frozen=True)
class TopologyRow:
    """A topology finding of the plan."""

    id: str
    severity: str
    severity_label: Text
    message: Text
    rule: str
    objects: tuple[str, ...]


@dataclass(frozen=True)
class PointRow:
    """A network or host firewall with the number of its rules and refused flows."""

    index: int
    kind: str
    name: str
    rules: int
    refused: int
    unknown_interfaces: tuple[str, ...]


@dataclass(frozen=True)
class PlanSections:
    """Everything the plan sections of a page show."""

    deployment: str
    source_file: str | None
    zones: tuple[ZoneRow, ...]
    firewalls: tuple[FirewallRow, ...]
    hosts: tuple[HostRow, ...]
    topology: tuple[TopologyRow, ...]
    points: tuple[PointRow, ...]
    flows: int
    rules: int
    refused: int
    topology_counts: tuple[tuple[str, Text, int], ...]
    data_json: str


_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}

#: Edge colours of a plan without an audit: encryption by default.
PLAN_LEGEND: tuple[tuple[str, Text], ...] = tuple(
    (cls, LABELS[f"{cls}_legend"]) for cls in ("enc", "plain", "cond", "mixed")
)


def plan_sections(
    plan: Plan, states: Mapping[str, FlowState] | None = None, mode: str = "plan"
) -> PlanSections:
    """The plan sections of ``plan``; ``states`` colour flows by an audit's check status."""
    rules: tuple[PointRules, ...] = plan_rules(plan)
    data = view_data(plan, rules, states, mode)
    data["labels"] = script_labels()
    kinds = zone_kinds(plan)
    columns = zone_columns(plan)
    cidrs = {z.name: z.cidrs for z in plan.zones}
    out_by_zone = Counter(f.source_zone for f in plan.flows)
    in_by_zone = Counter(f.destination_zone for f in plan.flows)
    out_by_host = Counter(f.source for f in plan.flows)
    in_by_host = Counter(f.destination for f in plan.flows)
    hosts_by_zone = Counter(h.zone for h in plan.hosts)
    crossing: Counter[str] = Counter()
    for f in plan.flows:
        crossing.update(set(f.crosses))
    net = {p.name: p for p in rules if p.kind == "network"}
    zones = tuple(
        ZoneRow(
            name=safe(z),
            kind=term("zone_kind", kinds[z]),
            column=columns[z][0] + 1,
            cidrs=tuple(safe(c) for c in cidrs.get(z, ())),
            hosts=hosts_by_zone[z],
            flows_from=out_by_zone[z],
            flows_to=in_by_zone[z],
            firewalls=tuple(safe(fw.name) for fw in plan.firewalls if z in fw.zones),
        )
        for z in kinds
    )
    firewalls = tuple(
        FirewallRow(
            name=safe(fw.name),
            zones=tuple(safe(z) for z in fw.zones),
            interfaces=tuple(safe(f"{z}: {i}") for z, i in fw.interfaces.items()),
            crossing=crossing[fw.name],
            rules=len(net[fw.name].rules) if fw.name in net else 0,
            refused=len(net[fw.name].refused) if fw.name in net else 0,
        )
        for fw in plan.firewalls
    )
    hosts = tuple(
        HostRow(
            name=safe(h.name),
            kind=term("host_kind", h.kind.value),
            zone=safe(h.zone),
            site=safe(h.site) if h.site else "",
            roles=tuple(term("role", r) for r in h.roles),
            addresses=tuple(safe(a) for a in h.addresses),
            host_firewall=h.host_firewall,
            flows_from=out_by_host[h.name],
            flows_to=in_by_host[h.name],
        )
        for h in plan.hosts
    )
    topology = tuple(
        TopologyRow(
            id=safe(f.id),
            severity=f.severity.value,
            severity_label=term("plan_severity", f.severity.value),
            message=Text(en=safe(f.message), zh=safe(f.message_zh)),
            rule=safe(f.rule) if f.rule else "",
            objects=tuple(safe(o) for o in f.objects),
        )
        for f in sorted(plan.findings, key=lambda f: _SEVERITY_ORDER.get(f.severity.value, 3))
    )
    counts = Counter(f.severity.value for f in plan.findings)
    points = tuple(
        PointRow(i, p.kind, safe(p.name), len(p.rules), len(p.refused), p.unknown_interfaces)
        for i, p in enumerate(rules)
    )
    return PlanSections(
        deployment=safe(plan.deployment),
        source_file=safe(plan.source_file) if plan.source_file else None,
        zones=zones,
        firewalls=firewalls,
        hosts=hosts,
        topology=topology,
        points=points,
        flows=len(plan.flows),
        rules=sum(len(p.rules) for p in rules),
        refused=len({r.flow_id for p in rules for r in p.refused}),
        topology_counts=tuple(
            (s, term("plan_severity", s), counts[s]) for s in ("error", "warning", "info")
        ),
        data_json=script_json(data),
    )


def render_plan_html(plan: Plan, lang: ReportLang = "en", title: str | None = None) -> str:
    """The plan-only report: one self-contained page (``pathsec plan FILE -f html``)."""
    sections = plan_sections(plan)
    return render_page(
        "plan.html.j2",
        lang=lang,
        title=safe(title) if title else None,
        plan_view=sections,
        legend=PLAN_LEGEND,
    )

"""The rules each firewall of a plan gets, for the report: the firewall stage's own rules.

The report asks :func:`pathsec.firewall.rules.enforcement_points` (so whatever that stage
writes, e.g. consolidated rules, is what the report lists). A flow the stage refuses (no
protocol, no address, address families that cannot meet …) must not fail the report: it is
listed as refused at every firewall it would cross, with the stage's own message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pathsec.catalog import load_builtin
from pathsec.firewall.interface import FirewallError, GeneratorOptions, Selection
from pathsec.firewall.rules import EnforcementPoint, FlowRule, enforcement_points, protocols_of
from pathsec.plan.models import Flow, Plan
from pathsec.report.checks import safe

#: Bisection steps are bounded: past this many refused flows the rest are refused as one.
MAX_REFUSED_SEARCH = 2000


@dataclass(frozen=True)
class RuleRow:
    """One accept rule as the report lists it."""

    flow_id: str
    protocol: str
    ports: str
    sources: str
    destinations: str
    in_interface: str | None
    out_interface: str | None


@dataclass(frozen=True)
class Refused:
    """A flow the firewall stage would not turn into a rule, and why."""

    flow_id: str
    reason: str


@dataclass(frozen=True)
class PointRules:
    """The rules of one network or host firewall, and the flows refused there."""

    kind: str
    name: str
    rules: tuple[RuleRow, ...]
    refused: tuple[Refused, ...]
    unknown_interfaces: tuple[str, ...]


def _row(rule: FlowRule) -> RuleRow:
    src = ", ".join(t for fm in rule.families for t in fm.source_texts)
    dst = ", ".join(t for fm in rule.families for t in fm.destination_texts)
    return RuleRow(
        flow_id=rule.flow.id,
        protocol=rule.protocol,
        ports=str(rule.ports),
        sources=src,
        destinations=dst,
        in_interface=rule.in_interface,
        out_interface=rule.out_interface,
    )


def _points(
    plan: Plan, flows: Sequence[Flow], options: GeneratorOptions
) -> tuple[EnforcementPoint, ...]:
    return enforcement_points(plan.model_copy(update={"flows": tuple(flows)}), Selection(), options)


def _refused_by_search(
    plan: Plan, flows: list[Flow], options: GeneratorOptions, budget: list[int]
) -> list[Refused]:
    """The flows of ``flows`` the stage refuses, by bisection (a few calls per refused flow)."""
    try:
        _points(plan, flows, options)
        return []
    except FirewallError as exc:
        if len(flows) == 1 or budget[0] <= 0:
            budget[0] -= len(flows)
            return [Refused(f.id, safe(str(exc))) for f in flows]
    budget[0] -= 1
    mid = len(flows) // 2
    return _refused_by_search(plan, flows[:mid], options, budget) + _refused_by_search(
        plan, flows[mid:], options, budget
    )


def plan_rules(plan: Plan) -> tuple[PointRules, ...]:
    """Every network and host firewall of ``plan`` with its rules and refused flows."""
    options = GeneratorOptions(catalog=load_builtin())
    fw_names = {f.name for f in plan.firewalls}
    guarded = {h.name for h in plan.hosts if h.host_firewall}

    def enforced(f: Flow) -> bool:
        return not f.local and (bool(fw_names.intersection(f.crosses)) or f.destination in guarded)

    # Only the flows a firewall enforces matter here (and only they are checked).
    enforced_flows = [f for f in plan.flows if enforced(f)]
    refused: dict[str, Refused] = {}
    for f in enforced_flows:
        if f.protocol is None:
            try:
                protocols_of(f, options)
            except FirewallError as exc:
                refused[f.id] = Refused(f.id, safe(str(exc)))
    kept = [f for f in enforced_flows if f.id not in refused]
    try:
        points = _points(plan, kept, options)
    except FirewallError:
        found = _refused_by_search(plan, kept, options, [MAX_REFUSED_SEARCH])
        refused.update((r.flow_id, r) for r in found)
        points = _points(plan, [f for f in kept if f.id not in refused], options)
    by_point: dict[tuple[str, str], list[Refused]] = {}
    for f in plan.flows:
        r = refused.get(f.id)
        if r is None:
            continue
        for name in dict.fromkeys(f.crosses):
            by_point.setdefault(("network", name), []).append(r)
        if f.destination in guarded:
            by_point.setdefault(("host", f.destination), []).append(r)
    return tuple(
        PointRules(
            kind=p.kind,
            name=p.name,
            rules=tuple(_row(r) for r in p.rules),
            refused=tuple(by_point.get((p.kind, p.name), ())),
            unknown_interfaces=p.unknown_interfaces,
        )
        for p in points
    )

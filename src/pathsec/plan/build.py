"""Assemble a :class:`Plan`: hosts, zones, firewalls, flows and findings of a deployment."""

from __future__ import annotations

from pathsec.catalog.models import Catalog
from pathsec.gctune import paused_gc
from pathsec.plan.findings import Context, run_checks
from pathsec.plan.hosts import build_topology
from pathsec.plan.models import FirewallInfo, Plan, ZoneInfo
from pathsec.plan.planner import plan_flows
from pathsec.quoting import terminal
from pathsec.topology.models import Deployment


def build_plan(catalog: Catalog, deployment: Deployment, source_file: str | None = None) -> Plan:
    """Plan every flow of ``deployment`` from ``catalog`` and validate the topology."""
    with paused_gc():
        return _build_plan(catalog, deployment, source_file)


def _build_plan(catalog: Catalog, deployment: Deployment, source_file: str | None) -> Plan:
    topo = build_topology(deployment)
    zones = tuple(ZoneInfo(name=z.name, kind=z.kind.value, cidrs=z.cidrs) for z in deployment.zones)
    firewalls = tuple(
        FirewallInfo(name=f.name, zones=f.zones, interfaces=dict(f.interfaces))
        for f in deployment.firewalls
    )
    subs = {e.edge: e.site for e in deployment.edge_subscriptions}
    flows = plan_flows(catalog, topo, subs, firewalls)
    findings = run_checks(Context(catalog, deployment, topo, flows))
    return Plan(
        deployment=deployment.organization.name,
        # A file name is the user's own, but it is text in every artefact header: one line.
        source_file=terminal(source_file, 4096) if source_file is not None else None,
        hosts=tuple(e.info for e in topo.endpoints),
        zones=zones,
        firewalls=firewalls,
        flows=flows,
        findings=findings,
    )

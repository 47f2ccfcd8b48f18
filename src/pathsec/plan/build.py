"""Assemble a :class:`Plan`: hosts, zones, firewalls, flows and findings of a deployment."""

from __future__ import annotations

from pathsec.catalog.models import Catalog
from pathsec.gctune import paused_gc
from pathsec.plan.exceptions import apply_exceptions, check_paths
from pathsec.plan.findings import Context, run_checks
from pathsec.plan.hosts import build_topology
from pathsec.plan.models import FirewallInfo, Plan, ZoneInfo
from pathsec.plan.planner import plan_flows
from pathsec.quoting import terminal
from pathsec.topology.models import Deployment


def build_plan(
    catalog: Catalog,
    deployment: Deployment,
    source_file: str | None = None,
    *,
    with_operational: bool = False,
) -> Plan:
    """Plan every flow of ``deployment`` from ``catalog`` and validate the topology.

    ``with_operational`` (or the deployment's ``operational_flows``) adds the catalog's
    operational rows, each flow labelled ``basis: operational``.
    """
    with paused_gc():
        return _build_plan(catalog, deployment, source_file, with_operational)


def _build_plan(
    catalog: Catalog, deployment: Deployment, source_file: str | None, with_operational: bool
) -> Plan:
    check_paths(deployment.exceptions, catalog, source_file)
    topo = build_topology(deployment)
    zones = tuple(ZoneInfo(name=z.name, kind=z.kind.value, cidrs=z.cidrs) for z in deployment.zones)
    firewalls = tuple(
        FirewallInfo(name=f.name, zones=f.zones, interfaces=dict(f.interfaces))
        for f in deployment.firewalls
    )
    subs = {e.edge: e.site for e in deployment.edge_subscriptions}
    operational = with_operational or deployment.operational_flows
    flows = plan_flows(catalog, topo, subs, firewalls, operational=operational)
    hosts = [e.info for e in topo.endpoints]
    if topo.crl is not None and any(f.destination == topo.crl.name for f in flows):
        hosts.append(topo.crl.info)
    applied = apply_exceptions(flows, deployment.exceptions, {h.name: h for h in hosts})
    findings = run_checks(
        Context(catalog, deployment, topo, applied.kept, applied.removed, applied.unused)
    )
    return Plan(
        deployment=deployment.organization.name,
        # A file name is the user's own, but it is text in every artefact header: one line.
        source_file=terminal(source_file, 4096) if source_file is not None else None,
        hosts=tuple(hosts),
        zones=zones,
        firewalls=firewalls,
        flows=applied.kept,
        findings=findings,
        removed_flows=applied.removed,
    )

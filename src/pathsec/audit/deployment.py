"""Targets of a whole deployment (every protocol), optionally from one zone's vantage point.

The checks come from :func:`pathsec.audit.coverage.dry_run`, so the dry run and the audit
never disagree about what is probed.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from pathsec.audit.coverage import DryRun, dry_run
from pathsec.audit.models import Expectations, Target
from pathsec.catalog import load_builtin
from pathsec.errors import InputError, InputProblem
from pathsec.plan.models import Plan

#: Zone kinds whose clients count as trusted for the NTLM disclosure check.
TRUSTED_ZONE_KINDS = frozenset({"internal", "management"})


@dataclass(frozen=True)
class LoadedPlan:
    """A plan and the AD domain of its deployment (None when read from plan JSON)."""

    plan: Plan
    domain: str | None


def load_plan(path: Path) -> LoadedPlan:
    """Plan a deployment YAML, or read a plan JSON (``pathsec plan --format json``)."""
    if path.suffix.lower() == ".json":
        from pathsec.plan.load import load_plan_json

        return LoadedPlan(load_plan_json(path), None)
    from pathsec.plan import build_plan
    from pathsec.topology.loader import load_deployment

    dep = load_deployment(path)
    return LoadedPlan(build_plan(load_builtin(), dep, str(path)), dep.organization.domain)


def is_local_address(address: str) -> bool:
    """True when ``address`` belongs to this machine (binding to it succeeds; sends nothing)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.bind((address, 0))
    except OSError:
        return False
    return True


def check_zone(plan: Plan, zone: str | None, where: str = "--from") -> None:
    """Raise an input error unless ``zone`` names a zone of the plan."""
    names = [z.name for z in plan.zones]
    if zone is not None and zone not in names:
        raise InputError(
            InputProblem(where, None, None, f"unknown zone {zone!r} (zones: {', '.join(names)})")
        )


def plan_dry_run(loaded: LoadedPlan, from_zone: str | None = None) -> DryRun:
    """The dry run of a loaded plan."""
    check_zone(loaded.plan, from_zone)
    return dry_run(loaded.plan, load_builtin(), from_zone)


def deployment_targets(
    loaded: LoadedPlan, from_zone: str | None = None, domain: str | None = None
) -> list[Target]:
    """One target per check of the dry run, with the flow's expectations."""
    plan = loaded.plan
    run = plan_dry_run(loaded, from_zone)
    flows = {f.id: f for f in plan.flows}
    kinds = {z.name: z.kind for z in plan.zones}
    ad_domain = domain or loaded.domain
    targets = []
    for c in run.checks:
        if c.expect == "closed" and is_local_address(c.host):
            continue  # the auditing host itself: its own ports never cross a firewall
        flow = flows.get(c.flow_id or "")
        host = plan.host(c.destination)
        rng = host.rpc_range
        source_zone = from_zone or (flow.source_zone if flow else None)
        targets.append(
            Target(
                host=c.host,
                port=c.port,
                protocol=c.protocol,
                path_id=c.path_id,
                flow_id=c.flow_id,
                server_name=host.name if "." in host.name else None,
                trusted_source=kinds.get(source_zone or "") in TRUSTED_ZONE_KINDS,
                domain=ad_domain,
                rpc_range=(rng.start, rng.end) if rng is not None else None,
                expect=c.expect,
                from_zone=from_zone,
                dial_port=host.listen_ports.get(c.port),
                expectations=(
                    Expectations(
                        encryption_supported=flow.encryption.supported,
                        encryption_by_default=flow.encryption.by_default,
                        default_auth=flow.default_auth,
                        supported_auth=flow.supported_auth,
                    )
                    if flow is not None
                    else None
                ),
            )
        )
    return targets

"""Read a plan: a plan JSON file (``pathsec plan --format json``) or a deployment to plan.

A plan JSON is a door into the firewall generators and the audit as much as a deployment
file is, so it goes through the same checks: the models' identifier types
(:mod:`pathsec.ident`), names unique ignoring case, and every reference resolved (a flow's
hosts, zones and firewalls, a firewall's zones and interfaces). Any problem is one line
naming file:line and field, exit code 2, in the same words as for a deployment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from pathsec.errors import InputError, InputProblem
from pathsec.jsonfile import LocatedJson, load_json_file, load_json_text, validate_json
from pathsec.plan.models import Plan
from pathsec.yamlfile import format_loc

Loc = tuple[str | int, ...]


def load_plan_json(path: str | Path) -> Plan:
    """The plan in the JSON file ``path``, validated and cross-checked."""
    return _checked(load_json_file(path))


def load_plan_text(text: str, file: str = "<plan>") -> Plan:
    """A plan from JSON text (``file`` names it in messages), validated and cross-checked."""
    return _checked(load_json_text(text, file))


def _checked(doc: LocatedJson) -> Plan:
    plan = validate_json(Plan, doc)
    check_plan(plan, doc)
    return plan


def load_plan(
    path: str | Path, catalog: str | Path | None = None, *, with_operational: bool = False
) -> Plan:
    """A plan JSON (by its ``.json`` suffix), or a deployment YAML planned now
    (``with_operational``: also the operational rows)."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        return load_plan_json(p)
    from pathsec.catalog.loader import load_catalog
    from pathsec.plan.build import build_plan
    from pathsec.topology.loader import load_deployment

    return build_plan(
        load_catalog(catalog), load_deployment(p), str(p), with_operational=with_operational
    )


class _Checker:
    def __init__(self, doc: LocatedJson | None) -> None:
        self.doc = doc

    def fail(self, loc: Sequence[str | int], message: str) -> None:
        file = self.doc.file if self.doc else "<plan>"
        line = self.doc.line_of(loc) if self.doc else None
        raise InputError(InputProblem(file, line, format_loc(loc), message))

    def unique(self, names: Iterable[tuple[str, Loc]], what: str) -> None:
        seen: dict[str, str] = {}
        for name, loc in names:
            key = name.casefold()
            if key in seen:
                same = "" if seen[key] == name else f" (same as {seen[key]!r} ignoring case)"
                self.fail(loc, f"duplicate {what} {name!r}{same}")
            seen[key] = name

    def known(self, name: str, pool: dict[str, object], loc: Loc, what: str) -> None:
        if name not in pool:
            hint = ", ".join(sorted(pool)[:8]) or "none defined"
            self.fail(loc, f"unknown {what} {name!r} (known: {hint})")


def check_plan(plan: Plan, doc: LocatedJson | None = None) -> None:
    """Names unique ignoring case, every reference resolved; raise :class:`InputError`."""
    c = _Checker(doc)
    c.unique(((h.name, ("hosts", i, "name")) for i, h in enumerate(plan.hosts)), "host")
    c.unique(((z.name, ("zones", i, "name")) for i, z in enumerate(plan.zones)), "zone")
    c.unique(((f.name, ("firewalls", i, "name")) for i, f in enumerate(plan.firewalls)), "firewall")
    hosts: dict[str, object] = {h.name: h for h in plan.hosts}
    zones: dict[str, object] = {z.name: z for z in plan.zones}
    firewalls: dict[str, object] = {f.name: f for f in plan.firewalls}
    zone_of = {h.name: h.zone for h in plan.hosts}
    for i, h in enumerate(plan.hosts):
        c.known(h.zone, zones, ("hosts", i, "zone"), "zone")
    for i, f in enumerate(plan.firewalls):
        for j, z in enumerate(f.zones):
            c.known(z, zones, ("firewalls", i, "zones", j), "zone")
        for z in f.interfaces:
            if z not in f.zones:
                c.fail(("firewalls", i, "interfaces", z), "not one of the firewall's zones")
    ids: set[str] = set()
    for key, flows in (("flows", plan.flows), ("removed_flows", plan.removed_flows)):
        for i, fl in enumerate(flows):
            if fl.id in ids:
                c.fail((key, i, "id"), f"duplicate flow id {fl.id!r}")
            ids.add(fl.id)
            for end, zone, side in (
                (fl.source, fl.source_zone, "source"),
                (fl.destination, fl.destination_zone, "destination"),
            ):
                c.known(end, hosts, (key, i, side), "host")
                if zone_of[end] != zone:
                    c.fail(
                        (key, i, f"{side}_zone"),
                        f"{zone!r} is not the zone of {end!r} ({zone_of[end]!r})",
                    )
            if not fl.id.startswith(f"{fl.path_id}:{fl.source}>{fl.destination}:"):
                c.fail(
                    (key, i, "id"),
                    f"{fl.id!r} does not start with its path, source and destination "
                    f"({fl.path_id}:{fl.source}>{fl.destination}:)",
                )
            for j, name in enumerate(fl.crosses):
                c.known(name, firewalls, (key, i, "crosses", j), "firewall")

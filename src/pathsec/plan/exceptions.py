"""Deployment exceptions: leave out a path, or some of its ports, with the reason on record.

An exception removes the flows it matches from the plan (no firewall opens them) and keeps
them in :attr:`~pathsec.plan.models.Plan.removed_flows`, each marked with its deviation from
the reference. Scopes: the whole deployment, an AD site (either end in the site), a zone
pair or a host pair (either direction).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pathsec.catalog.models import Catalog
from pathsec.errors import InputError, InputProblem
from pathsec.plan.models import Flow, HostInfo
from pathsec.topology.models import PathException
from pathsec.yamlfile import format_loc, load_yaml_file


@dataclass(frozen=True)
class Applied:
    """Flows kept and removed, and the index of every exception that removed nothing."""

    kept: tuple[Flow, ...]
    removed: tuple[Flow, ...]
    unused: tuple[int, ...]


def _line(source_file: str | None, loc: tuple[str | int, ...]) -> int | None:
    if source_file is None:
        return None
    try:
        return load_yaml_file(source_file).line_of(loc)
    except (InputError, OSError):
        return None


def check_paths(
    exceptions: Iterable[PathException], catalog: Catalog, source_file: str | None
) -> None:
    """Every exception names a path of the catalog (reference or operational row)."""
    known = {p.id for p in (*catalog.paths, *catalog.operational)}
    for i, ex in enumerate(exceptions):
        if ex.path not in known:
            loc: tuple[str | int, ...] = ("exceptions", i, "path")
            section = ex.path.split(".")[0]
            hint = ", ".join(sorted(k for k in known if k.startswith(section + "."))[:6])
            raise InputError(
                InputProblem(
                    source_file or "<deployment>",
                    _line(source_file, loc),
                    format_loc(loc),
                    f"unknown catalog path {ex.path!r} (see: pathsec catalog"
                    + (f"; e.g. {hint})" if hint else ")"),
                )
            )


def _matches(ex: PathException, f: Flow, hosts: dict[str, HostInfo]) -> bool:
    if f.path_id != ex.path:
        return False
    if ex.ports and f.port not in ex.ports:
        return False
    if ex.protocol is not None and f.protocol != ex.protocol:
        return False
    if ex.site is not None:
        sites = {h.site for h in (hosts.get(f.source), hosts.get(f.destination)) if h}
        return ex.site in sites
    if ex.zones is not None:
        return {f.source_zone, f.destination_zone} == set(ex.zones)
    if ex.servers is not None:
        return {f.source, f.destination} == set(ex.servers)
    return True


def apply_exceptions(
    flows: tuple[Flow, ...], exceptions: tuple[PathException, ...], hosts: dict[str, HostInfo]
) -> Applied:
    """Split ``flows`` by the deployment's exceptions (the first matching one is recorded)."""
    if not exceptions:
        return Applied(flows, (), ())
    kept: list[Flow] = []
    removed: list[Flow] = []
    used: set[int] = set()
    for f in flows:
        hit = next((i for i, ex in enumerate(exceptions) if _matches(ex, f, hosts)), None)
        if hit is None:
            kept.append(f)
            continue
        used.add(hit)
        why = f"exceptions[{hit}]: {exceptions[hit].reason}"
        removed.append(f.model_copy(update={"deviation": why}))
    unused = tuple(i for i in range(len(exceptions)) if i not in used)
    return Applied(tuple(kept), tuple(removed), unused)

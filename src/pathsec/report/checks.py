"""What every writer shares: checks (one per flow or endpoint), their status, counts, scores.

A *check* is what a reader sees as one line of the audit: with a plan, one per planned
flow (plus endpoints the plan does not know); without one, one per audited endpoint.
Findings attach to a check by endpoint (host, port, protocol) and, when set, flow id.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING

from pathsec.audit.models import AuditResult, EndpointResult, Finding, FindingSeverity
from pathsec.catalog.loader import load_builtin
from pathsec.probes.base import Status
from pathsec.quoting import terminal

if TYPE_CHECKING:  # annotations only: the plan's and topology's models cost 40 ms to import,
    # and an audit of ad-hoc targets has no plan
    from pathsec.plan.models import Flow, Plan

#: Longest server-supplied text a report shows in one cell or line.
TEXT_LIMIT = 2000


class CheckStatus(StrEnum):
    """How a check came out, as the diagram colours it."""

    passed = "pass"
    finding = "finding"
    closed = "closed"
    not_observable = "not_observable"


#: Precedence when a check has several endpoints: the first status present wins.
PRECEDENCE = (
    CheckStatus.finding,
    CheckStatus.closed,
    CheckStatus.not_observable,
    CheckStatus.passed,
)

#: Weight a finding of each severity takes off a check's score (1.0 = worth nothing).
SEVERITY_WEIGHT: dict[FindingSeverity, float] = {
    FindingSeverity.critical: 1.0,
    FindingSeverity.high: 0.7,
    FindingSeverity.medium: 0.4,
    FindingSeverity.low: 0.15,
    FindingSeverity.info: 0.0,
}

#: SARIF-style ordering of severities, most severe first.
SEVERITIES: tuple[FindingSeverity, ...] = tuple(FindingSeverity)


def safe(text: object, limit: int = TEXT_LIMIT) -> str:
    """Server text made inert for any output: control characters escaped, length cut
    (:func:`pathsec.quoting.terminal`; writers add their own language's quoting)."""
    return terminal(text, limit)


def endpoint_label(host: str, port: int, protocol: str) -> str:
    """``host:port/protocol`` (IPv6 hosts in brackets)."""
    h = f"[{host}]" if ":" in host else host
    return f"{h}:{port}/{protocol}"


def endpoint_uri(host: str, port: int, protocol: str) -> str:
    """A URI naming the endpoint, e.g. ``smtp://mail.example:25`` (SARIF artifact location)."""
    h = f"[{host}]" if ":" in host else host
    return f"{protocol}://{h}:{port}"


def anchor(kind: str, key: str) -> str:
    """A stable HTML id for ``key``: readable slug plus a short hash against collisions."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", key).strip("-")[:60]
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
    return f"{kind}-{slug}-{digest}"


EndpointKey = tuple[str, int, str]


def endpoint_key(item: EndpointResult | Finding) -> EndpointKey:
    """The identity of an endpoint: host, port, protocol."""
    return (item.host, item.port, item.protocol.value)


@dataclass(frozen=True)
class Check:
    """One line of the audit: a planned flow or an audited endpoint, with what was found."""

    key: str
    anchor: str
    flow: Flow | None
    endpoints: tuple[EndpointResult, ...]
    findings: tuple[Finding, ...]
    status: CheckStatus
    host: str
    port: int | None
    protocol: str | None
    path_id: str | None
    source: str | None
    zone: str | None
    roles: tuple[str, ...]

    @property
    def label(self) -> str:
        """How the check is named in lists: the flow id or ``host:port/protocol``."""
        if self.flow is not None:
            return self.flow.id
        return endpoint_label(self.host, self.port or 0, self.protocol or "")

    @property
    def worst(self) -> FindingSeverity | None:
        """The most severe finding's severity."""
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=lambda s: s.rank)

    @property
    def score(self) -> float:
        """1.0 for a clean check, less by the weight of its worst finding."""
        worst = self.worst
        return 1.0 - (SEVERITY_WEIGHT[worst] if worst is not None else 0.0)


def _endpoint_status(ep: EndpointResult, findings: Sequence[Finding], fail_on: int) -> CheckStatus:
    failing = any(f.severity.rank >= fail_on for f in findings)
    if ep.status is Status.ok:
        return CheckStatus.finding if failing else CheckStatus.passed
    if ep.status is Status.refused:
        return CheckStatus.closed
    if ep.status in (Status.protocol_error, Status.tls_error, Status.reset) and failing:
        return CheckStatus.finding
    return CheckStatus.not_observable


def _combine(statuses: Iterable[CheckStatus]) -> CheckStatus:
    present = set(statuses)
    for s in PRECEDENCE:
        if s in present:
            return s
    return CheckStatus.not_observable


@lru_cache(maxsize=1)
def _destination_roles() -> dict[str, str]:
    return {p.id: p.destination_role.value for p in load_builtin().paths}


@lru_cache(maxsize=1)
def path_names() -> dict[str, tuple[str, str]]:
    """Catalog path id to its (English, Chinese) name."""
    return {p.id: (p.name.en, p.name.zh) for p in load_builtin().paths}


def build_checks(
    result: AuditResult, plan: Plan | None = None, fail_on: FindingSeverity = FindingSeverity.low
) -> list[Check]:
    """The checks of a result: one per plan flow (when a plan is given) and per other endpoint."""
    rank = fail_on.rank
    by_ep: dict[EndpointKey, list[Finding]] = {}
    for f in result.findings:
        by_ep.setdefault(endpoint_key(f), []).append(f)

    def findings_of(ep: EndpointResult) -> list[Finding]:
        return [
            f
            for f in by_ep.get(endpoint_key(ep), [])
            if f.flow_id is None or ep.flow_id is None or f.flow_id == ep.flow_id
        ]

    checks: list[Check] = []
    used: set[int] = set()
    if plan is not None:
        by_flow: dict[str, list[int]] = {}
        for i, ep in enumerate(result.endpoints):
            if ep.flow_id is not None:
                by_flow.setdefault(ep.flow_id, []).append(i)
        for flow in plan.flows:
            idx = by_flow.get(flow.id, [])
            used.update(idx)
            eps = tuple(result.endpoints[i] for i in idx)
            fs = tuple(f for ep in eps for f in findings_of(ep))
            status = (
                _combine(_endpoint_status(ep, findings_of(ep), rank) for ep in eps)
                if eps
                else CheckStatus.not_observable
            )
            try:
                roles = plan.host(flow.destination).roles
            except KeyError:
                roles = ()
            if not roles and flow.path_id in _destination_roles():
                roles = (_destination_roles()[flow.path_id],)
            checks.append(
                Check(
                    key=flow.id,
                    anchor=anchor("flow", flow.id),
                    flow=flow,
                    endpoints=eps,
                    findings=fs,
                    status=status,
                    host=flow.destination,
                    port=flow.port,
                    protocol=eps[0].protocol.value if eps else flow.protocol,
                    path_id=flow.path_id,
                    source=flow.source,
                    zone=flow.destination_zone,
                    roles=tuple(roles),
                )
            )
    zones = _zone_of_address(plan)
    for i, ep in enumerate(result.endpoints):
        if i in used:
            continue
        fs = tuple(findings_of(ep))
        label = endpoint_label(ep.host, ep.port, ep.protocol.value)
        role = _destination_roles().get(ep.path_id or "")
        host, zone, roles = ep.host, None, (role,) if role else ()
        if ep.host in zones:
            host, zone, host_roles = zones[ep.host]
            roles = host_roles or roles
        checks.append(
            Check(
                key=label,
                anchor=anchor("ep", f"{label}#{i}"),
                flow=None,
                endpoints=(ep,),
                findings=fs,
                status=_endpoint_status(ep, fs, rank),
                host=host,
                port=ep.port,
                protocol=ep.protocol.value,
                path_id=ep.path_id,
                source=None,
                zone=zone,
                roles=roles,
            )
        )
    return checks


def _zone_of_address(plan: Plan | None) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """Plan host names and single addresses to (host name, zone, roles)."""
    out: dict[str, tuple[str, str, tuple[str, ...]]] = {}
    if plan is None:
        return out
    for h in plan.hosts:
        out[h.name] = (h.name, h.zone, h.roles)
        for a in h.addresses:
            out.setdefault(a.split("/")[0] if a.endswith(("/32", "/128")) else a, out[h.name])
    return out


def severity_counts(findings: Iterable[Finding]) -> dict[FindingSeverity, int]:
    """Number of findings per severity (every severity present, most severe first)."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        counts[f.severity] += 1
    return counts


def status_counts(checks: Iterable[Check]) -> dict[CheckStatus, int]:
    """Number of checks per status."""
    counts = dict.fromkeys(CheckStatus, 0)
    for c in checks:
        counts[c.status] += 1
    return counts


@dataclass(frozen=True)
class Score:
    """A score from 0 to 100 for a group of checks (None: nothing observable)."""

    group: str
    score: int | None
    checks: int
    observed: int
    findings: int


def _score(group: str, checks: Sequence[Check]) -> Score:
    observed = [c for c in checks if c.status is not CheckStatus.not_observable]
    value = round(100 * sum(c.score for c in observed) / len(observed)) if observed else None
    return Score(group, value, len(checks), len(observed), sum(len(c.findings) for c in checks))


def scores_by(checks: Sequence[Check], what: str) -> list[Score]:
    """Scores per ``role`` or per ``zone`` (checks without one are left out), sorted by name."""
    groups: dict[str, list[Check]] = {}
    for c in checks:
        keys = c.roles if what == "role" else ((c.zone,) if c.zone else ())
        for k in keys:
            groups.setdefault(k, []).append(c)
    return [_score(k, groups[k]) for k in sorted(groups)]


def overall_score(checks: Sequence[Check]) -> Score:
    """The score of every check together."""
    return _score("all", checks)

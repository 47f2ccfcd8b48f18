"""What changed between two runs: findings new, fixed and changed; endpoints and their facts.

Findings are the same finding when id, host, port, protocol and flow agree; they changed
when severity or evidence differs. Endpoints are the same when host, port and protocol
agree; their facts (status, reason and every observation field but volatile ones) are
compared one by one, lists as sets (so a mechanism added is reported as added).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict

from pathsec.audit.models import AuditResult, EndpointResult, Finding
from pathsec.report.facts import FactValue, observation_facts

FindingKey = tuple[str, str, int, str, str | None]
EndpointKey = tuple[str, int, str]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FindingRef(_Frozen):
    """A finding as the diff shows it."""

    id: str
    severity: str
    host: str
    port: int
    protocol: str
    flow_id: str | None
    title: str
    evidence: tuple[str, ...]


class FindingChange(_Frozen):
    """A finding present in both runs whose severity or evidence differs."""

    before: FindingRef
    after: FindingRef


class FactChange(_Frozen):
    """One fact of an endpoint that differs: values, or for lists the items added/removed."""

    fact: str
    before: FactValue | None
    after: FactValue | None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


class EndpointChange(_Frozen):
    """An endpoint present in both runs whose facts differ."""

    endpoint: str
    changes: tuple[FactChange, ...]


class RunDiff(_Frozen):
    """The difference from run ``a`` to run ``b``."""

    a: str
    b: str
    new_findings: tuple[FindingRef, ...]
    fixed_findings: tuple[FindingRef, ...]
    changed_findings: tuple[FindingChange, ...]
    new_endpoints: tuple[str, ...]
    gone_endpoints: tuple[str, ...]
    changed_endpoints: tuple[EndpointChange, ...]

    @property
    def empty(self) -> bool:
        """True when nothing changed."""
        return not (
            self.new_findings
            or self.fixed_findings
            or self.changed_findings
            or self.new_endpoints
            or self.gone_endpoints
            or self.changed_endpoints
        )


def _fkey(f: Finding) -> FindingKey:
    return (f.id, f.host, f.port, f.protocol.value, f.flow_id)


def _ref(f: Finding) -> FindingRef:
    return FindingRef(
        id=f.id,
        severity=f.severity.value,
        host=f.host,
        port=f.port,
        protocol=f.protocol.value,
        flow_id=f.flow_id,
        title=f.title.en,
        evidence=f.evidence,
    )


def _ekey(e: EndpointResult) -> EndpointKey:
    return (e.host, e.port, e.protocol.value)


def _elabel(k: EndpointKey) -> str:
    host = f"[{k[0]}]" if ":" in k[0] else k[0]
    return f"{host}:{k[1]}/{k[2]}"


def endpoint_facts(e: EndpointResult) -> dict[str, FactValue]:
    """Status, reason and observation facts of one endpoint."""
    facts: dict[str, FactValue] = {"status": e.status.value}
    if e.reason:
        facts["reason"] = e.reason
    facts.update(observation_facts(e.observations))
    return facts


def _seq(v: FactValue | None) -> tuple[str, ...] | None:
    return tuple(str(x) for x in v) if isinstance(v, tuple) else None


def fact_changes(before: dict[str, FactValue], after: dict[str, FactValue]) -> list[FactChange]:
    """Facts that differ, sorted by name; lists compare as sets."""
    out: list[FactChange] = []
    for fact in sorted(set(before) | set(after)):
        b, a = before.get(fact), after.get(fact)
        sb, sa = _seq(b), _seq(a)
        if sb is not None or sa is not None:
            old, new = sb or (), sa or ()
            if set(old) == set(new) and (b is None) == (a is None):
                continue
            if b is not None and a is not None and (sb is None or sa is None):
                out.append(FactChange(fact=fact, before=b, after=a))
                continue
            out.append(
                FactChange(
                    fact=fact,
                    before=b,
                    after=a,
                    added=tuple(x for x in new if x not in old),
                    removed=tuple(x for x in old if x not in new),
                )
            )
        elif a != b:
            out.append(FactChange(fact=fact, before=b, after=a))
    return out


def _by(items: Iterable[Any], key: Any) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for it in items:
        out.setdefault(key(it), it)
    return out


def diff_results(a: AuditResult, b: AuditResult, name_a: str = "a", name_b: str = "b") -> RunDiff:
    """Compare two results (``a`` the older)."""
    fa, fb = _by(a.findings, _fkey), _by(b.findings, _fkey)
    changed_f = [
        FindingChange(before=_ref(fa[k]), after=_ref(fb[k]))
        for k in fa
        if k in fb and (fa[k].severity != fb[k].severity or fa[k].evidence != fb[k].evidence)
    ]
    ea, eb = _by(a.endpoints, _ekey), _by(b.endpoints, _ekey)
    changed_e = []
    for k in ea:
        if k in eb:
            changes = fact_changes(endpoint_facts(ea[k]), endpoint_facts(eb[k]))
            if changes:
                changed_e.append(EndpointChange(endpoint=_elabel(k), changes=tuple(changes)))
    return RunDiff(
        a=name_a,
        b=name_b,
        new_findings=tuple(_ref(fb[k]) for k in fb if k not in fa),
        fixed_findings=tuple(_ref(fa[k]) for k in fa if k not in fb),
        changed_findings=tuple(changed_f),
        new_endpoints=tuple(_elabel(k) for k in eb if k not in ea),
        gone_endpoints=tuple(_elabel(k) for k in ea if k not in eb),
        changed_endpoints=tuple(changed_e),
    )


def _val(v: FactValue | None) -> str:
    if v is None:
        return "—"
    if isinstance(v, tuple):
        return "[" + ", ".join(str(x) for x in v) + "]"
    return str(v)


def diff_rows(d: RunDiff) -> list[tuple[str, str, str, str]]:
    """The diff as rows of (change, what, where, detail) for tables."""
    rows: list[tuple[str, str, str, str]] = []
    for f in d.new_findings:
        rows.append(
            (
                "new finding",
                f"{f.id} [{f.severity}]",
                _elabel((f.host, f.port, f.protocol)),
                f.title,
            )
        )
    for f in d.fixed_findings:
        rows.append(
            (
                "fixed finding",
                f"{f.id} [{f.severity}]",
                _elabel((f.host, f.port, f.protocol)),
                f.title,
            )
        )
    for c in d.changed_findings:
        detail = (
            f"severity {c.before.severity} -> {c.after.severity}"
            if c.before.severity != c.after.severity
            else "evidence changed"
        )
        rows.append(
            (
                "changed finding",
                c.after.id,
                _elabel((c.after.host, c.after.port, c.after.protocol)),
                detail,
            )
        )
    for e in d.new_endpoints:
        rows.append(("new endpoint", "", e, ""))
    for e in d.gone_endpoints:
        rows.append(("gone endpoint", "", e, ""))
    for ec in d.changed_endpoints:
        for ch in ec.changes:
            if ch.added or ch.removed:
                parts = [f"+{x}" for x in ch.added] + [f"-{x}" for x in ch.removed]
                detail = " ".join(parts)
            else:
                detail = f"{_val(ch.before)} -> {_val(ch.after)}"
            rows.append(("changed fact", ch.fact, ec.endpoint, detail))
    return rows

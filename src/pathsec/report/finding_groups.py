"""Findings grouped for people: one row per endpoint and check, listing the paths it affects.

An audit reports a finding once per planned flow it concerns, so one weakness of one
endpoint (Basic over plain HTTP on port 80) can be five findings, one per virtual
directory's path. The report shows it once, with its paths and the number of findings, so
the rows add up to the results document's findings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pathsec.audit.models import Finding, Text
from pathsec.report.checks import Check, safe
from pathsec.report.i18n import SEVERITY_LABELS


@dataclass(frozen=True)
class FindingGroup:
    """The findings of one check id on one endpoint (and vantage zone)."""

    id: str
    severity: str
    severity_label: Text
    rank: int
    title: Text
    host: str
    port: int
    protocol: str
    from_zone: str | None
    roles: tuple[str, ...]
    #: Catalog path ids in order of appearance, each with the anchor of its check ("" if none).
    paths: tuple[tuple[str, str], ...]
    anchor: str
    count: int


def group_findings(
    findings: Sequence[Finding], check_of: Callable[[Finding], Check | None]
) -> list[FindingGroup]:
    """One group per (check id, host, port, protocol, vantage zone), in order of appearance."""
    groups: dict[tuple[str, str, int, str, str | None], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.id, f.host, f.port, f.protocol.value, f.from_zone), []).append(f)
    out: list[FindingGroup] = []
    for (fid, host, port, proto, zone), fs in groups.items():
        worst = max(fs, key=lambda f: f.severity.rank)
        paths: dict[str, str] = {}
        roles: dict[str, None] = {}
        anchor = ""
        for f in fs:
            check = check_of(f)
            a = check.anchor if check is not None else ""
            anchor = anchor or a
            paths.setdefault(safe(f.path_id or ""), a)
            if check is not None:
                roles.update(dict.fromkeys(check.roles))
        out.append(
            FindingGroup(
                id=fid,
                severity=worst.severity.value,
                severity_label=SEVERITY_LABELS[worst.severity],
                rank=worst.severity.rank,
                title=Text(en=safe(fs[0].title.en), zh=safe(fs[0].title.zh)),
                host=safe(host),
                port=port,
                protocol=proto,
                from_zone=safe(zone) if zone else None,
                roles=tuple(roles),
                paths=tuple((p, a) for p, a in paths.items() if p),
                anchor=anchor,
                count=len(fs),
            )
        )
    return out

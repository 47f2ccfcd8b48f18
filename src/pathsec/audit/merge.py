"""Merge audit results taken from several vantage points (zones) into one document."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pathsec.audit.models import AuditResult
from pathsec.audit.resultfile import load_result
from pathsec.ident import SHORT_TEXT_MAX


def read_result(path: Path) -> AuditResult:
    """Read one results JSON (``pathsec audit --format json``); bad input is an InputError."""
    return load_result(path)


def merge_results(results: Sequence[AuditResult]) -> AuditResult:
    """One result: every endpoint and finding (each keeps its ``from_zone``), the earliest
    start, the latest finish; complete only when every part was."""
    if not results:
        raise ValueError("nothing to merge")
    profiles = list(dict.fromkeys(r.profile for r in results))
    findings = [f for r in results for f in r.findings]
    findings.sort(key=lambda f: (-f.severity.rank, f.from_zone or "", f.host, f.port, f.id))
    return AuditResult(
        started=min(r.started for r in results),
        finished=max(r.finished for r in results),
        complete=all(r.complete for r in results),
        profile="+".join(profiles)[:SHORT_TEXT_MAX],
        endpoints=tuple(e for r in results for e in r.endpoints),
        findings=tuple(findings),
    )

"""Merge audit results taken from several vantage points (zones) into one document."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from pathsec.audit.models import AuditResult
from pathsec.errors import InputError, InputProblem


def read_result(path: Path) -> AuditResult:
    """Read one results JSON (``pathsec audit --format json``); bad input is an InputError."""
    try:
        return AuditResult.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(InputProblem(str(path), None, None, f"cannot read: {exc}")) from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or None
        raise InputError(
            InputProblem(str(path), None, where, f"not an audit result: {err['msg']}")
        ) from None


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
        profile="+".join(profiles),
        endpoints=tuple(e for r in results for e in r.endpoints),
        findings=tuple(findings),
    )

"""One audit run: targets in, the results document out (engine + findings + timestamps)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from pathsec.audit.engine import AuditObserver, Limits, loop_factory, run_audit
from pathsec.audit.findings import evaluate
from pathsec.audit.models import AuditResult, FindingSeverity, Target
from pathsec.audit.profiles import Profile
from pathsec.probes.base import ProbeSettings


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def audit(
    targets: Sequence[Target],
    profile: Profile,
    settings: ProbeSettings | None = None,
    limits: Limits | None = None,
    observer: AuditObserver | None = None,
) -> AuditResult:
    """Probe every target and grade the observations with ``profile``."""
    started = _now()
    complete = True
    try:
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            results = runner.run(run_audit(targets, settings, limits, observer))
    except KeyboardInterrupt:
        results, complete = [], False
    findings = [f for t, r in zip(targets, results, strict=False) for f in evaluate(t, r, profile)]
    findings.sort(key=lambda f: (-f.severity.rank, f.host, f.port, f.id))
    return AuditResult(
        started=started,
        finished=_now(),
        complete=complete and len(results) == len(targets),
        profile=profile.name,
        endpoints=tuple(results),
        findings=tuple(findings),
    )


def worst(result: AuditResult) -> FindingSeverity | None:
    """The most severe finding's severity (None without findings)."""
    if not result.findings:
        return None
    return max((f.severity for f in result.findings), key=lambda s: s.rank)


def result_json(result: AuditResult) -> str:
    """The results document as JSON text (the documented contract)."""
    return result.model_dump_json(indent=2) + "\n"


def results_schema() -> dict[str, Any]:
    """JSON Schema of the results document."""
    schema = AuditResult.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "pathsec audit results"
    return schema


def results_schema_text() -> str:
    """The committed schema file's content."""
    return json.dumps(results_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

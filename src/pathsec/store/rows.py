"""The rows one audit run adds to the history, as plain values (both writers use them).

The columns are those of :mod:`pathsec.store.models` (a test checks they match).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from pathsec.audit.models import AuditResult
from pathsec.report.facts import observation_facts

RUN_COLUMNS = (
    "stored_at",
    "started",
    "finished",
    "profile",
    "complete",
    "schema_version",
    "label",
    "endpoint_count",
    "finding_count",
    "worst",
    "result",
)
#: Endpoint and finding columns; each row also has ``run_id``, set when the run is inserted.
ENDPOINT_COLUMNS = ("host", "port", "protocol", "path_id", "flow_id", "status", "reason", "facts")
FINDING_COLUMNS = (
    "finding_id",
    "severity",
    "host",
    "port",
    "protocol",
    "path_id",
    "flow_id",
    "title_en",
    "title_zh",
    "evidence",
)


@dataclass(frozen=True)
class RunRows:
    """One run's row and its endpoint and finding rows (values in the column orders above)."""

    run: tuple[Any, ...]
    endpoints: list[tuple[Any, ...]]
    findings: list[tuple[Any, ...]]
    stored_at: dt.datetime


def run_rows(result: AuditResult, label: str | None = None) -> RunRows:
    """The rows that store ``result`` (``label`` names the run in ``pathsec history``)."""
    worst = max((f.severity for f in result.findings), key=lambda s: s.rank, default=None)
    stored_at = dt.datetime.now(dt.UTC)
    run = (
        stored_at,
        result.started,
        result.finished,
        result.profile,
        result.complete,
        result.schema_version,
        label,
        len(result.endpoints),
        len(result.findings),
        worst.value if worst else None,
        result.model_dump_json(),
    )
    endpoints = [
        (
            ep.host,
            ep.port,
            ep.protocol.value,
            ep.path_id,
            ep.flow_id,
            ep.status.value,
            ep.reason,
            json.dumps(observation_facts(ep.observations), sort_keys=True),
        )
        for ep in result.endpoints
    ]
    findings = [
        (
            f.id,
            f.severity.value,
            f.host,
            f.port,
            f.protocol.value,
            f.path_id,
            f.flow_id,
            f.title.en,
            f.title.zh,
            json.dumps(list(f.evidence)),
        )
        for f in result.findings
    ]
    return RunRows(run, endpoints, findings, stored_at)

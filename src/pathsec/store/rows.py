"""The rows one audit run adds to the history, as plain values (both writers use them).

The columns are those of :mod:`pathsec.store.models` (a test checks they match).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

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


def document(result: AuditResult) -> str:
    """``result.model_dump_json(ensure_ascii=True)``, made from one piece per endpoint and
    finding.

    ASCII (non-ASCII characters as ``\\u`` escapes, the same JSON value): Python keeps
    it at one byte per character and hands SQLite its UTF-8 without a copy; the Chinese
    finding titles made the text two bytes per character, plus a UTF-8 copy to store it.
    In pieces: one call grows a single buffer to the whole document and then copies it.
    At 10,000 endpoints (a 62 MB document) the store's peak went from 360 MB to 130 MB.
    """
    head = result.model_copy(update={"endpoints": (), "findings": ()})
    start, sep, tail = head.model_dump_json(ensure_ascii=True).partition(_LISTS)
    if not sep or tail:  # another layout: one call
        return result.model_dump_json(ensure_ascii=True)
    pieces = [start, '"endpoints":[', *_listed(result.endpoints), '],"findings":[']
    pieces += [*_listed(result.findings), "]}"]
    return "".join(pieces)


def _listed(models: Sequence[BaseModel]) -> list[str]:
    """Each model as ASCII JSON, with commas between."""
    out: list[str] = []
    for m in models:
        if out:
            out.append(",")
        out.append(m.model_dump_json(ensure_ascii=True))
    return out


#: How ``model_dump_json()`` ends a result whose two lists are empty.
_LISTS = '"endpoints":[],"findings":[]}'


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
        document(result),
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

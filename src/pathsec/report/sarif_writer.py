"""SARIF 2.1.0: rules are finding ids, results are findings located at endpoints.

Each result names its endpoint twice: as an artifact URI (``smtp://host:25``), which code
scanning views need, and as a logical location; the catalog path id and the flow id are in
the result's properties. Rule help carries both languages.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, ClassVar

from pathsec import __version__
from pathsec.audit.models import Finding, FindingSeverity
from pathsec.quoting import md_paragraph, md_strong
from pathsec.report.checks import endpoint_label, endpoint_uri, safe
from pathsec.report.interface import ReportFormat, ReportInput, Writer

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

#: SARIF result level per severity.
LEVELS: dict[FindingSeverity, str] = {
    FindingSeverity.critical: "error",
    FindingSeverity.high: "error",
    FindingSeverity.medium: "warning",
    FindingSeverity.low: "note",
    FindingSeverity.info: "note",
}

#: GitHub code scanning's numeric severity (``security-severity``), as a string.
SECURITY_SEVERITY: dict[FindingSeverity, str] = {
    FindingSeverity.critical: "9.5",
    FindingSeverity.high: "8.0",
    FindingSeverity.medium: "5.5",
    FindingSeverity.low: "3.0",
    FindingSeverity.info: "0.0",
}


def _rule(f: Finding) -> dict[str, Any]:
    return {
        "id": f.id,
        "name": f.id.replace("-", ""),
        "shortDescription": {"text": f.title.en},
        "fullDescription": {"text": f"{f.title.en} / {f.title.zh}"},
        "help": {
            "text": f"{f.remediation.en}\n\n{f.remediation.zh}",
            # Markdown viewers render this: every value escaped (no link, image or HTML).
            "markdown": f"{md_strong(safe(f.title.en))}\n\n{md_paragraph(safe(f.remediation.en))}"
            f"\n\n{md_strong(safe(f.title.zh))}\n\n{md_paragraph(safe(f.remediation.zh))}",
        },
        "defaultConfiguration": {"level": LEVELS[f.severity]},
        "properties": {
            "tags": ["security", "pathsec", f.protocol.value],
            "security-severity": SECURITY_SEVERITY[f.severity],
            "title_zh": f.title.zh,
        },
    }


def _fingerprint(f: Finding) -> str:
    key = f"{f.id}|{f.host}|{f.port}|{f.protocol.value}|{f.flow_id or ''}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _result(f: Finding, index: int) -> dict[str, Any]:
    label = endpoint_label(f.host, f.port, f.protocol.value)
    props: dict[str, Any] = {
        "severity": f.severity.value,
        "path_id": f.path_id,
        "flow_id": f.flow_id,
        "endpoint": label,
        "evidence": [safe(e) for e in f.evidence],
        "message_zh": f"{f.title.zh}:{label}",
    }
    return {
        "ruleId": f.id,
        "ruleIndex": index,
        "level": LEVELS[f.severity],
        "message": {"text": f"{f.title.en}: {label}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": endpoint_uri(f.host, f.port, f.protocol.value)}
                },
                "logicalLocations": [
                    {
                        "name": label,
                        "fullyQualifiedName": f"{f.path_id or 'unplanned'}/{label}",
                        "kind": "resource",
                    }
                ],
                "properties": {"path_id": f.path_id},
            }
        ],
        "partialFingerprints": {"pathsecFinding/v1": _fingerprint(f)},
        "properties": {k: v for k, v in props.items() if v is not None},
    }


class SarifWriter(Writer):
    """A SARIF 2.1.0 log with one run."""

    format: ClassVar[ReportFormat] = ReportFormat.sarif
    suffix: ClassVar[str] = ".sarif"
    media_type: ClassVar[str] = "application/sarif+json"

    def render(self, report: ReportInput) -> str:
        """The SARIF log as JSON text."""
        r = report.result
        rules: dict[str, dict[str, Any]] = {}
        for f in sorted(r.findings, key=lambda x: x.id):
            rules.setdefault(f.id, _rule(f))
        index = {rid: i for i, rid in enumerate(rules)}
        run: dict[str, Any] = {
            "tool": {
                "driver": {
                    "name": "pathsec",
                    "version": __version__,
                    "semanticVersion": __version__,
                    "rules": list(rules.values()),
                }
            },
            "invocations": [
                {
                    "executionSuccessful": r.complete,
                    "startTimeUtc": r.started,
                    "endTimeUtc": r.finished,
                }
            ],
            "results": [_result(f, index[f.id]) for f in r.findings],
            "properties": {"profile": r.profile, "endpoints": len(r.endpoints)},
        }
        if report.plan is not None:
            run["properties"]["deployment"] = report.plan.deployment
        doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

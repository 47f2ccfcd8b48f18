"""JSON: the results document itself (``schema_version`` inside), so it reads back as input."""

from __future__ import annotations

import json
from typing import ClassVar

from pathsec.jsontext import escape_controls
from pathsec.report.interface import ReportFormat, ReportInput, Writer


class JsonWriter(Writer):
    """The audit result as versioned JSON (the ``pathsec audit --format json`` contract)."""

    format: ClassVar[ReportFormat] = ReportFormat.json
    suffix: ClassVar[str] = ".json"
    media_type: ClassVar[str] = "application/json"

    def render(self, report: ReportInput) -> str:
        """``AuditResult.model_dump(mode="json")`` with its ``schema_version``."""
        doc = report.result.model_dump(mode="json")
        return escape_controls(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"

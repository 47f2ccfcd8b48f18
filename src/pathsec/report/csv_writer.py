"""CSV: one row per finding, for spreadsheets; cells that look like formulas are defused."""

from __future__ import annotations

from typing import ClassVar

from pathsec.quoting import csv_cell, csv_text
from pathsec.report.checks import safe
from pathsec.report.i18n import pick
from pathsec.report.interface import ReportFormat, ReportInput, Writer

HEADERS = (
    "severity",
    "id",
    "title",
    "host",
    "port",
    "protocol",
    "path_id",
    "flow_id",
    "evidence",
    "remediation",
)


def defuse(cell: str) -> str:
    """Prefix a quote to cells a spreadsheet would run as a formula (CSV injection)."""
    return csv_cell(cell)


class CsvWriter(Writer):
    """Findings as RFC 4180 CSV with a header row."""

    format: ClassVar[ReportFormat] = ReportFormat.csv
    suffix: ClassVar[str] = ".csv"
    media_type: ClassVar[str] = "text/csv"

    def render(self, report: ReportInput) -> str:
        """Header row, then one row per finding in result order."""
        rows: list[tuple[str, ...]] = [HEADERS]
        for f in report.result.findings:
            rows.append(
                (
                    safe(f.severity.value),
                    safe(f.id),
                    safe(pick(f.title, report.lang)),
                    safe(f.host),
                    str(f.port),
                    safe(f.protocol.value),
                    safe(f.path_id or ""),
                    safe(f.flow_id or ""),
                    # One evidence line per line of the cell (each line cleaned on its own).
                    "\n".join(safe(e) for e in f.evidence),
                    safe(pick(f.remediation, report.lang)),
                )
            )
        return csv_text(rows)

"""Terminal tables (rich): summary, findings and checks; server text shown literally."""

from __future__ import annotations

import io
from typing import ClassVar

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pathsec.report.checks import (
    build_checks,
    endpoint_label,
    overall_score,
    safe,
    severity_counts,
    status_counts,
)
from pathsec.report.i18n import SEVERITY_LABELS, STATUS_LABELS, label, pick
from pathsec.report.interface import ReportFormat, ReportInput, Writer

#: Longest summary of what an endpoint said that a table cell shows.
SUMMARY_LIMIT = 160

_STYLE = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


class TableWriter(Writer):
    """Tables for a terminal; ``color`` adds ANSI styles (off for files and pipes)."""

    format: ClassVar[ReportFormat] = ReportFormat.table
    suffix: ClassVar[str] = ".txt"
    media_type: ClassVar[str] = "text/plain"

    def __init__(self, width: int = 120, color: bool = False) -> None:
        self.width = width
        self.color = color

    def render(self, report: ReportInput) -> str:
        """Summary line, findings table, checks table."""
        lang = report.lang
        r = report.result
        checks = build_checks(r, report.plan, report.fail_on)
        buf = io.StringIO()
        console = Console(
            file=buf,
            width=self.width,
            force_terminal=self.color,
            color_system="standard" if self.color else None,
            highlight=False,
            markup=False,
            emoji=False,
        )
        counts = ", ".join(
            f"{pick(SEVERITY_LABELS[s], lang)} {n}" for s, n in severity_counts(r.findings).items()
        )
        score = overall_score(checks).score
        console.print(
            Text(
                f"{label('profile', lang)}: {safe(r.profile)}  {label('findings', lang)}: "
                f"{counts}  {label('overall', lang)}: {'–' if score is None else score}"
            )
        )
        if not r.complete:
            console.print(Text(label("incomplete", lang), style="bold"))
        findings = Table(title=label("findings", lang), show_lines=True)
        for h in ("severity", "id", "title_col", "endpoints", "evidence"):
            findings.add_column(label(h, lang), overflow="fold", no_wrap=h == "id")
        for f in r.findings:
            findings.add_row(
                Text(pick(SEVERITY_LABELS[f.severity], lang), style=_STYLE[f.severity.value]),
                Text(f.id),
                Text(safe(pick(f.title, lang))),
                Text(safe(endpoint_label(f.host, f.port, f.protocol.value))),
                Text("\n".join(safe(e) for e in f.evidence[:5])),
            )
        console.print(findings)
        table = Table(title=label("checks", lang), show_lines=False)
        for h in ("checks", "status", "path", "observations", "reason"):
            table.add_column(label(h, lang), overflow="fold")
        for c in checks:
            reasons = "; ".join(ep.reason for ep in c.endpoints if ep.reason)
            seen = "\n".join(ep.observations.summary(ep.protocol) for ep in c.endpoints)
            table.add_row(
                Text(safe(c.label)),
                Text(pick(STATUS_LABELS[c.status], lang)),
                Text(safe(c.path_id or "")),
                Text(safe(seen, SUMMARY_LIMIT)),
                Text(safe(reasons if c.endpoints else label("not_audited", lang))),
            )
        console.print(table)
        per_status = ", ".join(
            f"{pick(STATUS_LABELS[s], lang)} {n}" for s, n in status_counts(checks).items()
        )
        console.print(Text(f"{label('checks', lang)}: {per_status}"))
        return buf.getvalue()

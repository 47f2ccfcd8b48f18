"""Terminal tables (rich): summary, findings and checks; server text shown literally."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pathsec.audit.models import Finding
from pathsec.report.checks import (
    PRECEDENCE,
    build_checks,
    endpoint_label,
    overall_score,
    safe,
    severity_counts,
    status_counts,
)
from pathsec.report.fast_table import render_table
from pathsec.report.i18n import SEVERITY_LABELS, STATUS_LABELS, label, pick
from pathsec.report.interface import ReportFormat, ReportInput, ReportLang, Writer

#: Longest summary of what an endpoint said that a table cell shows.
SUMMARY_LIMIT = 160
#: Rows of the checks table and endpoints of one finding a terminal shows; the rest are
#: counted (the other formats list everything). A terminal table of 10,000 endpoints took
#: 10-20 s to lay out and nobody reads it; the worst checks come first when rows are cut.
MAX_ROWS = 200

_STYLE = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


@dataclass(frozen=True)
class _Row:
    """Findings that read the same (severity, id, title): the endpoints they were made on
    and the evidence lines they all share; ``differs`` when some have other lines too."""

    first: Finding
    endpoints: tuple[str, ...]
    evidence: tuple[str, ...]
    differs: bool


def _rows(findings: Sequence[Finding], lang: ReportLang) -> list[_Row]:
    """One row per finding as it reads, in order: an audit of 200 like servers shows each
    weakness once with its 200 endpoints, not 200 times (and renders in a fraction of the
    time). Evidence that differs between endpoints (their banners) is left to the other
    formats, which list every finding."""
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.severity.value, f.id, pick(f.title, lang)), []).append(f)
    out: list[_Row] = []
    for fs in groups.values():
        where = dict.fromkeys(safe(endpoint_label(f.host, f.port, f.protocol.value)) for f in fs)
        shared = [e for e in fs[0].evidence if all(e in f.evidence for f in fs[1:])]
        differs = any(len(f.evidence) != len(shared) for f in fs)
        out.append(_Row(fs[0], tuple(where), tuple(shared), differs))
    return out


def _endpoints_cell(where: Sequence[str], lang: ReportLang) -> str:
    """One endpoint, or their number and at most :data:`MAX_ROWS` of them, one per line."""
    if len(where) == 1:
        return where[0]
    lines = [label("n_endpoints", lang).format(n=f"{len(where):,}"), *where[:MAX_ROWS]]
    if len(where) > MAX_ROWS:
        lines.append(label("n_more", lang).format(n=f"{len(where) - MAX_ROWS:,}"))
    return "\n".join(lines)


def _print(console: Console, table: Table) -> None:
    """Print ``table`` as rich does (:mod:`pathsec.report.fast_table` when it can)."""
    text = render_table(table, console)
    if text is None:
        console.print(table)
    else:
        console.file.write(text)


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
        for row in _rows(r.findings, lang):
            f, where = row.first, row.endpoints
            evidence = [safe(e) for e in row.evidence[:5]]
            if row.differs:
                evidence.append(label("evidence_differs", lang))
            findings.add_row(
                Text(pick(SEVERITY_LABELS[f.severity], lang), style=_STYLE[f.severity.value]),
                Text(f.id),
                Text(safe(pick(f.title, lang))),
                Text(_endpoints_cell(where, lang)),
                Text("\n".join(evidence)),
            )
        _print(console, findings)
        table = Table(title=label("checks", lang), show_lines=False)
        for h in ("checks", "status", "path", "observations", "reason"):
            table.add_column(label(h, lang), overflow="fold")
        shown = checks
        if len(checks) > MAX_ROWS:
            order = {s: i for i, s in enumerate(PRECEDENCE)}
            shown = sorted(checks, key=lambda c: order[c.status])[:MAX_ROWS]
        for c in shown:
            reasons = "; ".join(ep.reason for ep in c.endpoints if ep.reason)
            seen = "\n".join(ep.observations.summary(ep.protocol) for ep in c.endpoints)
            table.add_row(
                Text(safe(c.label)),
                Text(pick(STATUS_LABELS[c.status], lang)),
                Text(safe(c.path_id or "")),
                Text(safe(seen, SUMMARY_LIMIT)),
                Text(safe(reasons if c.endpoints else label("not_audited", lang))),
            )
        _print(console, table)
        if len(shown) < len(checks):
            more = f"{len(checks) - len(shown):,}"
            console.print(Text(label("more_checks", lang).format(n=more)))
        per_status = ", ".join(
            f"{pick(STATUS_LABELS[s], lang)} {n}" for s, n in status_counts(checks).items()
        )
        console.print(Text(f"{label('checks', lang)}: {per_status}"))
        return buf.getvalue()

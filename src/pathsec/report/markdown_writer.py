"""Markdown: a summary, a findings table, per-finding details and the checks."""

from __future__ import annotations

from typing import ClassVar

from pathsec.quoting import md_block, md_code, md_text
from pathsec.report.checks import (
    TEXT_LIMIT,
    build_checks,
    endpoint_label,
    overall_score,
    safe,
    scores_by,
    severity_counts,
    status_counts,
)
from pathsec.report.i18n import SEVERITY_LABELS, STATUS_LABELS, label, pick
from pathsec.report.interface import ReportFormat, ReportInput, Writer


def cell(text: str) -> str:
    """Text safe in a table cell or heading: one line, no link, image, HTML or emphasis."""
    return md_text(safe(text.replace("\n", " ")))


def code(text: str) -> str:
    """An inline code span (flow ids, endpoints): shown verbatim, controls escaped."""
    return md_code(safe(text, TEXT_LIMIT))


def fenced(lines: list[str]) -> str:
    """A code block whose fence is longer than any backtick run inside."""
    return md_block(safe(x) for x in lines)


class MarkdownWriter(Writer):
    """GitHub-flavoured Markdown in one language."""

    format: ClassVar[ReportFormat] = ReportFormat.markdown
    suffix: ClassVar[str] = ".md"
    media_type: ClassVar[str] = "text/markdown"

    def render(self, report: ReportInput) -> str:
        """The whole report as Markdown."""
        lang = report.lang
        r = report.result
        checks = build_checks(r, report.plan, report.fail_on)
        out: list[str] = [f"# {cell(report.title or label('title', lang))}", ""]
        out += [
            f"- {label('profile', lang)}: {code(r.profile)}",
            f"- {label('started', lang)}: {cell(r.started)}",
            f"- {label('finished', lang)}: {cell(r.finished)}",
            f"- {label('complete', lang)}: {label('yes' if r.complete else 'no', lang)}",
            "",
        ]
        if not r.complete:
            out += [f"> **{label('incomplete', lang)}**", ""]
        out += [f"## {label('summary', lang)}", ""]
        out += [f"| {label('severity', lang)} | {label('findings', lang)} |", "|---|---:|"]
        for sev, n in severity_counts(r.findings).items():
            out.append(f"| {pick(SEVERITY_LABELS[sev], lang)} | {n} |")
        out += ["", f"| {label('status', lang)} | {label('checks', lang)} |", "|---|---:|"]
        for st, n in status_counts(checks).items():
            out.append(f"| {pick(STATUS_LABELS[st], lang)} | {n} |")
        total = overall_score(checks)
        out += ["", f"**{label('overall', lang)}: {_score_text(total.score)}**", ""]
        for what in ("role", "zone"):
            scores = scores_by(checks, what)
            if not scores:
                continue
            out += [
                f"| {label(what, lang)} | {label('score', lang)} | {label('checks', lang)} "
                f"| {label('findings', lang)} |",
                "|---|---:|---:|---:|",
            ]
            out += [
                f"| {cell(s.group)} | {_score_text(s.score)} | {s.observed}/{s.checks} "
                f"| {s.findings} |"
                for s in scores
            ]
            out.append("")
        out += [f"_{label('score_note', lang)}_", ""]
        out += [f"## {label('findings', lang)}", ""]
        if not r.findings:
            out += [label("no_findings", lang), ""]
        else:
            out += [
                f"| {label('severity', lang)} | {label('id', lang)} | {label('title_col', lang)} "
                f"| {label('endpoints', lang)} | {label('path', lang)} |",
                "|---|---|---|---|---|",
            ]
            for f in r.findings:
                ep = endpoint_label(f.host, f.port, f.protocol.value)
                out.append(
                    f"| {pick(SEVERITY_LABELS[f.severity], lang)} | {cell(f.id)} "
                    f"| {cell(pick(f.title, lang))} | {code(ep)} | {cell(f.path_id or '')} |"
                )
            out.append("")
            for f in r.findings:
                ep = endpoint_label(f.host, f.port, f.protocol.value)
                out += [f"### {cell(f.id)}: {cell(pick(f.title, lang))} — {code(ep)}", ""]
                if f.flow_id:
                    out += [f"{label('flow', lang)}: {code(f.flow_id)}", ""]
                if f.evidence:
                    out += [f"{label('evidence', lang)}:", "", fenced(list(f.evidence)), ""]
                out += [f"{label('remediation', lang)}: {cell(pick(f.remediation, lang))}", ""]
        out += [f"## {label('checks', lang)}", ""]
        out += [
            f"| {label('checks', lang)} | {label('status', lang)} | {label('path', lang)} "
            f"| {label('reason', lang)} |",
            "|---|---|---|---|",
        ]
        for c in checks:
            reasons = "; ".join(ep.reason for ep in c.endpoints if ep.reason)
            if not c.endpoints:
                reasons = label("not_audited", lang)
            out.append(
                f"| {code(c.label)} | {pick(STATUS_LABELS[c.status], lang)} "
                f"| {cell(c.path_id or '')} | {cell(reasons)} |"
            )
        return "\n".join(out) + "\n"


def _score_text(score: int | None) -> str:
    return "–" if score is None else str(score)

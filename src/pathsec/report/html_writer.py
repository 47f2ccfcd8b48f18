"""HTML: one self-contained page (CSS and JS inline, no fetches) in English and Chinese.

With a plan the page holds the plan's sections (:mod:`pathsec.report.plan_html`: diagram,
zones, firewalls, hosts, topology findings, firewall rules, flows) with each flow coloured
by its check's status; without one, the diagram draws the vantage point and the audited
hosts. See :mod:`pathsec.report.html_page` for how server text is kept inert.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pathsec.audit.models import Finding, Text
from pathsec.report.checks import (
    Check,
    Score,
    build_checks,
    endpoint_label,
    overall_score,
    path_names,
    safe,
    scores_by,
    severity_counts,
    status_counts,
)
from pathsec.report.facts import fact_text, observation_facts, transcripts
from pathsec.report.finding_groups import FindingGroup, group_findings
from pathsec.report.html_page import render_page, script_labels
from pathsec.report.i18n import LABELS, SEVERITY_LABELS, STATUS_LABELS
from pathsec.report.interface import ReportFormat, ReportInput, Writer
from pathsec.report.plan_html import plan_sections
from pathsec.report.plan_view import FlowState, endpoint_view_data, script_json, zone_kinds


def _safe_text(text: Text) -> Text:
    return Text(en=safe(text.en), zh=safe(text.zh))


@dataclass(frozen=True)
class _FindingView:
    id: str
    severity: str
    severity_label: Text
    title: Text
    remediation: Text
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class _EndpointView:
    label: str
    status: str
    reason: str | None
    facts: tuple[tuple[str, str], ...]
    transcripts: tuple[tuple[str, tuple[str, ...]], ...]


def _finding_view(f: Finding) -> _FindingView:
    return _FindingView(
        id=f.id,
        severity=f.severity.value,
        severity_label=SEVERITY_LABELS[f.severity],
        title=_safe_text(f.title),
        remediation=_safe_text(f.remediation),
        evidence=tuple(safe(e) for e in f.evidence),
    )


def _check_view(c: Check, names: dict[str, tuple[str, str]]) -> dict[str, Any]:
    eps = [
        _EndpointView(
            label=safe(endpoint_label(ep.host, ep.port, ep.protocol.value)),
            status=ep.status.value,
            reason=safe(ep.reason) if ep.reason else None,
            facts=tuple(
                (safe(k), safe(fact_text(v))) for k, v in observation_facts(ep.observations).items()
            ),
            transcripts=tuple(
                (p, tuple(safe(x) for x in lines))
                for p, lines in transcripts(ep.observations).items()
            ),
        )
        for ep in c.endpoints
    ]
    name = names.get(c.path_id or "")
    return {
        "anchor": c.anchor,
        "label": safe(c.label),
        "status": c.status,
        "path_id": c.path_id,
        "path_name": Text(en=name[0], zh=name[1]) if name else None,
        "flow": c.flow,
        "roles": c.roles,
        "endpoints": eps,
        "findings": [_finding_view(f) for f in c.findings],
    }


def _score_text(score: int | None) -> str:
    return "–" if score is None else str(score)


def _filter_values(groups: list[FindingGroup]) -> list[tuple[str, list[str]]]:
    return [
        ("host", sorted({g.host for g in groups})),
        ("role", sorted({x for g in groups for x in g.roles})),
        ("path", sorted({p for g in groups for p, _ in g.paths})),
        ("protocol", sorted({g.protocol for g in groups})),
    ]


class HtmlWriter(Writer):
    """The self-contained HTML report."""

    format: ClassVar[ReportFormat] = ReportFormat.html
    suffix: ClassVar[str] = ".html"
    media_type: ClassVar[str] = "text/html"

    def render(self, report: ReportInput) -> str:
        """The page as text."""
        r = report.result
        plan = report.plan
        checks = build_checks(r, plan, report.fail_on)
        check_of: dict[int, Check] = {id(f): c for c in checks for f in c.findings}
        groups = group_findings(r.findings, lambda f: check_of.get(id(f)))
        names = path_names()
        # With a plan, every flow is in the flows table; a detail is kept for what was
        # audited (an endpoint or a finding), which the table and the diagram link to.
        detailed = [c for c in checks if plan is None or c.endpoints or c.findings]
        check_views = [_check_view(c, names) for c in detailed]
        anchors = {c.anchor for c in detailed}
        zone_scores: list[Score] = scores_by(checks, "zone")
        if plan is not None:
            states = {
                c.flow.id: FlowState(c.status.value, c.anchor if c.anchor in anchors else None)
                for c in checks
                if c.flow is not None
            }
            sections = plan_sections(plan, states, mode="audit")
            data_json = sections.data_json
            scored = {s.group for s in zone_scores}
            zone_scores += [Score(z, None, 0, 0, 0) for z in zone_kinds(plan) if z not in scored]
        else:
            sections = None
            v, a = LABELS["vantage"], LABELS["endpoints_zone"]
            data = endpoint_view_data(checks, (v.en, v.zh), (a.en, a.zh))
            data["labels"] = script_labels()
            data_json = script_json(data)
        score_groups = [
            (what, s)
            for what, s in (("role", scores_by(checks, "role")), ("zone", zone_scores))
            if s
        ]
        title = report.title or LABELS["title"].en
        return render_page(
            "report.html.j2",
            lang=report.lang,
            page_title=safe(title),
            custom_title=safe(report.title) if report.title else None,
            result=r,
            plan=plan,
            plan_view=sections,
            data_json=data_json,
            legend=[(st.value, STATUS_LABELS[st]) for st in STATUS_LABELS],
            severity_labels=SEVERITY_LABELS,
            status_labels=STATUS_LABELS,
            severity_counts=list(severity_counts(r.findings).items()),
            status_counts=list(status_counts(checks).items()),
            overall=overall_score(checks),
            score_groups=score_groups,
            score_text=_score_text,
            groups=groups,
            findings_total=len(r.findings),
            filter_values=_filter_values(groups),
            checks=checks,
            check_views=check_views,
        )

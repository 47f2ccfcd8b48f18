"""HTML: one self-contained page (CSS and JS inline, no fetches) in English and Chinese.

Server text reaches the page only through Jinja2 autoescaping; the script only moves
nodes and sets ``textContent``/attributes. A Content-Security-Policy allows the page's own
script (by hash) and nothing else, so even a missed escape could not run code or fetch.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import jinja2

from pathsec import __version__
from pathsec.audit.models import Finding, Text
from pathsec.report.checks import (
    Check,
    build_checks,
    endpoint_label,
    overall_score,
    path_names,
    safe,
    scores_by,
    severity_counts,
    status_counts,
)
from pathsec.report.diagram import endpoint_diagram, plan_diagram
from pathsec.report.facts import fact_text, observation_facts, transcripts
from pathsec.report.i18n import LABELS, SEVERITY_LABELS, STATUS_LABELS
from pathsec.report.interface import ReportFormat, ReportInput, Writer


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("pathsec.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _safe_text(text: Text) -> Text:
    return Text(en=safe(text.en), zh=safe(text.zh))


@dataclass(frozen=True)
class _FindingView:
    id: str
    severity: str
    severity_label: Text
    rank: int
    title: Text
    remediation: Text
    host: str
    port: int
    protocol: str
    roles: tuple[str, ...]
    path: str
    anchor: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class _EndpointView:
    label: str
    status: str
    reason: str | None
    facts: tuple[tuple[str, str], ...]
    transcripts: tuple[tuple[str, tuple[str, ...]], ...]


def _finding_view(f: Finding, check: Check | None) -> _FindingView:
    return _FindingView(
        id=f.id,
        severity=f.severity.value,
        severity_label=SEVERITY_LABELS[f.severity],
        rank=f.severity.rank,
        title=_safe_text(f.title),
        remediation=_safe_text(f.remediation),
        host=safe(f.host),
        port=f.port,
        protocol=f.protocol.value,
        roles=check.roles if check else (),
        path=safe(f.path_id or ""),
        anchor=check.anchor if check else "",
        evidence=tuple(safe(e) for e in f.evidence),
    )


def _score_text(score: int | None) -> str:
    return "–" if score is None else str(score)


def _script_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


class HtmlWriter(Writer):
    """The self-contained HTML report."""

    format: ClassVar[ReportFormat] = ReportFormat.html
    suffix: ClassVar[str] = ".html"
    media_type: ClassVar[str] = "text/html"

    def render(self, report: ReportInput) -> str:
        """The page as text."""
        r = report.result
        checks = build_checks(r, report.plan, report.fail_on)
        check_of: dict[int, Check] = {id(f): c for c in checks for f in c.findings}
        findings = [_finding_view(f, check_of.get(id(f))) for f in r.findings]
        names = path_names()
        check_views: list[dict[str, Any]] = []
        for c in checks:
            eps = [
                _EndpointView(
                    label=safe(endpoint_label(ep.host, ep.port, ep.protocol.value)),
                    status=ep.status.value,
                    reason=safe(ep.reason) if ep.reason else None,
                    facts=tuple(
                        (safe(k), safe(fact_text(v)))
                        for k, v in observation_facts(ep.observations).items()
                    ),
                    transcripts=tuple(
                        (p, tuple(safe(x) for x in lines))
                        for p, lines in transcripts(ep.observations).items()
                    ),
                )
                for ep in c.endpoints
            ]
            name = names.get(c.path_id or "")
            check_views.append(
                {
                    "anchor": c.anchor,
                    "label": safe(c.label),
                    "status": c.status,
                    "path_id": c.path_id,
                    "path_name": Text(en=name[0], zh=name[1]) if name else None,
                    "flow": c.flow,
                    "roles": c.roles,
                    "endpoints": eps,
                    "findings": [_finding_view(f, c) for f in c.findings],
                }
            )
        if report.plan is not None:
            diagram = plan_diagram(report.plan, checks)
        else:
            diagram = endpoint_diagram(checks, LABELS["vantage"].en)
        filter_values = [
            ("host", sorted({f.host for f in findings})),
            ("role", sorted({x for f in findings for x in f.roles})),
            ("path", sorted({f.path for f in findings if f.path})),
            ("protocol", sorted({f.protocol for f in findings})),
        ]
        env = _env()
        script = env.get_template("report.js.j2").render()
        css = env.get_template("report.css.j2").render()
        title = report.title or LABELS["title"].en
        return env.get_template("report.html.j2").render(
            lang=report.lang,
            title=safe(title),
            custom_title=safe(report.title) if report.title else None,
            version=__version__,
            result=r,
            plan=report.plan,
            labels=LABELS,
            severity_labels=SEVERITY_LABELS,
            status_labels=STATUS_LABELS,
            severity_counts=list(severity_counts(r.findings).items()),
            status_counts=list(status_counts(checks).items()),
            overall=overall_score(checks),
            score_groups=[(what, s) for what in ("role", "zone") if (s := scores_by(checks, what))],
            score_text=_score_text,
            diagram=diagram,
            findings=findings,
            filter_values=filter_values,
            checks=checks,
            check_views=check_views,
            css=css,
            script=script,
            script_hash=_script_hash(script),
        )

"""JUnit XML: one test suite per destination host, one test case per check (flow/endpoint).

A check fails when it has findings at or above ``fail_on``; closed and unobservable checks
are skipped with the reason; findings below the threshold go to ``system-out``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import ClassVar

from pathsec.report.checks import Check, CheckStatus, build_checks, endpoint_label, safe
from pathsec.report.i18n import pick
from pathsec.report.interface import ReportFormat, ReportInput, Writer


def _case(check: Check, report: ReportInput) -> tuple[ET.Element, str]:
    """The test case and its outcome (``pass``, ``failure``, ``skipped``)."""
    case = ET.Element(
        "testcase",
        name=safe(check.label),
        classname=safe(f"pathsec.{check.path_id or check.protocol or 'endpoint'}"),
        time="0",
    )
    failing = [f for f in check.findings if f.severity.rank >= report.fail_on.rank]
    other = [f for f in check.findings if f.severity.rank < report.fail_on.rank]
    outcome = "pass"
    if failing:
        outcome = "failure"
        first = failing[0]
        el = ET.SubElement(
            case,
            "failure",
            message=safe(
                f"{len(failing)} finding(s); first: {first.id} {pick(first.title, report.lang)}"
            ),
            type=first.id,
        )
        parts = []
        for f in failing:
            parts.append(
                f"[{f.severity.value}] {f.id} {safe(pick(f.title, report.lang))} at "
                f"{safe(endpoint_label(f.host, f.port, f.protocol.value))}"
            )
            parts += [f"  {safe(e)}" for e in f.evidence]
            parts.append(f"  -> {safe(pick(f.remediation, report.lang))}")
        el.text = "\n".join(parts)
    elif check.status in (CheckStatus.closed, CheckStatus.not_observable):
        outcome = "skipped"
        reasons = "; ".join(ep.reason for ep in check.endpoints if ep.reason)
        ET.SubElement(
            case,
            "skipped",
            message=safe(f"{check.status.value}: {reasons or 'not audited'}"),
        )
    if other:
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join(
            f"[{f.severity.value}] {f.id} {safe(pick(f.title, report.lang))}" for f in other
        )
    return case, outcome


class JunitWriter(Writer):
    """JUnit XML (the common Jenkins/GitLab/Azure flavour)."""

    format: ClassVar[ReportFormat] = ReportFormat.junit
    suffix: ClassVar[str] = ".xml"
    media_type: ClassVar[str] = "application/xml"

    def render(self, report: ReportInput) -> str:
        """The XML document as text."""
        checks = build_checks(report.result, report.plan, report.fail_on)
        root = ET.Element("testsuites", name="pathsec audit")
        suites: dict[str, ET.Element] = {}
        tallies: dict[str, dict[str, int]] = {}
        for check in checks:
            host = safe(check.host)
            if host not in suites:
                suites[host] = ET.SubElement(
                    root, "testsuite", name=host, timestamp=safe(report.result.started)
                )
                tallies[host] = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
            case, outcome = _case(check, report)
            suites[host].append(case)
            tallies[host]["tests"] += 1
            if outcome == "failure":
                tallies[host]["failures"] += 1
            elif outcome == "skipped":
                tallies[host]["skipped"] += 1
        total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for host, suite in suites.items():
            for k, v in tallies[host].items():
                suite.set(k, str(v))
                total[k] += v
            suite.set("time", "0")
        for k, v in total.items():
            root.set(k, str(v))
        root.set("time", "0")
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"

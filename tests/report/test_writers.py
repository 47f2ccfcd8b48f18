"""Every writer: the format table, golden files, and format-specific structure and safety."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from pathsec.audit.models import AuditResult, FindingSeverity
from pathsec.report import (
    WRITERS,
    ReportFormat,
    ReportInput,
    Writer,
    render,
    writer_class,
    writer_for,
)
from pathsec.report.checks import CheckStatus, build_checks, overall_score, scores_by
from report.golden import check_golden
from report.sample import FLOW_EDGE, FLOW_UNAUDITED, HOSTILE, sample_plan, sample_result

SCHEMA = json.loads((Path(__file__).parent / "sarif-schema-2.1.0.json").read_text())


def _input(**kw: object) -> ReportInput:
    kw.setdefault("plan", sample_plan())
    return ReportInput(sample_result(), **kw)  # type: ignore[arg-type]


def test_every_format_maps_to_a_writer() -> None:
    assert set(WRITERS) == set(ReportFormat)
    for fmt in WRITERS:
        cls = writer_class(fmt)
        assert issubclass(cls, Writer)
        assert cls.format is fmt
        assert isinstance(writer_for(fmt), cls)
        assert render(fmt, _input()).strip()


@pytest.mark.parametrize(
    ("name", "fmt", "kw"),
    [
        ("sample.md", ReportFormat.markdown, {}),
        ("sample.zh.md", ReportFormat.markdown, {"lang": "zh"}),
        ("sample.csv", ReportFormat.csv, {}),
        ("sample.sarif", ReportFormat.sarif, {}),
        ("sample.junit.xml", ReportFormat.junit, {}),
        ("sample.html", ReportFormat.html, {}),
        ("sample-noplan.html", ReportFormat.html, {"plan": None, "lang": "zh"}),
        ("sample.txt", ReportFormat.table, {}),
        ("sample.zh.txt", ReportFormat.table, {"lang": "zh"}),
        ("sample-noplan.txt", ReportFormat.table, {"plan": None}),
    ],
)
def test_golden(name: str, fmt: ReportFormat, kw: dict[str, object]) -> None:
    check_golden(name, render(fmt, _input(**kw)))


def test_check_statuses_and_scores() -> None:
    checks = build_checks(sample_result(), sample_plan())
    status = {c.key: c.status for c in checks}
    assert status == {
        FLOW_EDGE: CheckStatus.finding,
        "transport.edge_to_hub:edge1->hub1:tcp/25": CheckStatus.passed,  # info only
        "client_access.imap4:clients->cas1:tcp/143": CheckStatus.closed,
        "client_access.pop3:clients->cas1:tcp/110": CheckStatus.not_observable,
        FLOW_UNAUDITED: CheckStatus.not_observable,
        "198.51.100.7:587/smtp": CheckStatus.finding,
    }
    # edge flow: worst high (0.3); hub: 1.0; imap closed with a medium finding: 0.6;
    # the unplanned endpoint: critical (0.0); two unobservable checks do not count.
    assert overall_score(checks).score == round(100 * (0.3 + 1.0 + 0.6 + 0.0) / 4)
    zones = {s.group: s for s in scores_by(checks, "zone")}
    assert zones["perimeter"].score == 30
    assert zones["internal"].score == 80 and zones["internal"].observed == 2
    assert zones["internal"].checks == 4
    roles = {s.group: s.score for s in scores_by(checks, "role")}
    assert roles == {"client_access": 60, "edge_transport": 30, "hub_transport": 100}


def test_fail_on_moves_the_finding_threshold() -> None:
    checks = build_checks(sample_result(), sample_plan(), FindingSeverity.critical)
    status = {c.key: c.status for c in checks}
    assert status[FLOW_EDGE] is CheckStatus.passed
    assert status["198.51.100.7:587/smtp"] is CheckStatus.finding


def test_sarif_validates_and_maps_findings() -> None:
    doc = json.loads(render(ReportFormat.sarif, _input()))
    jsonschema.Draft4Validator(SCHEMA).validate(doc)
    run = doc["runs"][0]
    result = sample_result()
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == sorted(
        {f.id for f in result.findings}
    )
    rules = run["tool"]["driver"]["rules"]
    for r in run["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels == {
        "PS-SMTP-002": "error",
        "PS-SMTP-001": "error",
        "PS-TLS-003": "warning",
        "PS-TCP-001": "warning",
        "PS-TLS-010": "note",
        "PS-SMTP-004": "note",
    }
    first = run["results"][0]
    loc = first["locations"][0]
    assert loc["physicalLocation"]["artifactLocation"]["uri"] == "smtp://edge1.example.test:25"
    assert loc["logicalLocations"][0]["name"] == "edge1.example.test:25/smtp"
    assert first["properties"]["path_id"] == "transport.edge_to_edge"
    assert first["properties"]["flow_id"] == FLOW_EDGE
    # Both languages in the rule help.
    help_text = next(r for r in rules if r["id"] == "PS-SMTP-001")["help"]["text"]
    assert "Fix PS-SMTP-001" in help_text and "修正 PS-SMTP-001" in help_text


def test_sarif_schema_check_can_fail() -> None:
    doc = json.loads(render(ReportFormat.sarif, _input()))
    doc["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate(doc)


def test_junit_structure() -> None:
    root = ET.fromstring(render(ReportFormat.junit, _input()))
    assert root.tag == "testsuites"
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == 6 == int(root.get("tests", "0"))
    by_name = {c.get("name"): c for c in cases}
    edge = by_name[FLOW_EDGE]
    failure = edge.find("failure")
    assert failure is not None and failure.get("type") == "PS-SMTP-001"
    assert "PS-TLS-010" in (failure.text or "")  # every failing finding is listed
    assert by_name["transport.edge_to_hub:edge1->hub1:tcp/25"].find("failure") is None
    assert "PS-SMTP-004" in (
        by_name["transport.edge_to_hub:edge1->hub1:tcp/25"].findtext("system-out") or ""
    )
    assert by_name[FLOW_UNAUDITED].find("skipped") is not None
    assert root.get("failures") == "3" and root.get("skipped") == "2"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"edge1", "hub1", "cas1", "198.51.100.7"}
    assert sum(int(s.get("tests", "0")) for s in suites.values()) == 6
    strict = ET.fromstring(render(ReportFormat.junit, _input(fail_on=FindingSeverity.critical)))
    assert strict.get("failures") == "1"


def test_csv_rows_and_formula_defused() -> None:
    rows = list(csv.reader(io.StringIO(render(ReportFormat.csv, _input()))))
    assert rows[0][:3] == ["severity", "id", "title"]
    assert len(rows) == 1 + len(sample_result().findings)
    evidence = {r[1]: r[8] for r in rows[1:]}
    assert evidence["PS-TLS-010"].startswith("'=cmd")
    assert evidence["PS-SMTP-001"].count("\n") == 1
    assert "\x1b" not in render(ReportFormat.csv, _input())


def test_markdown_escapes_server_text() -> None:
    md = render(ReportFormat.markdown, _input())
    assert "<script>" not in md.split("```")[0]  # outside code blocks no raw HTML
    table_line = next(
        line for line in md.splitlines() if "PS-SMTP-002" in line and line.startswith("|")
    )
    assert table_line.count(" | ") == 4  # the title's pipes did not add cells
    block = re.search(r"(`{4,})text\nAUTH CRAM-MD5.*?\n\1", md, re.S)
    assert block is not None  # the fence is longer than the ``` inside the evidence
    assert "\x1b" not in md


def test_json_round_trips() -> None:
    text = render(ReportFormat.json, _input())
    assert json.loads(text)["schema_version"] == 1
    assert AuditResult.model_validate_json(text) == sample_result()


def test_table_is_inert_and_translated() -> None:
    en = render(ReportFormat.table, _input())
    assert "\x1b" not in en and "\\x1b[31mRED" in en
    zh = render(ReportFormat.table, _input(lang="zh"))
    assert "严重性" in zh and "有发现" in zh


def _data_block(page: str) -> dict[str, object]:
    m = re.search(r'<script type="application/json" id="pathsec-data">(.*?)</script>', page, re.S)
    assert m is not None
    return json.loads(m.group(1))  # type: ignore[no-any-return]


def test_html_static_safety() -> None:
    page = render(ReportFormat.html, _input())
    assert HOSTILE not in page
    assert "<script>alert(1)" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # One script that runs, one JSON data block that does not; no markup from the script.
    assert page.count("<script>") == 1 and page.count("<script") == 2
    assert "innerHTML" not in page and "insertAdjacentHTML" not in page
    # Self-contained: no external resources.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "@import" not in page and "url(" not in page
    ids = set(re.findall(r'id="([^"]+)"', page))
    links = re.findall(r'<a href="#([^"]+)"', page)
    assert links and all(link in ids for link in links)
    # The diagram is drawn from the data: every planned flow, with its status and detail.
    data = _data_block(page)
    flows = data["flows"]
    assert isinstance(flows, dict)
    assert flows["id"] == [f.id for f in sample_plan().flows]
    assert flows["status"] == ["finding", "pass", "closed", "not_observable", "not_observable"]
    anchors = [data["strings"][a] if a >= 0 else None for a in flows["anchor"]]  # type: ignore[index]
    assert anchors[:4] == [a for a in anchors[:4] if a in ids] and anchors[4] is None


def test_html_data_block_cannot_close_its_script() -> None:
    """Plan text (a plan JSON can hold anything) stays data inside the JSON block."""
    bad = "</script><script>alert(1)</script><!-- \u2028 & >"
    plan = sample_plan()
    plan = plan.model_copy(
        update={"hosts": (plan.hosts[0].model_copy(update={"name": bad}), *plan.hosts[1:])}
    )
    page = render(ReportFormat.html, _input(plan=plan))
    block = re.search(r'id="pathsec-data">(.*?)</script>', page, re.S)
    assert block is not None
    assert "<" not in block.group(1) and "\u2028" not in block.group(1)
    names = [h["name"] for h in _data_block(page)["hosts"]]  # type: ignore[attr-defined, index]
    # U+2028 is a line separator: shown as its escape (pathsec.quoting.terminal)
    assert "</script><script>alert(1)</script><!-- \\u2028 & >" in names
    assert page.count("<script>") == 1


def test_html_groups_findings_per_endpoint_and_check() -> None:
    """Five findings of one check on one endpoint, one per path: one row listing five paths."""
    base = sample_result()
    one = base.findings[0]
    paths = [
        "client_access.owa",
        "client_access.eas",
        "client_access.ews",
        "client_access.oab",
        "client_access.autodiscover",
    ]
    many = tuple(one.model_copy(update={"path_id": p, "flow_id": None}) for p in paths)
    result = base.model_copy(update={"findings": (*many, *base.findings[1:])})
    page = render(ReportFormat.html, ReportInput(result, sample_plan()))
    rows = re.findall(
        r'<tr data-rank="\d+" data-severity="\w+" data-id="([^"]+)"[^>]*data-count="(\d+)"', page
    )
    assert len(rows) == len(base.findings)  # five grouped into one, five others
    assert rows[0] == (one.id, "5")
    assert sum(int(n) for _, n in rows) == len(result.findings)
    row = page[page.index(f'data-id="{one.id}"') :].split("</tr>")[0]
    assert all(p in row for p in paths)
    assert f'(<span id="shown-count">{len(result.findings)}</span>' in page


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_empty_result_renders(fmt: ReportFormat) -> None:
    empty = AuditResult(
        started="s", finished="f", complete=False, profile="reference", endpoints=(), findings=()
    )
    text = render(fmt, ReportInput(empty))
    assert text.strip()
    if fmt is ReportFormat.sarif:
        doc = json.loads(text)
        jsonschema.Draft4Validator(SCHEMA).validate(doc)
        assert (
            doc["runs"][0]["results"] == []
            and doc["runs"][0]["invocations"][0]["executionSuccessful"] is False
        )
    if fmt is ReportFormat.junit:
        assert ET.fromstring(text).get("tests") == "0"
    if fmt is ReportFormat.html:
        assert "The run was cut short" in text and "No findings." in text


def test_json_escapes_c1_controls_and_line_separators() -> None:
    """Server text with U+009B (CSI), U+0085 and U+2028 keeps its value but not raw."""
    from pathsec.jsontext import escape_controls

    text = "banner\x9b31m\x85next\u2028line é 中"
    out = escape_controls(json.dumps({"banner": text}, ensure_ascii=False))
    assert json.loads(out) == {"banner": text}
    assert not any(c in out for c in "\x9b\x85\u2028")
    assert "é 中" in out  # other non-ASCII text stays readable


def test_table_shows_a_repeated_finding_once_with_its_endpoints() -> None:
    base = sample_result()
    f = base.findings[0]
    many = [f.model_copy(update={"host": f"h{i}.example.test"}) for i in range(30)]
    # One of them reads differently: its evidence has one more line.
    many[7] = many[7].model_copy(update={"evidence": (*f.evidence, "only here")})
    result = base.model_copy(update={"findings": (*many, *base.findings[1:])})
    out = render(ReportFormat.table, ReportInput(result, None))
    assert out.count(f.id) == 1 + sum(g.id == f.id for g in base.findings[1:])
    assert "30 endpoints:" in out
    for i in range(30):
        assert f"h{i}.example.test:{f.port}/{f.protocol.value}" in out
    assert "only here" not in out and "more evidence, per endpoint" in out
    zh = render(ReportFormat.table, ReportInput(result, None, lang="zh"))
    assert "30 个终结点" in zh
    # The other formats still list every finding.
    md = render(ReportFormat.markdown, ReportInput(result, None))
    assert "only here" in md


def test_table_caps_rows_and_shows_the_worst_checks_first() -> None:
    from pathsec.report.table_writer import MAX_ROWS

    base = sample_result()
    hosts = [f"h{i}.example.test" for i in range(MAX_ROWS // 4)]  # 5 endpoints each
    endpoints = tuple(e.model_copy(update={"host": h}) for h in hosts for e in base.endpoints)
    last = hosts[-1]
    # Findings on the last host only: in audit order its checks come last.
    findings = tuple(f.model_copy(update={"host": last}) for f in base.findings)
    result = base.model_copy(update={"endpoints": endpoints, "findings": findings})
    out = render(ReportFormat.table, ReportInput(result, None))
    n_checks = len(endpoints)
    assert n_checks > MAX_ROWS
    assert f"… and {n_checks - MAX_ROWS:,} more checks" in out
    checks_part = out[out.index("Checks") :]
    assert last in checks_part  # cut rows: the worst first
    # A finding on more endpoints than the cap: counted, the first MAX_ROWS listed.
    f0 = base.findings[0]
    many = tuple(f0.model_copy(update={"host": f"m{i}.example.test"}) for i in range(MAX_ROWS + 7))
    out = render(ReportFormat.table, ReportInput(base.model_copy(update={"findings": many}), None))
    assert f"{MAX_ROWS + 7:,} endpoints:" in out and "… and 7 more" in out
    assert "m0.example.test" in out and f"m{MAX_ROWS + 6}.example.test" not in out

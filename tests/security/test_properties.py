"""Hostile strings in every string field of a deployment, a plan JSON, a catalog and a
results file: each is refused (one line, exit 2) or yields artefacts the real tools read
as exactly the rules of the clean input.

Fields are every string value and every mapping key of the documents; values come from
:data:`security.hostile.CORPUS` and hypothesis. Example counts are fixed (and the seed is
fixed under ``CI``), so the whole file runs in well under a minute.
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rich.console import Console

from firewall.conftest import need
from firewall.windows_syntax import check_cmd
from pathsec.audit.resultfile import load_result_text
from pathsec.catalog.loader import builtin_catalog_text
from pathsec.catalog.models import Catalog
from pathsec.cli.catalog_cmd import HEADERS, path_row
from pathsec.cli.common import Lang
from pathsec.cli.main import run
from pathsec.cli.tabular import Tabular, print_table, to_csv, to_markdown
from pathsec.errors import InputError
from pathsec.firewall import GeneratorOptions, Selection, Target, generate
from pathsec.firewall.csv_matrix import HEADER as MATRIX_HEADER
from pathsec.firewall.csv_matrix import MATRIX_FILE
from pathsec.firewall.interface import FirewallError
from pathsec.plan import build_plan
from pathsec.plan.load import load_plan_text
from pathsec.plan.models import Plan
from pathsec.quoting import terminal
from pathsec.report import ReportFormat, ReportInput, writer_for
from pathsec.topology.loader import load_deployment_text
from pathsec.yamlfile import load_yaml_text, validate_located
from report.sample import sample_plan, sample_result
from security.hostile import (
    aerleon_render,
    assert_inert_text,
    assert_markdown_inert,
    base_deployment,
    csv_rows,
    hostile_text,
    iptables_listing,
    markdown_tags,
    md_table_cells,
    nft_listing,
    non_comment_lines,
    options_for,
    printable_hostile,
    ps_program,
    put,
    reg_entries,
    render_all,
    string_fields,
    yaml_text,
)

PY = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
TOOLS = settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))


def refused(exc: InputError) -> None:
    """What a refusal must look like: one line naming the file, inert on a terminal."""
    line = f"pathsec: error: {terminal(exc)}"
    assert "\n" not in line and "\r" not in line
    assert_inert_text(line)
    event("refused: one line, exit 2")


# --- the clean artefacts -----------------------------------------------------------------

BASE = base_deployment()
DEPLOYMENT_FIELDS = sorted(string_fields(BASE), key=repr)


@cache
def clean_plan() -> Plan:
    from pathsec.catalog import load_catalog

    return build_plan(load_catalog(), load_deployment_text(yaml_text(BASE), "d.yaml"), "d.yaml")


@cache
def clean_files() -> dict[str, bytes]:
    return render_all(clean_plan())


def assert_same_rules(files: dict[str, bytes]) -> None:
    """The artefacts equal the clean ones except in comments, and every comment and
    string is well-formed for its language (checked without the real tools)."""
    clean = clean_files()
    assert sorted(files) == sorted(clean)
    for name, data in files.items():
        if name.endswith(".ps1"):
            assert ps_program(data) == ps_program(clean[name]), name
        elif name.endswith(".reg"):
            assert reg_entries(data) == reg_entries(clean[name]), name
        elif name.endswith(".cmd"):
            text, old = data.decode("ascii"), clean[name].decode("ascii")  # ASCII or it fails
            flavour = "2008-r2" if "netsh advfirewall" in text else "2003"
            assert check_cmd(text, flavour) == [], name  # the netsh grammar, rem lines included
            assert non_comment_lines(text, ("rem",)) == non_comment_lines(old, ("rem",)), name
            assert text.count("\r\n") == old.count("\r\n"), name
        else:
            text = data.decode("utf-8")
            assert_inert_text(text.replace("\r\n", "\n"))
            if name.endswith(".csv"):
                assert csv_rows(text) == csv_rows(clean[name].decode("utf-8"))
            else:
                old = clean[name].decode("utf-8")
                assert non_comment_lines(text) == non_comment_lines(old), name
                assert text.count("\n") == old.count("\n"), name


# --- deployments -------------------------------------------------------------------------


@PY
@given(field=st.sampled_from(DEPLOYMENT_FIELDS), value=hostile_text)
def test_deployment_field(field: tuple[Any, ...], value: str) -> None:
    text = yaml_text(put(BASE, field, value))
    try:
        dep = load_deployment_text(text, "d.yaml")
    except InputError as exc:
        refused(exc)
        return
    from pathsec.catalog import load_catalog

    try:
        plan = build_plan(load_catalog(), dep, "d.yaml")
        files = render_all(plan)
    except FirewallError as exc:  # e.g. a Junos interface name for a Linux target
        assert "\n" not in str(exc)
        event("refused by a generator: one line, exit 3")
        return
    if plan.hosts == clean_plan().hosts and plan.firewalls == clean_plan().firewalls:
        assert_same_rules(files)
        event("accepted: same rules as the clean input")
    else:
        event("accepted: another valid deployment")


ACCEPTING = [("organization", "name"), ("sites", 0, "description")]


@pytest.mark.root
@TOOLS
@given(value=hostile_text, where=st.sampled_from(ACCEPTING))
def test_deployment_text_fields_with_the_real_tools(
    value: str, where: tuple[Any, ...], scratch_netns: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Free-text fields that are accepted: nft, iptables and aerleon read the same rules."""
    need("iptables-restore")
    try:
        dep = load_deployment_text(yaml_text(put(BASE, where, value)), "d.yaml")
    except InputError as exc:
        refused(exc)
        return
    from pathsec.catalog import load_catalog

    files = render_all(build_plan(load_catalog(), dep, "d.yaml"))
    assert_same_rules(files)
    event("accepted: nft, iptables, aerleon read the clean rules")
    folder = tmp_path_factory.mktemp("rules")
    clean = clean_files()
    for name, data in files.items():
        path = folder / name.replace("/", "_")
        if name.endswith(".nft"):
            path.write_bytes(data)
            got = nft_listing(scratch_netns, path)
            path.write_bytes(clean[name])
            assert got == nft_listing(scratch_netns, path), name
        elif ".rules.v" in name:
            v6 = name.endswith(".v6")
            path.write_bytes(data)
            got_rules = iptables_listing(scratch_netns, path, v6)
            path.write_bytes(clean[name])
            assert got_rules == iptables_listing(scratch_netns, path, v6), name
    assert aerleon_render(files) == aerleon_render(clean)


# --- plan JSON ---------------------------------------------------------------------------


@cache
def plan_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(clean_plan().model_dump_json())
    return data


@cache
def plan_fields() -> list[tuple[Any, ...]]:
    return sorted(string_fields(plan_data()), key=repr)


@PY
@given(data=st.data(), value=hostile_text)
def test_plan_json_field(data: st.DataObject, value: str) -> None:
    field = data.draw(st.sampled_from(plan_fields()))
    text = json.dumps(put(plan_data(), field, value), ensure_ascii=bool(data.draw(st.booleans())))
    try:
        plan = load_plan_text(text, "plan.json")
    except InputError as exc:
        refused(exc)
        return
    try:
        files = render_all(plan)
    except FirewallError as exc:  # refused by a generator (one line, exit 3), not widened
        assert "\n" not in str(exc)
        event("refused by a generator: one line, exit 3")
        return
    clean = clean_plan()
    if (
        plan.hosts == clean.hosts
        and plan.firewalls == clean.firewalls
        and [f.id for f in plan.flows] == [f.id for f in clean.flows]
    ):
        assert_same_rules(files)
        event("accepted: same rules as the clean input")
        return
    event("accepted: another valid plan")


def test_plan_json_and_deployment_refuse_alike(tmp_path: Path, capsys) -> None:
    """The same bad name: the same words from ``validate`` and from ``firewall plan.json``."""
    dep = tmp_path / "d.yaml"
    dep.write_text(yaml_text(put(BASE, ("servers", 1, "name"), "EX1;reboot")), "utf-8")
    plan = tmp_path / "p.json"
    plan.write_text(
        json.dumps(put(plan_data(), ("hosts", 1, "name"), "EX1;reboot"), indent=2), "utf-8"
    )
    assert run(["validate", str(dep)]) == 2
    err_dep = capsys.readouterr().err.strip()
    assert run(["firewall", str(plan), "-t", "nftables"]) == 2
    err_plan = capsys.readouterr().err.strip()
    assert len(err_dep.splitlines()) == 1 and len(err_plan.splitlines()) == 1
    assert err_dep.split(": ", 4)[-1] == err_plan.split(": ", 4)[-1]
    assert "'EX1;reboot' is not allowed: a name is letters, digits" in err_plan
    assert ":" in err_plan.split("p.json", 1)[1][:6]  # file:line


# --- catalogs ----------------------------------------------------------------------------


@cache
def catalog_data() -> dict[str, Any]:
    import yaml

    data: dict[str, Any] = yaml.safe_load(builtin_catalog_text())
    return data


@cache
def catalog_fields() -> list[tuple[Any, ...]]:
    return sorted(string_fields(catalog_data()), key=repr)


@cache
def clean_catalog() -> Catalog:
    from pathsec.catalog import load_builtin

    return load_builtin()


def check_catalog_outputs(catalog: Catalog) -> None:
    for lang in (Lang.en, Lang.zh):
        rows = [path_row(p, lang) for p in catalog.paths]
        table = Tabular(HEADERS[lang], rows, "Data paths")
        parsed = csv_rows(to_csv(table))
        assert len(parsed) == len(rows) + 1 and all(len(r) == 8 for r in parsed)
        md = to_markdown(table)
        clean_rows = [path_row(p, lang) for p in clean_catalog().paths]
        if len(clean_rows) == len(rows):
            assert_markdown_inert(md, to_markdown(Tabular(HEADERS[lang], clean_rows, "Data paths")))
        assert set(md_table_cells(md)) == {8}
        buf = io.StringIO()
        print_table(table, Console(file=buf, width=200, force_terminal=True))
        assert "\x1b]" not in buf.getvalue()  # rich's own SGR colours only, no OSC
        assert_inert_text(buf.getvalue().replace("\x1b[", "["))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), value=hostile_text)
def test_catalog_field(data: st.DataObject, value: str) -> None:
    field = data.draw(st.sampled_from(catalog_fields()))
    text = yaml_text(put(catalog_data(), field, value))
    try:
        catalog = validate_located(Catalog, load_yaml_text(text, "c.yaml"))
    except InputError as exc:
        refused(exc)
        return
    check_catalog_outputs(catalog)
    event("accepted: CSV, Markdown and terminal tables inert")
    plan = clean_plan()
    opts = GeneratorOptions(catalog=catalog, protocols=options_for(plan).protocols)
    try:
        files = generate(plan, Target.csv, Selection(), opts)
    except FirewallError as exc:  # the path left the catalog: refused, one line
        assert "\n" not in str(exc)
        return
    matrix = next(f for f in files if f.name == MATRIX_FILE)  # and .flows side files
    rows = csv_rows(matrix.content)
    assert all(len(r) == len(MATRIX_HEADER) for r in rows)


CATALOG_TEXT = ("en", "zh", "label", "reason", "quote_zh", "statement_en")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), value=printable_hostile)
def test_catalog_text_field(data: st.DataObject, value: str) -> None:
    """Text fields of a catalog accept quotes, formulas and Markdown: every output is inert."""
    fields = [f for f in catalog_fields() if f[-1] in CATALOG_TEXT or str(f[-1]).endswith("_raw")]
    field = data.draw(st.sampled_from(fields))
    catalog = validate_located(
        Catalog, load_yaml_text(yaml_text(put(catalog_data(), field, value)), "c.yaml")
    )
    check_catalog_outputs(catalog)
    plan = clean_plan()
    opts = GeneratorOptions(catalog=catalog, protocols=options_for(plan).protocols)
    files = generate(plan, Target.csv, Selection(), opts)
    matrix = next(f for f in files if f.name == MATRIX_FILE)
    assert all(len(r) == len(MATRIX_HEADER) for r in csv_rows(matrix.content))
    event("accepted: CSV, Markdown and terminal tables inert")


# --- results files -----------------------------------------------------------------------


@cache
def result_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(sample_result().model_dump_json())
    return data


@cache
def result_fields() -> list[tuple[Any, ...]]:
    return sorted(string_fields(result_data()), key=repr)


def check_reports(report: ReportInput) -> None:
    table = writer_for(ReportFormat.table).render(report)
    assert_inert_text(table)
    md = writer_for(ReportFormat.markdown).render(report)
    clean = ReportInput(sample_result(), report.plan, title=report.title)
    clean_md = writer_for(ReportFormat.markdown).render(clean)
    assert_markdown_inert(md, clean_md)
    assert_inert_text(md)
    csv_text = writer_for(ReportFormat.csv).render(report)
    rows = csv_rows(csv_text)
    assert len(rows) == len(report.result.findings) + 1 and all(len(r) == 10 for r in rows)
    sarif = json.loads(writer_for(ReportFormat.sarif).render(report))
    for rule in sarif["runs"][0]["tool"]["driver"]["rules"]:
        help_md = rule["help"]["markdown"]
        assert markdown_tags(help_md) == ["p", "strong", "p", "p", "strong", "p"], help_md
    ET.fromstring(writer_for(ReportFormat.junit).render(report))
    js = writer_for(ReportFormat.json).render(report)
    assert json.loads(js) == json.loads(report.result.model_dump_json())
    assert_inert_text(js.replace("\n", ""))


@PY
@given(data=st.data(), value=hostile_text)
def test_results_field(data: st.DataObject, value: str) -> None:
    field = data.draw(st.sampled_from(result_fields()))
    text = json.dumps(put(result_data(), field, value))
    try:
        result = load_result_text(text, "r.json")
    except InputError as exc:
        refused(exc)
        return
    check_reports(ReportInput(result, None))
    check_reports(ReportInput(result, sample_plan(), title=None))
    event("accepted: every report format inert")


def test_every_field_kind_is_reachable() -> None:
    """The walkers see the fields the issue names (so the properties cannot pass vacuously)."""
    dep = {f[:2] for f in DEPLOYMENT_FIELDS}
    assert ("firewalls", 0) in dep and ("organization", "name") in dep
    assert any(f[-2:] == ("internet", "__key__") for f in DEPLOYMENT_FIELDS)  # interface keys
    assert any(f[0] == "flows" and f[-1] == "id" for f in plan_fields())
    assert any(f[0] == "hosts" and f[-1] == "name" for f in plan_fields())
    assert any(f[-2:] == ("name", "en") for f in catalog_fields())
    assert any(f[-1] == "evidence" or f[-2] == "evidence" for f in result_fields())
    assert len(plan_fields()) > 1000 and len(result_fields()) > 50

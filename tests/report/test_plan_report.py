"""The plan report without a browser: its data, its tables, refused rules, Chinese, the CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pathsec.catalog import load_builtin
from pathsec.catalog.models import ROLE_DESCRIPTIONS, Auth, Mechanism, Role
from pathsec.firewall.interface import GeneratorOptions, Selection
from pathsec.firewall.rules import enforcement_points
from pathsec.plan.models import HostKind, Plan
from pathsec.probes.base import Status
from pathsec.report.html_page import assets
from pathsec.report.load import load_plan
from pathsec.report.plan_html import render_plan_html
from pathsec.report.plan_rules import plan_rules
from pathsec.report.plan_view import view_data, zone_columns
from pathsec.report.vocab import TABLES, term
from pathsec.topology.models import ZoneKind
from report.golden import check_golden

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
CLI = [sys.executable, "-c", "from pathsec.cli.main import entry; entry()"]


def _plan(name: str) -> Plan:
    return load_plan(EXAMPLES / name)


def _data(page: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="pathsec-data">(.*?)</script>', page, re.S)
    assert m is not None
    return json.loads(m.group(1))  # type: ignore[no-any-return]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_golden_plan_report(lang: str) -> None:
    plan = load_plan(EXAMPLES / "small.yaml")
    plan = plan.model_copy(update={"source_file": "examples/small.yaml"})
    check_golden(f"plan-small.{lang}.html", render_plan_html(plan, lang))  # type: ignore[arg-type]


def test_zones_in_columns_by_firewall_distance_from_the_internet() -> None:
    cols = zone_columns(_plan("two-sites.yaml"))
    assert cols == {
        "internet": (0, 0),
        "perimeter": (1, 0),
        "hq-internal": (2, 0),
        "branch-internal": (3, 0),
        "management": (3, 1),
        "voice": (3, 2),
    }


def test_zones_without_a_firewall_path_take_their_kind_s_column() -> None:
    plan = _plan("small.yaml")
    plan = plan.model_copy(update={"firewalls": ()})
    cols = zone_columns(plan)
    assert cols == {"internet": (0, 0), "perimeter": (1, 0), "internal": (2, 0)}


def test_data_holds_every_flow_once_and_decodes() -> None:
    plan = _plan("two-sites-large.yaml")
    data = view_data(plan, plan_rules(plan))
    flows = data["flows"]
    n = len(plan.flows)
    assert flows["id"] == [f.id for f in plan.flows]
    for key in ("path", "src", "dst", "port", "label", "auth", "enc", "crosses"):
        assert len(flows[key]) == n, key
    hosts = [h["name"] for h in data["hosts"]]
    fws = [f["name"] for f in data["firewalls"]]
    for i, f in enumerate(plan.flows):
        assert hosts[flows["src"][i]] == f.source and hosts[flows["dst"][i]] == f.destination
        assert data["paths"][flows["path"][i]][0] == f.path_id
        assert [fws[k] for k in data["combos"][flows["crosses"][i]]] == list(f.crosses)
        assert data["combos"][flows["auth"][i]] == [list(f.default_auth), list(f.supported_auth)]
    assert sorted(flows["local"]) == [i for i, f in enumerate(plan.flows) if f.local]
    # Rule counts come from the firewall stage.
    points = {p.name: p for p in plan_rules(plan)}
    for fw in data["firewalls"]:
        assert fw["rules"] == len(points[fw["name"]].rules)


def test_rules_are_the_firewall_stage_s_and_refused_flows_do_not_fail_the_report() -> None:
    plan = _plan("two-sites.yaml")
    points = plan_rules(plan)
    open_flows = [f for f in plan.flows if f.protocol is None and not f.local]
    assert open_flows, "two-sites.yaml has flows without a protocol (random ports)"
    # What the firewall stage writes when told the protocol of those flows, less them.
    options = GeneratorOptions(catalog=load_builtin())
    without = plan.model_copy(update={"flows": tuple(f for f in plan.flows if f not in open_flows)})
    stage = {p.name: p for p in enforcement_points(without, Selection(), options)}
    for p in points:
        assert [r.flow_id for r in p.rules] == [r.flow.id for r in stage[p.name].rules]
    refused = {r.flow_id: r.reason for p in points for r in p.refused}
    assert set(refused) == {
        f.id for f in open_flows if f.crosses or plan.host(f.destination).host_firewall
    }
    assert all("--protocol" in reason for reason in refused.values())
    wan = next(p for p in points if p.name == "fw-wan")
    assert {r.flow_id for r in wan.refused} == {f.id for f in open_flows if "fw-wan" in f.crosses}


def test_a_flow_the_stage_refuses_for_any_reason_is_listed_with_the_reason() -> None:
    """An IPv4-only source to an IPv6-only destination: refused, the rest still rendered."""
    plan = _plan("small.yaml")
    edge = plan.host("EDGE1")
    v6 = edge.model_copy(update={"addresses": ("2001:db8:1::25",)})
    plan = plan.model_copy(
        update={"hosts": tuple(v6 if h.name == "EDGE1" else h for h in plan.hosts)}
    )
    points = plan_rules(plan)
    refused = {r.flow_id: r.reason for p in points for r in p.refused}

    def v4_only(name: str) -> bool:
        return all(":" not in a for a in plan.host(name).addresses)

    expected = {
        f.id
        for f in plan.flows
        if f.crosses
        and "EDGE1" in (f.source, f.destination)
        and v4_only(f.destination if f.source == "EDGE1" else f.source)
    }
    assert expected and set(refused) == expected
    assert all("no packet can make this flow" in r for r in refused.values())
    assert sum(len(p.rules) for p in points) > 0
    page = render_plan_html(plan)
    assert "no packet can make this flow" in page


def test_every_zone_is_in_the_zone_table_also_without_destinations() -> None:
    plan = _plan("two-sites-large.yaml")
    page = render_plan_html(plan)
    rows = re.findall(r'<tr data-zone="([^"]+)">', page)
    assert rows == [z.name for z in plan.zones]
    to = {f.destination_zone for f in plan.flows}
    assert [z.name for z in plan.zones if z.name not in to], "a zone no flow ends in"
    # Firewalls and topology findings are in the report.
    assert re.findall(r'<tr data-firewall="([^"]+)">', page) == [f.name for f in plan.firewalls]
    assert len(re.findall(r'<tr data-id="PS-TOPO-\d+"', page)) == len(plan.findings)


def test_chinese_names_every_term_of_the_plan() -> None:
    """Roles, zone and host kinds, authentication, encryption and every port label."""
    for vocab, enum in (
        ("role", Role),
        ("zone_kind", ZoneKind),
        ("host_kind", HostKind),
        ("auth", Auth),
        ("mechanism", Mechanism),
        ("endpoint_status", Status),
    ):
        missing = [m.value for m in enum if m.value not in TABLES[vocab]]  # type: ignore[attr-defined]
        assert not missing, f"{vocab} without a translation: {missing}"
    labels = {
        f.label
        for name in ("two-sites.yaml", "two-sites-large.yaml", "small.yaml")
        for f in _plan(name).flows
        if f.label
    }
    labels |= {p.label for path in load_builtin().paths for p in path.ports if p.label}
    assert not [x for x in sorted(labels) if x not in TABLES["port_label"]]
    # The seed's own names for the Exchange server roles.
    for role in (
        "hub_transport",
        "edge_transport",
        "mailbox",
        "client_access",
        "unified_messaging",
    ):
        assert term("role", role).zh == ROLE_DESCRIPTIONS[Role(role)][1]
    assert term("zone_kind", "perimeter").zh == "外围网络"
    # An unknown kind renders as its id.
    assert term("zone_kind", "dmz-42").zh == "dmz-42"


def test_css_names_cjk_fonts() -> None:
    css, _, _ = assets()
    for family in ("Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei"):
        assert f'"{family}"' in css
    assert re.search(r'"WenQuanYi Micro Hei", sans-serif;', css)


def test_plan_command_writes_the_html_report(tmp_path: Path) -> None:
    out = tmp_path / "plan.html"
    proc = subprocess.run(
        [
            *CLI,
            "plan",
            str(EXAMPLES / "two-sites.yaml"),
            "-f",
            "html",
            "-o",
            str(out),
            "--lang",
            "zh",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    page = out.read_text("utf-8")
    assert '<html lang="zh-CN" data-lang="zh">' in page
    assert len(_data(page)["flows"]["id"]) == len(_plan("two-sites.yaml").flows)
    # Filters select the flows of the report, as they do for the other formats.
    proc = subprocess.run(
        [*CLI, "plan", str(EXAMPLES / "two-sites.yaml"), "-f", "html", "--to", "voice"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stdout.startswith("<!DOCTYPE html>")
    flows = _data(proc.stdout)["flows"]
    hosts = _data(proc.stdout)["hosts"]
    assert flows["id"] and all(hosts[d]["name"] in ("GW1", "PBX1") for d in flows["dst"])

"""Validation: each finding fires on a minimal bad deployment and stays silent on a good one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pathsec.catalog import load_catalog
from pathsec.plan import CHECKS, Plan, build_plan
from pathsec.plan.models import Severity
from pathsec.topology import load_deployment_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
Data = dict[str, Any]


def small() -> Data:
    data: Data = yaml.safe_load((EXAMPLES / "small.yaml").read_text("utf-8"))
    return data


def plan_of(data: Data) -> Plan:
    dep = load_deployment_text(yaml.safe_dump(data, sort_keys=False), "test.yaml")
    return build_plan(load_catalog(), dep)


def server(data: Data, name: str) -> dict[str, Any]:
    return next(s for s in data["servers"] if s["name"] == name)


def _cas_in_perimeter(d: Data) -> None:
    d["servers"].append(
        {
            "name": "CAS2",
            "addresses": ["192.0.2.40"],
            "site": "HQ",
            "zone": "perimeter",
            "roles": ["client_access"],
            "exchange": "2007-sp1",
        }
    )


def _firewall_cas_mailbox(d: Data) -> None:
    d["zones"].append({"name": "mbx", "kind": "internal", "cidrs": ["10.2.0.0/16"]})
    d["firewalls"].append({"name": "fw-mbx", "zones": ["internal", "mbx"]})
    d["servers"].append(
        {
            "name": "MBX2",
            "addresses": ["10.2.0.5"],
            "site": "HQ",
            "zone": "mbx",
            "roles": ["mailbox"],
            "exchange": "2007-sp1",
        }
    )


def _edge_joined(d: Data) -> None:
    server(d, "EDGE1")["domain_joined"] = True


def _edge_internal(d: Data) -> None:
    server(d, "EDGE1").update(zone="internal", addresses=["10.1.0.25"])


def _site_mailbox_only(d: Data) -> None:
    d["sites"].append({"name": "Orphan"})
    d["servers"].append(
        {
            "name": "MBX9",
            "addresses": ["10.1.0.99"],
            "site": "Orphan",
            "zone": "internal",
            "roles": ["mailbox"],
            "exchange": "2007-sp1",
        }
    )


def _um_rtm_both(d: Data) -> None:
    d["servers"].append(
        {
            "name": "UM1",
            "addresses": ["10.1.0.40"],
            "site": "HQ",
            "zone": "internal",
            "roles": ["unified_messaging"],
            "exchange": "2007-rtm",
            "um_sip_mode": "both",
        }
    )


def _rpc_small(d: Data) -> None:
    server(d, "EX1")["rpc_range"] = "6000-6050"


def _rpc_low(d: Data) -> None:
    server(d, "EX1")["rpc_range"] = "1100-1300"


def _no_subscription(d: Data) -> None:
    d["edge_subscriptions"] = []


def _unencrypted_cross_zone(d: Data) -> None:
    d["zones"].append({"name": "mgmt", "kind": "management", "cidrs": ["10.9.0.0/24"]})
    d["admin_workstations"] = [{"name": "admins", "addresses": ["10.9.0.0/28"], "zone": "mgmt"}]


def _no_gc(d: Data) -> None:
    server(d, "DC1")["global_catalog"] = False


def _subscription_without_hub(d: Data) -> None:
    d["sites"].append({"name": "Empty"})
    d["edge_subscriptions"] = [{"edge": "EDGE1", "site": "Empty"}]


def _gateway_without_um(d: Data) -> None:
    d["ip_gateways"] = [{"name": "GW1", "addresses": ["10.1.5.1"], "zone": "internal"}]


def _ccr_one_node(d: Data) -> None:
    d["clusters"] = [{"name": "C1", "kind": "ccr", "nodes": ["EX1"]}]


def _rtm_on_2008(d: Data) -> None:
    server(d, "EX1")["exchange"] = "2007-rtm"


def _legacy_mailbox(d: Data) -> None:
    d["servers"].append(
        {
            "name": "EX2003",
            "addresses": ["10.1.0.50"],
            "site": "HQ",
            "zone": "internal",
            "roles": ["mailbox"],
            "exchange": "2003",
        }
    )


def _population_without_servers(d: Data) -> None:
    d["sites"].append({"name": "Branch"})
    d["client_populations"].append(
        {"name": "branch", "kind": "pop_imap_clients", "zone": "internal", "site": "Branch"}
    )


def _edge_with_hub(d: Data) -> None:
    server(d, "EDGE1")["roles"] = ["edge_transport", "hub_transport"]
    server(d, "EDGE1")["site"] = "HQ"


def _zone_without_firewall(d: Data) -> None:
    d["zones"].append({"name": "lab", "kind": "internal", "cidrs": ["10.7.0.0/24"]})
    d["client_populations"].append({"name": "lab-users", "kind": "internal_users", "zone": "lab"})


def _zones_overlap(d: Data) -> None:
    d["zones"].append({"name": "inner", "kind": "internal", "cidrs": ["10.1.5.0/24"]})
    d["firewalls"].append({"name": "fw-in", "zones": ["internal", "inner"]})


def _windows_missing(d: Data) -> None:
    del server(d, "EX1")["windows"]


def _dc_host_firewall(d: Data) -> None:
    server(d, "DC1")["host_firewall"] = True


def _mailbox(name: str, address: str, site: str = "HQ", **kw: Any) -> dict[str, Any]:
    return {
        "name": name,
        "addresses": [address],
        "site": site,
        "zone": "internal",
        "roles": ["mailbox"],
        "exchange": "2007-sp1",
        "windows": "2008",
        **kw,
    }


def _cluster(d: Data, a: dict[str, Any], b: dict[str, Any]) -> None:
    d["servers"] += [a, b]
    d["clusters"] = [{"name": "CCR1", "kind": "ccr", "nodes": [a["name"], b["name"]]}]


def _cluster_two_sites(d: Data) -> None:
    d["sites"].append({"name": "Branch"})
    _cluster(d, _mailbox("MBXA", "10.1.0.61"), _mailbox("MBXB", "10.1.0.62", "Branch"))


def _cluster_other_roles(d: Data) -> None:
    a = _mailbox("MBXA", "10.1.0.61", roles=["mailbox", "client_access"])
    _cluster(d, a, _mailbox("MBXB", "10.1.0.62"))


def _cluster_windows(d: Data) -> None:
    _cluster(d, _mailbox("MBXA", "10.1.0.61"), _mailbox("MBXB", "10.1.0.62", windows="2003"))


def _branch_cas(d: Data) -> None:
    d["sites"].append({"name": "Branch"})
    d["servers"].append(
        {
            "name": "BR-EX1",
            "addresses": ["10.1.9.20"],
            "site": "Branch",
            "zone": "internal",
            "roles": ["hub_transport", "client_access", "mailbox"],
            "exchange": "2007-sp1",
            "windows": "2008",
        }
    )


def _internet_facing_unmarked(d: Data) -> None:
    _branch_cas(d)


def _internet_to_inner_cas(d: Data) -> None:
    _branch_cas(d)
    d["sites"][0]["internet_facing"] = True
    d["client_populations"][0]["servers"] = ["EX1", "BR-EX1"]


def _exception_unused(d: Data) -> None:
    d["exceptions"] = [{"path": "transport.edgesync", "ports": [12345], "reason": "typo"}]


def _crl_nowhere(d: Data) -> None:
    d["zones"][0]["kind"] = "other"
    d["partners"] = [
        {"name": "p1", "domain": "p1.example", "addresses": ["203.0.113.5"], "zone": "internet"}
    ]


MUTATIONS: dict[str, tuple[Callable[[Data], None], Severity]] = {
    "PS-TOPO-001": (_cas_in_perimeter, Severity.error),
    "PS-TOPO-002": (_firewall_cas_mailbox, Severity.error),
    "PS-TOPO-003": (_edge_joined, Severity.error),
    "PS-TOPO-004": (_edge_internal, Severity.warning),
    "PS-TOPO-005": (_site_mailbox_only, Severity.error),
    "PS-TOPO-006": (_um_rtm_both, Severity.error),
    "PS-TOPO-007": (_rpc_small, Severity.warning),
    "PS-TOPO-008": (_rpc_low, Severity.warning),
    "PS-TOPO-009": (_no_subscription, Severity.warning),
    "PS-TOPO-010": (_unencrypted_cross_zone, Severity.warning),
    "PS-TOPO-011": (_no_gc, Severity.warning),
    "PS-TOPO-012": (_subscription_without_hub, Severity.error),
    "PS-TOPO-013": (_gateway_without_um, Severity.warning),
    "PS-TOPO-014": (_ccr_one_node, Severity.error),
    "PS-TOPO-015": (_rtm_on_2008, Severity.error),
    "PS-TOPO-016": (_legacy_mailbox, Severity.warning),
    "PS-TOPO-017": (_population_without_servers, Severity.warning),
    "PS-TOPO-018": (_edge_with_hub, Severity.error),
    "PS-TOPO-019": (_zone_without_firewall, Severity.warning),
    "PS-TOPO-020": (_zones_overlap, Severity.warning),
    "PS-TOPO-021": (_windows_missing, Severity.warning),
    "PS-TOPO-022": (_dc_host_firewall, Severity.warning),
    "PS-TOPO-023": (_cluster_two_sites, Severity.error),
    "PS-TOPO-024": (_cluster_other_roles, Severity.error),
    "PS-TOPO-025": (_cluster_windows, Severity.error),
    "PS-TOPO-026": (_internet_facing_unmarked, Severity.info),
    "PS-TOPO-027": (_internet_to_inner_cas, Severity.warning),
    "PS-TOPO-028": (_exception_unused, Severity.warning),
    "PS-TOPO-029": (_crl_nowhere, Severity.warning),
}

#: Findings added for what the planner used to assume silently.
ASSUMPTIONS = sorted(f"PS-TOPO-{n:03d}" for n in range(19, 30))


def test_every_check_has_a_test() -> None:
    assert set(MUTATIONS) == set(CHECKS)


def test_good_deployment_is_silent() -> None:
    assert plan_of(small()).findings == ()


@pytest.mark.parametrize("fid", sorted(MUTATIONS))
def test_finding_fires_on_bad_deployment(fid: str) -> None:
    mutate, severity = MUTATIONS[fid]
    data = small()
    mutate(data)
    found = [f for f in plan_of(data).findings if f.id == fid]
    assert found, f"{fid} did not fire"
    for f in found:
        assert f.severity is severity
        assert f.message and f.message_zh and f.objects
        assert f.message != f.message_zh


def test_rule_ids_come_from_catalog() -> None:
    rule_ids = {r.id for r in load_catalog().rules}
    for mutate, _sev in MUTATIONS.values():
        data = small()
        mutate(data)
        for f in plan_of(data).findings:
            assert f.rule is None or f.rule in rule_ids


def test_unsupported_example_has_every_listed_design() -> None:
    dep = load_deployment_text((EXAMPLES / "unsupported.yaml").read_text("utf-8"), "u.yaml")
    ids = {f.id for f in build_plan(load_catalog(), dep).findings}
    assert ids >= {f"PS-TOPO-{n:03d}" for n in range(1, 11)}


def test_two_sites_has_no_error() -> None:
    dep = load_deployment_text((EXAMPLES / "two-sites.yaml").read_text("utf-8"), "t.yaml")
    assert not [f for f in build_plan(load_catalog(), dep).findings if f.severity is Severity.error]


@pytest.mark.parametrize("example", ["small", "two-sites", "internet-facing"])
def test_assumption_findings_are_silent_on_the_examples(example: str) -> None:
    text = (EXAMPLES / f"{example}.yaml").read_text("utf-8")
    plan = build_plan(load_catalog(), load_deployment_text(text, f"{example}.yaml"))
    assert {f.id for f in plan.findings} & set(ASSUMPTIONS) == set()


def test_unsupported_example_shows_the_missing_windows() -> None:
    dep = load_deployment_text((EXAMPLES / "unsupported.yaml").read_text("utf-8"), "u.yaml")
    found = [f for f in build_plan(load_catalog(), dep).findings if f.id in ASSUMPTIONS]
    assert [(f.id, f.objects) for f in found] == [("PS-TOPO-021", ("HUB1",))]
    assert "1025-5000" in found[0].message


def test_unfiltered_zone_names_the_zone_and_its_flows() -> None:
    data = small()
    _zone_without_firewall(data)
    (f,) = [f for f in plan_of(data).findings if f.id == "PS-TOPO-019"]
    assert f.objects == ("lab",) and "不经过筛选" in f.message_zh
    assert "unfiltered" in f.message and "flow(s)" in f.message


def test_zones_no_firewall_chain_joins_are_unfiltered_too() -> None:
    data = small()
    data["zones"] += [
        {"name": "lab1", "kind": "internal", "cidrs": ["10.7.1.0/24"]},
        {"name": "lab2", "kind": "internal", "cidrs": ["10.7.2.0/24"]},
    ]
    data["firewalls"].append({"name": "fw-lab", "zones": ["lab1", "lab2"]})
    data["client_populations"].append({"name": "lab", "kind": "internal_users", "zone": "lab1"})
    found = [f for f in plan_of(data).findings if f.id == "PS-TOPO-019"]
    assert [f.objects for f in found] == [("internal", "lab1")]


def test_an_internet_zone_of_everything_else_may_overlap() -> None:
    data = small()
    data["zones"][0]["cidrs"] = ["0.0.0.0/0", "::/0"]
    assert not [f for f in plan_of(data).findings if f.id == "PS-TOPO-020"]


def test_windows_missing_says_which_rpc_range_was_used() -> None:
    data = small()
    del server(data, "EX1")["windows"]
    server(data, "EX1")["rpc_range"] = "6000-6999"
    (f,) = [f for f in plan_of(data).findings if f.id == "PS-TOPO-021"]
    assert "6000-6999" in f.message and "6000-6999" in f.message_zh
    # the default is kept: 2003 (its range had the server no rpc_range)
    assert plan_of(data).host("EX1").windows == "2003"

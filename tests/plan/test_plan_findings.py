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
}


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
    data = small()
    for mutate, _sev in MUTATIONS.values():
        if mutate is not _edge_with_hub:
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

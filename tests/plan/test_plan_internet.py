"""Internet mail, certificate checks, publishing, internet-facing sites, exceptions and the
operational flows: what each deployment object makes of the plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pathsec.catalog import load_catalog
from pathsec.plan import Plan, build_plan
from pathsec.plan.models import Flow
from pathsec.topology import load_deployment_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
Data = dict[str, Any]


def example(name: str) -> Data:
    data: Data = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text("utf-8"))
    return data


def plan_of(data: Data, **kw: Any) -> Plan:
    dep = load_deployment_text(yaml.safe_dump(data, sort_keys=False), "test.yaml")
    return build_plan(load_catalog(), dep, **kw)


def pairs(plan: Plan, path: str | None = None) -> set[tuple[str, str]]:
    return {(f.source, f.destination) for f in plan.flows if path in (None, f.path_id)}


def ports(flows: list[Flow] | tuple[Flow, ...]) -> set[str]:
    return {f"{f.protocol}/{f.port if f.port is not None else f.port_range}" for f in flows}


def between(plan: Plan, src: str, dst: str, path: str | None = None) -> list[Flow]:
    return [
        f
        for f in plan.flows
        if f.source == src and f.destination == dst and path in (None, f.path_id)
    ]


# --- internet mail and certificate checks -------------------------------------------------


def test_internet_mail_in_out_and_dns() -> None:
    plan = plan_of(example("internet-facing"))
    assert ports(between(plan, "internet-mail", "EDGE1")) == {"tcp/25"}
    assert ports(between(plan, "EDGE1", "internet-mail")) == {"tcp/25"}
    dns = between(plan, "EDGE1", "dns-resolvers")
    assert ports(dns) == {"tcp/53", "udp/53"}
    assert all(f.basis == "operational" and "RFC 5321" in (f.basis_note or "") for f in dns)
    assert plan.host("internet-mail").addresses == ("0.0.0.0/0",)
    assert not between(plan, "dns-resolvers", "EDGE1")


@pytest.mark.parametrize(
    ("inbound", "outbound"), [(True, False), (False, True), (False, False)], ids=str
)
def test_internet_mail_directions_can_be_turned_off(inbound: bool, outbound: bool) -> None:
    data = example("small")
    data["internet_mail"] = {"inbound": inbound, "outbound": outbound}
    plan = plan_of(data)
    assert bool(between(plan, "internet-mail", "EDGE1")) is inbound
    assert bool(between(plan, "EDGE1", "internet-mail")) is outbound


def test_certificate_checks_go_out_to_the_configured_endpoints_only() -> None:
    data = example("small")
    data["internet_mail"] = {}
    data["certificate_checks"] = {"name": "cdp", "zone": "internet", "addresses": ["203.0.113.9"]}
    plan = plan_of(data)
    crl = between(plan, "EDGE1", "cdp")
    assert ports(crl) == {"tcp/80", "tcp/389", "udp/389"}
    assert all(f.path_id == "transport.edge_to_edge" and f.crosses == ("fw-outer",) for f in crl)
    assert all(f.basis == "inferred" and "CRL" in (f.basis_note or "") for f in crl)
    assert plan.host("cdp").addresses == ("203.0.113.9",)
    inbound = {
        f.port for f in plan.flows if f.destination == "EDGE1" and f.source_zone == "internet"
    }
    assert inbound == {25}


def test_no_peer_no_certificate_checks_and_no_crl_host() -> None:
    plan = plan_of(example("small"))
    assert not [h for h in plan.hosts if h.name == "crl-endpoints"]
    assert not [f for f in plan.flows if f.path_id == "transport.edge_to_edge"]


# --- publishing and internet-facing sites -------------------------------------------------


def test_reverse_proxy_publishes_to_the_internet_facing_cas() -> None:
    plan = plan_of(example("internet-facing"))
    outer = between(plan, "internet-users", "rp1")
    assert {f.path_id for f in outer} == {
        "client_access.owa",
        "client_access.outlook_anywhere",
        "client_access.autodiscover",
        "client_access.availability_service",
        "client_access.outlook_oab_web",
        "unified_messaging.web_service",
    }
    assert all(f.crosses == ("fw-outer",) and "published by rp1" in (f.reason or "") for f in outer)
    inner = between(plan, "rp1", "HQ-HC1")
    assert {f.port for f in inner} == {80, 443} and all(f.crosses == ("fw-inner",) for f in inner)
    # internet users reach no Client Access server directly, and none of the branch
    internet = {"internet-users", "phones"}
    assert not [f for f in plan.flows if f.source in internet and f.destination != "rp1"]
    assert not between(plan, "rp1", "BR-EX1")
    # the branch is served by CAS-to-CAS proxying from the internet-facing site
    assert between(plan, "HQ-HC1", "BR-EX1", "client_access.cas_to_cas_owa")


def test_nat_keeps_the_client_address_inside() -> None:
    data = example("internet-facing")
    data["publishers"][0]["kind"] = "nat"
    plan = plan_of(data)
    outer = between(plan, "internet-users", "rp1", "client_access.owa")
    assert ports(outer) == {"tcp/443"} and outer[0].crosses == ("fw-outer",)
    inner = between(plan, "internet-users", "HQ-HC1", "client_access.owa")
    assert ports(inner) == {"tcp/80", "tcp/443"}
    # the inside leg enters from the NAT's zone: only the inner firewall sees it
    assert all(f.source_zone == "perimeter" and f.crosses == ("fw-inner",) for f in inner)
    assert not between(plan, "rp1", "HQ-HC1")


def test_load_balancer_is_a_connection_of_its_own() -> None:
    data = example("internet-facing")
    data["publishers"][0]["kind"] = "load_balancer"
    plan = plan_of(data)
    assert between(plan, "rp1", "HQ-HC1", "client_access.owa")
    assert not between(plan, "internet-users", "HQ-HC1")


def test_publisher_serves_only_what_it_publishes_and_whom() -> None:
    data = example("internet-facing")
    data["publishers"][0]["publishes"] = ["owa"]
    data["publishers"][0]["populations"] = ["internet-users"]
    plan = plan_of(data)
    assert {f.path_id for f in between(plan, "internet-users", "rp1")} == {"client_access.owa"}
    # phones are not served by rp1: ActiveSync goes straight to the internet-facing CAS
    assert ports(between(plan, "phones", "HQ-HC1", "client_access.activesync")) == {
        "tcp/80",
        "tcp/443",
    }
    assert between(plan, "internet-users", "HQ-HC1", "client_access.outlook_anywhere")


def test_without_marking_internet_users_reach_every_cas() -> None:
    data = example("internet-facing")
    del data["sites"][0]["internet_facing"]
    data["publishers"] = []
    plan = plan_of(data)
    assert between(plan, "internet-users", "BR-EX1", "client_access.owa")
    assert between(plan, "internet-users", "HQ-HC1", "client_access.owa")
    assert [f.id for f in plan.findings if f.id == "PS-TOPO-026"] == ["PS-TOPO-026"]


def test_server_marking_overrides_its_site() -> None:
    data = example("internet-facing")
    data["publishers"] = []
    next(s for s in data["servers"] if s["name"] == "BR-EX1")["internet_facing"] = True
    plan = plan_of(data)
    assert between(plan, "internet-users", "BR-EX1", "client_access.owa")
    data["sites"][0]["internet_facing"] = False
    plan = plan_of(data)
    assert not between(plan, "internet-users", "HQ-HC1")


def test_um_web_service_goes_to_client_access_only_with_um() -> None:
    plan = plan_of(example("two-sites"))
    um = [f for f in plan.flows if f.path_id == "unified_messaging.web_service"]
    assert um and {f.destination for f in um} == {"HQ-HC1", "BR-HC1"}
    assert all(
        f.basis == "inferred" and "Get-UMVirtualDirectory" in (f.basis_note or "") for f in um
    )
    assert not [f for f in plan.flows if f.destination == "HQ-UM1" and f.port in (80, 443)]
    small = plan_of(example("small"))
    assert not [f for f in small.flows if f.path_id == "unified_messaging.web_service"]


def test_pop_imap_clients_submit_mail_unless_they_opt_out() -> None:
    data = example("two-sites")
    plan = plan_of(data)
    assert ports(between(plan, "pop-imap", "HQ-HC1", "transport.smtp_client_to_hub")) == {
        "tcp/25",
        "tcp/587",
    }
    pop = next(p for p in data["client_populations"] if p["name"] == "pop-imap")
    pop["roles"] = ["pop_imap_client"]
    assert not between(plan_of(data), "pop-imap", "HQ-HC1", "transport.smtp_client_to_hub")


# --- exceptions ---------------------------------------------------------------------------


def _exceptions(*items: dict[str, Any]) -> Plan:
    data = example("two-sites")
    data["exceptions"] = list(items)
    return plan_of(data)


def test_exception_for_the_deployment_removes_a_port_with_its_reason() -> None:
    plan = _exceptions({"path": "transport.edgesync", "ports": [50389], "reason": "LDAPS only"})
    assert not [f for f in plan.flows if f.path_id == "transport.edgesync" and f.port == 50389]
    assert [f.port for f in plan.flows if f.path_id == "transport.edgesync"] == [50636]
    (gone,) = plan.removed_flows
    assert gone.port == 50389 and gone.deviation == "exceptions[0]: LDAPS only"


def test_exception_scopes_site_zone_pair_and_server_pair() -> None:
    path = "transport.hub_ad_access"
    site = _exceptions({"path": path, "site": "Branch", "reason": "r"})
    assert {f.source for f in site.removed_flows} == {"BR-HC1"}
    zones = _exceptions(
        {
            "path": "client_access.owa",
            "zones": ["internet", "hq-internal"],
            "ports": [80],
            "reason": "r",
        }
    )
    assert {(f.source, f.port) for f in zones.removed_flows} == {("internet-users", 80)}
    assert between(zones, "hq-users", "HQ-HC1", "client_access.owa")
    hosts = _exceptions(
        {"path": path, "servers": ["HQ-DC1", "HQ-HC1"], "protocol": "udp", "reason": "r"}
    )
    assert {(f.source, f.destination, f.protocol) for f in hosts.removed_flows} == {
        ("HQ-HC1", "HQ-DC1", "udp")
    }


def test_removed_flows_get_no_firewall_rule() -> None:
    from firewall.conftest import options_for  # the firewall tests' helpers
    from pathsec.firewall import Selection, Target, generate

    plan = _exceptions({"path": "transport.edgesync", "ports": [50389], "reason": "LDAPS only"})
    text = "".join(
        f.content for f in generate(plan, Target.nftables, Selection(), options_for(plan))
    )
    assert "50636" in text and "50389" not in text


# --- operational flows --------------------------------------------------------------------


def test_operational_flows_only_on_request_and_always_labelled() -> None:
    data = example("two-sites")
    plain = plan_of(data)
    assert not [f for f in plain.flows if f.basis == "operational"]
    flagged = plan_of(data, with_operational=True)
    data["operational_flows"] = True
    switched = plan_of(data)
    assert [f.id for f in flagged.flows] == [f.id for f in switched.flows]
    ops = [f for f in flagged.flows if f.path_id.startswith("operational.")]
    assert ops and all(f.basis == "operational" and f.basis_note for f in ops)
    assert all(f.basis != "operational" for f in flagged.flows if f not in ops)


def test_operational_flows_of_the_example() -> None:
    plan = plan_of(example("internet-facing"))
    rep = between(plan, "HQ-DC1", "BR-DC1", "operational.dc_replication")
    assert {"tcp/135", "tcp/1025-5000", "udp/123", "tcp/445"} <= ports(rep)
    assert between(plan, "BR-DC1", "HQ-DC1", "operational.dc_replication")
    assert rep[0].crosses == ("fw-wan",)
    smtp = pairs(plan, "operational.hub_legacy_smtp")
    assert {("HQ-HC1", "HQ-EX2003"), ("HQ-EX2003", "HQ-HC1")} <= smtp
    assert ports(between(plan, "HQ-MBX1", "HQ-MBX2", "operational.cluster_tcp_3343")) == {
        "tcp/3343"
    }
    assert pairs(plan, "operational.um_ad_access") == {("HQ-UM1", "HQ-DC1")}
    assert ("HQ-EX2003", "HQ-DC1") in pairs(plan, "operational.legacy_ad_access")
    assert ("BR-EX1", "BR-DC1") in pairs(plan, "operational.cas_ad_access")
    gc = pairs(plan, "operational.outlook_gc_nspi")
    assert gc == {("hq-users", "HQ-DC1"), ("branch-users", "BR-DC1")}  # direct MAPI users only


def test_cluster_3343_tcp_needs_windows_2008_nodes() -> None:
    plan = plan_of(example("two-sites"), with_operational=True)  # its CCR nodes run 2003
    assert not pairs(plan, "operational.cluster_tcp_3343")


def test_outlook_reaches_global_catalogs_only() -> None:
    data = example("internet-facing")
    next(s for s in data["servers"] if s["name"] == "HQ-DC1")["global_catalog"] = False
    assert ("hq-users", "HQ-DC1") not in pairs(plan_of(data), "operational.outlook_gc_nspi")

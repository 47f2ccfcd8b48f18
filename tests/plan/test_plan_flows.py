"""The planner: which host pairs, ports, auth and firewalls each catalog path becomes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pathsec.catalog import load_catalog
from pathsec.plan import Plan, build_plan
from pathsec.plan.models import Flow, PortSpan
from pathsec.topology import load_deployment_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example_data(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text("utf-8"))
    return data


def plan_of(data: dict[str, Any]) -> Plan:
    dep = load_deployment_text(yaml.safe_dump(data, sort_keys=False), "test.yaml")
    return build_plan(load_catalog(), dep)


@pytest.fixture
def plan_example() -> Callable[[str], Plan]:
    return lambda name: plan_of(example_data(name))


def flows(plan: Plan, path: str, src: str | None = None, dst: str | None = None) -> list[Flow]:
    return [
        f
        for f in plan.flows
        if f.path_id == path and src in (None, f.source) and dst in (None, f.destination)
    ]


def ports(fs: list[Flow]) -> set[str]:
    out = set()
    for f in fs:
        what = str(f.port) if f.port is not None else str(f.port_range) if f.port_range else "local"
        out.add(f"{f.protocol}/{what}")
    return out


def test_two_sites_covers_every_catalog_path(plan_example: Callable[[str], Plan]) -> None:
    plan = plan_example("two-sites")
    catalog_ids = {p.id for p in load_catalog().paths}
    assert len(catalog_ids) == 52
    assert catalog_ids - {f.path_id for f in plan.flows} == set()


def test_flow_ids_unique_and_plan_deterministic(plan_example: Callable[[str], Plan]) -> None:
    a, b = plan_example("two-sites"), plan_example("two-sites")
    ids = [f.id for f in a.flows]
    assert len(ids) == len(set(ids))
    assert a.model_dump_json() == b.model_dump_json()


def test_colocated_hub_mailbox_is_local_and_kerberos(plan_example: Callable[[str], Plan]) -> None:
    small = plan_example("small")
    fs = flows(small, "transport.hub_to_mailbox_mapi", "EX1", "EX1")
    assert fs and all(f.local and f.default_auth == ("kerberos",) for f in fs)
    remote = flows(plan_example("two-sites"), "transport.hub_to_mailbox_mapi", "HQ-HC1", "HQ-MBX1")
    assert remote and all(not f.local and f.default_auth == ("ntlm",) for f in remote)


def test_rpc_adds_destination_dynamic_range(plan_example: Callable[[str], Plan]) -> None:
    plan = plan_example("two-sites")
    assert ports(flows(plan, "client_access.cas_to_mailbox", "HQ-HC1", "HQ-MBX1")) == {
        "tcp/135",
        "tcp/6000-6999",
    }
    assert plan.host("HQ-MBX1").rpc_range == PortSpan(start=6000, end=6999)
    assert plan.host("HQ-MBX1").rpc_range_configured
    assert "tcp/1025-5000" in ports(flows(plan, "transport.hub_ad_access", "HQ-HC1", "HQ-DC1"))
    assert "tcp/49152-65535" in ports(flows(plan, "transport.hub_ad_access", "BR-HC1", "BR-DC1"))
    assert not plan.host("BR-DC1").rpc_range_configured


def test_ad_paths_stay_in_site_and_respect_gc_dns() -> None:
    plan = plan_of(example_data("two-sites"))
    assert not flows(plan, "mailbox.ad_access", "HQ-MBX1", "BR-DC1")
    data = example_data("small")
    data["servers"][0]["global_catalog"] = False
    data["servers"][0]["dns"] = False
    p = ports(flows(plan_of(data), "transport.hub_ad_access", "EX1", "DC1"))
    assert "tcp/3268" not in p and "udp/53" not in p and "tcp/389" in p


def test_edge_hub_only_with_subscribed_site(plan_example: Callable[[str], Plan]) -> None:
    plan = plan_example("two-sites")
    assert flows(plan, "transport.hub_to_edge", "HQ-HC1", "EDGE1")
    assert flows(plan, "transport.edge_to_hub", "EDGE1", "HQ-HC1")
    assert ports(flows(plan, "transport.edgesync", "HQ-HC1", "EDGE1")) == {"tcp/50636", "tcp/50389"}
    assert not [f for f in plan.flows if {f.source, f.destination} == {"BR-HC1", "EDGE1"}]
    assert all(f.local for f in flows(plan, "transport.edge_adam_local"))


def test_hub_to_hub_across_sites_not_to_itself(plan_example: Callable[[str], Plan]) -> None:
    plan = plan_example("two-sites")
    (f,) = flows(plan, "transport.hub_to_hub", "HQ-HC1", "BR-HC1")
    assert f.crosses == ("fw-wan",) and f.port == 25 and f.protocol == "tcp"
    assert not flows(plan, "transport.hub_to_hub", "HQ-HC1", "HQ-HC1")


def test_site_scope_within_site(plan_example: Callable[[str], Plan]) -> None:
    plan = plan_example("two-sites")
    assert flows(plan, "client_access.cas_to_mailbox", "BR-HC1", "BR-MBX1")
    assert not flows(plan, "client_access.cas_to_mailbox", "BR-HC1", "HQ-MBX1")


def test_um_sip_ports_follow_sip_mode() -> None:
    data = example_data("two-sites")
    plan = plan_of(data)
    assert ports(flows(plan, "unified_messaging.pbx", "GW1", "HQ-UM1")) == {
        "tcp/5060",
        "tcp/5061",
        "tcp/5062",
        "udp/10000-20000",
    }
    # The reverse direction (bidirectional path) targets the gateway's ports.
    assert ports(flows(plan, "unified_messaging.pbx", "HQ-UM1", "GW1")) == {
        "tcp/5060",
        "tcp/5061",
        "udp/1024-65535",
    }
    um = next(s for s in data["servers"] if s["name"] == "HQ-UM1")
    um["um_sip_mode"] = "tls"
    plan = plan_of(data)
    assert ports(flows(plan, "unified_messaging.fax", "GW1", "HQ-UM1")) == {
        "tcp/5061",
        "tcp/5062",
        "udp/10000-20000",
    }
    assert ports(flows(plan, "client_access.cas_to_um", "HQ-HC1", "HQ-UM1")) == {
        "tcp/5061",
        "tcp/5062",
        "udp/10000-20000",
    }
    # PBX1 carries voice only: no fax flows.
    assert not flows(plan, "unified_messaging.fax", "PBX1")


def test_media_flows_not_encrypted(plan_example: Callable[[str], Plan]) -> None:
    plan = plan_example("two-sites")
    media = [f for f in flows(plan, "unified_messaging.pbx") if f.protocol == "udp"]
    assert media and all(f.encryption.by_default is False for f in media)
    sip = [f for f in flows(plan, "unified_messaging.pbx") if f.protocol == "tcp"]
    assert all(f.encryption.by_default == "conditional" for f in sip)


def test_random_and_protocolless_ports(plan_example: Callable[[str], Plan]) -> None:
    plan = plan_example("two-sites")
    seeding = flows(plan, "mailbox.ccr_scr_seeding", "HQ-MBX1", "HQ-MBX2")
    assert [(f.protocol, f.port, f.port_range) for f in seeding] == [
        (None, None, PortSpan(start=1025, end=65535))
    ]
    smtp = flows(plan, "transport.smtp_client_to_hub", "smtp-submit", "HQ-HC1")
    assert {(f.protocol, f.port) for f in smtp} == {("tcp", 25), ("tcp", 587)}
    # 587 is TCP by inference (RFC 6409): the flow says so and why
    (submission,) = [f for f in smtp if f.port == 587]
    assert submission.basis == "inferred" and "RFC 6409" in (submission.basis_note or "")
    assert all(f.basis == "reference" for f in smtp if f.port == 25)


def test_cluster_and_scr(plan_example: Callable[[str], Plan]) -> None:
    plan = plan_example("two-sites")
    assert ports(flows(plan, "mailbox.cluster", "HQ-MBX1", "HQ-MBX2")) == {
        "tcp/135",
        "tcp/6000-6999",
        "udp/3343",
    }
    assert not flows(plan, "mailbox.cluster", "HQ-MBX1", "BR-MBX1")
    assert flows(plan, "mailbox.ccr_scr_log_shipping", "HQ-MBX1", "BR-MBX1")
    assert flows(plan, "mailbox.ccr_scr_log_shipping", "BR-MBX1", "HQ-MBX2")
    assert "cluster_node" in plan.host("HQ-MBX1").roles
    assert "cluster_node" not in plan.host("BR-MBX1").roles


def test_outlook_versions_choose_oab_path(plan_example: Callable[[str], Plan]) -> None:
    plan = plan_example("two-sites")
    assert flows(plan, "mailbox.outlook_oab_rpc", "hq-users")
    assert flows(plan, "client_access.outlook_oab_web", "hq-users")
    assert not flows(plan, "mailbox.outlook_oab_rpc", "branch-users")
    assert flows(plan, "client_access.outlook_oab_web", "branch-users")


def test_population_servers_and_direct_mapi(plan_example: Callable[[str], Plan]) -> None:
    plan = plan_example("two-sites")
    assert not flows(plan, "mailbox.mapi_access", "internet-users")
    assert {f.destination for f in flows(plan, "client_access.owa", "internet-users")} == {"HQ-HC1"}
    assert {f.destination for f in flows(plan, "mailbox.mapi_access", "branch-users")} == {
        "BR-MBX1"
    }
    assert plan.host("internet-users").addresses == ("203.0.113.0/25",)


def test_external_bidirectional_partner(plan_example: Callable[[str], Plan]) -> None:
    plan = plan_example("two-sites")
    out = flows(plan, "transport.edge_to_edge", "EDGE1", "fabrikam")
    back = flows(plan, "transport.edge_to_edge", "fabrikam", "EDGE1")
    # SMTP both ways; the certificate checks (80, 389) never go to or come from the partner
    assert ports(out) == ports(back) == {"tcp/25"}
    assert back[0].crosses == ("fw-outer",)
    crl = flows(plan, "transport.edge_to_edge", "EDGE1", "crl-endpoints")
    assert ports(crl) == {"tcp/389", "udp/389", "tcp/80"}
    assert all(f.basis == "inferred" and f.crosses == ("fw-outer",) for f in crl)
    assert not flows(plan, "transport.edge_to_edge", "crl-endpoints")
    assert plan.host("crl-endpoints").zone == "internet"


def test_backup_local_and_legacy(plan_example: Callable[[str], Plan]) -> None:
    plan = plan_example("two-sites")
    vss = flows(plan, "mailbox.vss_backup")
    assert {f.source for f in vss} == {"HQ-MBX1", "HQ-MBX2", "BR-MBX1"}
    assert all(f.local and f.source == f.destination and not f.crosses for f in vss)
    legacy = flows(plan, "mailbox.legacy_backup", "BK1", "HQ-MBX1")
    assert legacy and legacy[0].crosses == ("fw-mgmt",)


def test_hosts_zones_firewalls_complete(plan_example: Callable[[str], Plan]) -> None:
    plan = plan_example("small")
    names = {h.name for h in plan.hosts}
    assert {f.source for f in plan.flows} | {f.destination for f in plan.flows} <= names
    assert plan.host("internet-users").addresses == ("203.0.113.0/24", "2001:db8:ffff::/48")
    ex1 = plan.host("EX1")
    assert ex1.roles == ("hub_transport", "mailbox", "client_access")
    assert ex1.windows == "2008" and ex1.site == "HQ" and ex1.addresses == ("10.1.0.20",)
    edge = plan.host("EDGE1")
    assert set(edge.roles) == {"edge_transport", "edge_adam"}
    assert [z.name for z in plan.zones] == ["internet", "perimeter", "internal"]
    assert plan.firewalls[0].interfaces == {"internet": "eth0", "perimeter": "eth1"}
    owa = flows(plan, "client_access.owa", "internet-users", "EX1")
    assert owa[0].crosses == ("fw-outer", "fw-inner")

"""Generator semantics: least privilege, refusals, interfaces, families, registry, host format."""

from __future__ import annotations

import csv
import io
import ipaddress

import pytest

from firewall.conftest import flow, lab_plan, options
from firewall.equivalence import Space, canonical, nft_space
from pathsec.errors import InputError
from pathsec.firewall import (
    GENERATORS,
    FirewallError,
    Selection,
    Target,
    generate,
    generator_for,
    render,
)
from pathsec.firewall.aerleon_policy import build_policies
from pathsec.plan.models import Plan, PortSpan

ALL = Selection()


def _files(target: Target, plan=None, selection=ALL, host_format="any", **protocols):
    return {
        f.name: f.content
        for f in generate(plan or lab_plan(), target, selection, options(host_format, **protocols))
    }


def test_every_target_has_a_generator_that_declares_its_capabilities() -> None:
    assert set(GENERATORS) == set(Target)
    for target in Target:
        gen = generator_for(target)
        assert gen.target is target
        assert gen.capabilities.host_firewalls
        assert gen.capabilities.description


def _iv(text: str) -> tuple[int, int]:
    net = ipaddress.ip_network(text)
    return int(net.network_address), int(net.broadcast_address)


def _expected(plan: Plan, keep) -> Space:
    """What the plan says a point accepts, computed from the flows alone (not rules.py)."""
    space: Space = {}
    for f in plan.flows:
        if f.local or not keep(f):
            continue
        src, dst = plan.host(f.source), plan.host(f.destination)
        ports = (f.port, f.port) if f.port else (f.port_range.start, f.port_range.end)
        for s in src.addresses:
            for d in dst.addresses:
                fam = ipaddress.ip_network(s).version
                if fam == ipaddress.ip_network(d).version:
                    space.setdefault((fam, f.protocol, None, None), []).append(
                        (*_iv(s), *_iv(d), *ports)
                    )
    return space


def _no_interfaces(space: Space) -> Space:
    out: Space = {}
    for (fam, proto, _, _), boxes in space.items():
        out.setdefault((fam, proto, None, None), []).extend(boxes)
    return out


def _same(a: Space, b: Space) -> bool:
    keys = set(a) | set(b)
    return all(canonical(a.get(k, [])) == canonical(b.get(k, [])) for k in keys)


def test_nftables_accepts_exactly_the_planned_flows_at_every_point() -> None:
    plan = lab_plan()
    files = _files(Target.nftables)
    assert set(files) == {
        "firewall-fw-outer.nft",
        "firewall-fw-inner.nft",
        "host-EX1.nft",
        "host-DC1.nft",
    }
    for fw in ("fw-outer", "fw-inner"):
        text = files[f"firewall-{fw}.nft"]
        assert "hook forward priority filter; policy drop;" in text
        assert "ct state established,related accept" in text
        got = _no_interfaces(nft_space(text))
        assert _same(_expected(plan, lambda f, fw=fw: fw in f.crosses), got)
    for host in ("EX1", "DC1"):
        got = nft_space(files[f"host-{host}.nft"])
        assert _same(_expected(plan, lambda f, h=host: f.destination == h), got)


def test_a_wider_rule_fails_the_comparison() -> None:
    plan = lab_plan()
    text = _files(Target.nftables)["host-DC1.nft"].replace("dport 3268", "dport 3268-3269")
    assert not _same(_expected(plan, lambda f: f.destination == "DC1"), nft_space(text))


def test_interfaces_follow_the_path_through_two_firewalls() -> None:
    files = _files(Target.nftables)
    outer = nft_space(files["firewall-fw-outer.nft"])
    inner = nft_space(files["firewall-fw-inner.nft"])
    # internet -> internal: at fw-outer it leaves towards the perimeter (eth1), at fw-inner
    # it enters from the perimeter (eth0) and leaves to the internal zone (eth1).
    assert {k[2:] for k, boxes in outer.items() if any(b[4] == 443 for b in boxes)} == {
        ("eth0", "eth1")
    }
    assert {k[2:] for k, boxes in inner.items() if any(b[4] == 443 for b in boxes)} == {
        ("eth0", "eth1")
    }
    assert {k[2:] for k, boxes in inner.items() if any(b[4] == 50636 for b in boxes)} == {
        ("eth1", "eth0")
    }


def test_missing_interface_is_omitted_and_said_in_the_header() -> None:
    plan = lab_plan()
    fws = tuple(
        f.model_copy(update={"interfaces": {}}) if f.name == "fw-outer" else f
        for f in plan.firewalls
    )
    text = _files(Target.nftables, plan.model_copy(update={"firewalls": fws}))[
        "firewall-fw-outer.nft"
    ]
    assert "No interface known for zone(s) internet, perimeter" in text
    assert "iifname" not in text and nft_space(text)


def test_ipv4_and_ipv6_rules_are_separate_and_only_where_both_ends_have_the_family() -> None:
    space = nft_space(_files(Target.nftables)["host-EX1.nft"])
    fams = {}
    for (fam, _, _, _), boxes in space.items():
        for b in boxes:
            fams.setdefault(b[4], set()).add(fam)
    assert fams[25] == {4, 6}  # EDGE1 and EX1 both dual-stack
    assert fams[135] == {4}  # DC1 is IPv4 only


def test_host_firewall_takes_flows_to_the_host_but_not_local_flows() -> None:
    text = _files(Target.nftables)["host-EX1.nft"]
    assert "hook input priority filter; policy drop;" in text
    assert 'iifname "lo" accept' in text
    assert "EX1>EX1" not in text
    # the intra-zone flow that crosses no network firewall is on the host firewall
    assert "mailbox.admin_remote_registry:DC1>EX1:tcp/135" in text
    assert "tcp dport 6005-6010" in text or "6005-6010 }" in text
    assert "udp dport 88" in _files(Target.nftables)["host-DC1.nft"]


def test_host_rules_only_in_the_hosts_own_os_family_unless_asked() -> None:
    # EX1 (2008) and DC1 (2003) are Windows servers: nftables and iptables leave them
    own = render(lab_plan(), Target.nftables, ALL, options())
    assert sorted(f.name for f in own.files) == ["firewall-fw-inner.nft", "firewall-fw-outer.nft"]
    assert own.skipped == ("EX1", "DC1")
    with pytest.raises(FirewallError, match=r"runs Windows Server 2003.*--host-format any"):
        generate(lab_plan(), Target.iptables, Selection(host="DC1"), options())
    assert "host-DC1.nft" in _files(Target.nftables, host_format="any")
    # ... and the windows target writes no file for a host without a Windows version
    plan = lab_plan(DC1={"windows": None})
    win = render(plan, Target.windows, ALL, options("any"))
    assert not any("DC1" in f.name for f in win.files) and win.skipped == ("DC1",)
    with pytest.raises(FirewallError, match="'DC1' is not a Windows server"):
        generate(plan, Target.windows, Selection(host="DC1"), options())


def test_selection_of_one_firewall_or_one_host() -> None:
    assert list(_files(Target.nftables, selection=Selection(firewall="fw-inner"))) == [
        "firewall-fw-inner.nft"
    ]
    assert list(_files(Target.iptables, selection=Selection(host="DC1"))) == [
        "host-DC1.rules.v4",
        "host-DC1.rules.v6",
    ]
    with pytest.raises(InputError, match="--firewall: no network firewall 'nope'"):
        _files(Target.nftables, selection=Selection(firewall="nope"))
    with pytest.raises(InputError, match="host_firewall: false"):
        _files(Target.nftables, selection=Selection(host="EDGE1"))


def test_null_protocol_is_refused_naming_flow_and_path_unless_chosen() -> None:
    plan = lab_plan()
    ex1, dc1 = plan.host("EX1"), plan.host("DC1")
    odd = flow("mailbox.legacy_backup", dc1, ex1, None, port_range=PortSpan(start=7000, end=7001))
    plan = lab_plan(extra_flows=(odd,))
    for target in Target:
        with pytest.raises(
            FirewallError,
            match=r"mailbox\.legacy_backup:DC1>EX1.*catalog path mailbox\.legacy_backup.*--protocol",
        ):
            _files(target, plan)
    text = _files(Target.nftables, plan, **{"mailbox.legacy_backup": ("tcp", "udp")})[
        "host-EX1.nft"
    ]
    assert "7000-7001" in text and "udp dport 7000-7001" in text
    # the comments show the protocol chosen, not the reference's "any"
    assert "mailbox.legacy_backup:DC1>EX1:tcp/7000-7001" in text
    assert "mailbox.legacy_backup:DC1>EX1:udp/7000-7001" in text
    assert "any/7000" not in text
    only_tcp = _files(Target.nftables, plan, **{odd.id: ("tcp",)})["host-EX1.nft"]
    assert "udp dport 7000-7001" not in only_tcp and "DC1>EX1:tcp/7000-7001" in only_tcp
    with pytest.raises(InputError, match="names no flow without a protocol"):
        _files(Target.nftables, lab_plan(), **{"client_access.owa": ("tcp",)})


def test_impossible_family_pairing_is_an_error() -> None:
    plan = lab_plan(DC1={"addresses": ("fd00:1::10",)})
    with pytest.raises(FirewallError, match=r"source 'DC1' has only IPv6.*destination 'EX1' only"):
        # EX1 is dual-stack, so only a v6-only source to a v4-only destination fails:
        _files(
            Target.nftables,
            lab_plan(DC1={"addresses": ("fd00:1::10",)}, EX1={"addresses": ("10.1.0.20",)}),
        )
    assert _files(Target.nftables, plan)  # v6-only DC1 to dual-stack EX1 is fine


def test_host_without_addresses_is_not_widened_to_any() -> None:
    with pytest.raises(FirewallError, match="'phones' has no addresses"):
        _files(Target.csv, lab_plan(phones={"addresses": ()}))


def test_rpc_range_must_be_exactly_the_destination_range() -> None:
    plan = lab_plan(EX1={"rpc_range": PortSpan(start=6005, end=6009)})
    with pytest.raises(FirewallError, match="differs from the RPC dynamic range 6005-6009"):
        _files(Target.nftables, plan)


def test_flow_without_port_is_refused() -> None:
    plan = lab_plan()
    bad = flow("mailbox.ccr_scr_seeding", plan.host("EX1"), plan.host("DC1"), "tcp")
    with pytest.raises(FirewallError, match="no port and no port range"):
        _files(Target.iptables, lab_plan(extra_flows=(bad,)))


def test_csv_matrix_one_row_per_consolidated_rule_with_all_its_paths() -> None:
    text = _files(Target.csv)["firewall-matrix.csv"]
    rows = list(csv.DictReader(io.StringIO(text)))
    https = [r for r in rows if r["ports"] == "443" and r["destination"] == "EX1"]
    assert [r["enforced at"] for r in https] == [
        "firewall fw-outer",
        "firewall fw-inner",
        "host EX1",
    ]
    for r in https:  # OWA and ActiveSync from both populations: one row
        assert r["path ids"] == "client_access.owa client_access.activesync"
        assert r["flows"] == "2" and r["source hosts"] == "internet-users phones"
        assert r["flow ids"].splitlines() == [
            "client_access.owa:internet-users>EX1:tcp/443",
            "client_access.activesync:phones>EX1:tcp/443",
        ]
        # 203.0.113.128/25 (phones) lies inside 203.0.113.0/24: one network
        assert r["source addresses"] == "203.0.113.0/24 2001:db8:ffff::/48"
    assert https[0]["purpose (zh)"] == "Outlook Web Access; Exchange ActiveSync 应用程序"
    udp = [r for r in rows if r["protocol"] == "udp"]
    assert [(r["destination"], r["ports"]) for r in udp] == [("DC1", "88")] * 1
    assert not any("EX1>EX1" in r["flow ids"] for r in rows)


def test_aerleon_filters_per_ingress_zone_and_return_terms() -> None:
    policies, defs, _, _ = build_policies(lab_plan(), Selection(), options("any"))
    outer = policies["firewall-fw-outer"]["filters"]
    heads = [f["header"]["targets"] for f in outer]
    assert {
        "juniper": "pathsec-fw-outer-from-internet mixed",
        "cisco": "pathsec-fw-outer-from-internet mixed",
    } in heads
    assert policies["host-EX1"]["filters"][0]["header"]["targets"] == {"nftables": "mixed input"}
    for p in policies.values():
        assert all(f["terms"][-1]["action"] == "deny" for f in p["filters"])
    # replies of internet -> EX1 443 enter fw-outer from the perimeter
    back = next(f for f in outer if "from-perimeter" in f["header"]["targets"]["juniper"])
    reply = next(t for t in back["terms"] if t["name"].endswith("-reply"))
    assert reply["source-port"] == "PATHSEC_TCP_443" and reply["option"] == "established"
    assert reply["source-address"] == "PATHSEC_EX1"
    assert defs["services"]["PATHSEC_TCP_6005_6010"] == [{"port": "6005-6010", "protocol": "tcp"}]
    # objects named after hosts and sets of hosts
    group = defs["networks"][reply["destination-address"]]["values"]
    assert group == [{"name": "PATHSEC_INTERNET_USERS"}, {"name": "PATHSEC_PHONES"}]

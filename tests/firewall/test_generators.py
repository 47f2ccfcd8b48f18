"""Generator semantics: least privilege, refusals, interfaces, families, registry."""

from __future__ import annotations

import csv
import io
import re

import pytest

from firewall.conftest import RPC, flow, lab_plan, options
from pathsec.errors import InputError
from pathsec.firewall import GENERATORS, FirewallError, Selection, Target, generate, generator_for
from pathsec.firewall.aerleon_policy import build_policy
from pathsec.plan.models import PortSpan

ALL = Selection()


def _files(target: Target, plan=None, selection=ALL, **protocols):
    return {
        f.name: f.content
        for f in generate(plan or lab_plan(), target, selection, options(**protocols))
    }


def test_every_target_has_a_generator_that_declares_its_capabilities() -> None:
    assert set(GENERATORS) == set(Target)
    for target in Target:
        gen = generator_for(target)
        assert gen.target is target
        assert gen.capabilities.host_firewalls
        assert gen.capabilities.description


NFT_RULE = re.compile(
    r'^(?:iifname "(?P<iif>[^"]+)" )?(?:oifname "(?P<oif>[^"]+)" )?'
    r"(?P<ip>ip6?) saddr (?P<src>\S+) ip6? daddr (?P<dst>\S+) (?P<proto>tcp|udp) dport (?P<port>\S+) accept"
)


def _nft_rules(text: str) -> list[dict[str, str]]:
    return [m.groupdict() for line in text.splitlines() if (m := NFT_RULE.match(line.strip()))]


def test_nftables_accepts_exactly_the_flows_crossing_each_firewall() -> None:
    files = _files(Target.nftables)
    assert set(files) == {
        "firewall-fw-outer.nft",
        "firewall-fw-inner.nft",
        "host-EX1.nft",
        "host-DC1.nft",
    }
    plan = lab_plan()
    for fw in ("fw-outer", "fw-inner"):
        text = files[f"firewall-{fw}.nft"]
        assert "hook forward priority filter; policy drop;" in text
        assert "ct state established,related accept" in text
        got = {(r["src"], r["dst"], r["proto"], r["port"]) for r in _nft_rules(text)}
        want = set()
        for f in plan.flows:
            if fw not in f.crosses:
                continue
            src, dst = plan.host(f.source), plan.host(f.destination)
            for s in src.addresses:
                for d in dst.addresses:
                    if (":" in s) == (":" in d):
                        port = str(f.port) if f.port else str(f.port_range)
                        want.add((s.removesuffix("/32"), d, f.protocol, port))
        assert got == want


def test_interfaces_follow_the_path_through_two_firewalls() -> None:
    files = _files(Target.nftables)
    outer = [r for r in _nft_rules(files["firewall-fw-outer.nft"]) if r["port"] == "443"]
    inner = [r for r in _nft_rules(files["firewall-fw-inner.nft"]) if r["port"] == "443"]
    # internet -> internal: at fw-outer it leaves towards the perimeter (eth1), at fw-inner
    # it enters from the perimeter (eth0) and leaves to the internal zone (eth1).
    assert {(r["iif"], r["oif"]) for r in outer} == {("eth0", "eth1")}
    assert {(r["iif"], r["oif"]) for r in inner} == {("eth0", "eth1")}
    sync = [r for r in _nft_rules(files["firewall-fw-inner.nft"]) if r["port"] == "50636"]
    assert {(r["iif"], r["oif"]) for r in sync} == {("eth1", "eth0")}


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
    assert "iifname" not in text and _nft_rules(text)


def test_ipv4_and_ipv6_rules_are_separate_and_only_where_both_ends_have_the_family() -> None:
    rules = _nft_rules(_files(Target.nftables)["host-EX1.nft"])
    by_port = {}
    for r in rules:
        by_port.setdefault(r["port"], set()).add(r["ip"])
    assert by_port["25"] == {"ip", "ip6"}  # EDGE1 and EX1 both dual-stack
    assert by_port["135"] == {"ip"}  # DC1 is IPv4 only


def test_host_firewall_takes_flows_to_the_host_but_not_local_flows() -> None:
    text = _files(Target.nftables)["host-EX1.nft"]
    assert "hook input priority filter; policy drop;" in text
    assert 'iifname "lo" accept' in text
    assert "EX1>EX1" not in text
    # the intra-zone flow that crosses no network firewall is on the host firewall
    assert "mailbox.admin_remote_registry:DC1>EX1:tcp/135" in text
    assert "tcp dport 6005-6010" in text
    assert "udp" not in _files(Target.nftables)["host-EX1.nft"].split("nd-router-advert")[1]
    assert "udp dport 88" in _files(Target.nftables)["host-DC1.nft"]


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
    assert "tcp dport 7000-7001" in text and "udp dport 7000-7001" in text
    only_tcp = _files(Target.nftables, plan, **{odd.id: ("tcp",)})["host-EX1.nft"]
    assert "tcp dport 7000-7001" in only_tcp and "udp dport 7000-7001" not in only_tcp
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


def test_windows_refuses_network_firewalls_and_writes_kb154596() -> None:
    with pytest.raises(FirewallError, match="writes host firewalls only"):
        _files(Target.windows, selection=Selection(firewall="fw-outer"))
    files = _files(Target.windows)
    assert set(files) == {"host-EX1.ps1", "host-EX1-rpc.reg", "host-EX1-rpc.ps1", "host-DC1.ps1"}
    ps = files["host-EX1.ps1"]
    assert ps.count("New-NetFirewallRule") == 5
    assert "-Direction Inbound" in ps and "-LocalPort '6005-6010'" in ps
    assert "-RemoteAddress @('10.1.0.10')" in ps
    reg = files["host-EX1-rpc.reg"]
    hexed = re.search(r'"Ports"=hex\(7\):([0-9a-f,]+)', reg)
    assert hexed
    raw = bytes(int(b, 16) for b in hexed.group(1).split(","))
    assert raw.decode("utf-16-le") == f"{RPC.start}-{RPC.end}\0\0"
    assert '"PortsInternetAvailable"="Y"' in reg and '"UseInternetPorts"="Y"' in reg
    assert "[HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Rpc\\Internet]" in reg
    assert "-PropertyType MultiString -Value @('6005-6010')" in files["host-EX1-rpc.ps1"]


def test_csv_matrix_rows_and_chinese_purpose() -> None:
    text = _files(Target.csv)["firewall-matrix.csv"]
    rows = list(csv.DictReader(io.StringIO(text)))
    owa = [r for r in rows if r["flow id"] == "client_access.owa:internet-users>EX1:tcp/443"]
    assert [r["enforced at"] for r in owa] == ["firewall fw-outer", "firewall fw-inner", "host EX1"]
    assert owa[0]["purpose (zh)"] == "Outlook Web Access"
    udp = [r for r in rows if r["protocol"] == "udp"]
    assert [(r["destination"], r["port"]) for r in udp] == [("DC1", "88")]
    edge = next(r for r in rows if r["path id"] == "transport.edge_to_hub")
    assert edge["purpose (zh)"] == "边缘传输服务器到集线器传输服务器"
    assert edge["source addresses"] == "192.0.2.25 2001:db8:2::25"
    assert not any("EX1>EX1" in r["flow id"] for r in rows)


def test_aerleon_filters_per_ingress_zone() -> None:
    policy, defs = build_policy(lab_plan(), Selection(), options())
    names = [f["header"]["targets"] for f in policy["filters"]]
    assert {
        "juniper": "pathsec-fw-outer-from-internet mixed",
        "cisco": "pathsec-fw-outer-from-internet mixed",
    } in names
    assert {"nftables": "mixed input"} in names
    assert all(f["terms"][-1]["action"] == "deny" for f in policy["filters"])
    assert defs["services"]["PATHSEC_TCP_6005_6010"] == [{"port": "6005-6010", "protocol": "tcp"}]

"""Real tools check what the generators write: nft, iptables-restore, aerleon."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from aerleon import api
from aerleon.lib import naming

from firewall.conftest import (
    EXAMPLES,
    REPO,
    example_plan,
    flavours_plan,
    lab_plan,
    need,
    options_for,
)
from pathsec.firewall import Selection, Target, generate
from pathsec.firewall import iptables as ipt_module
from pathsec.plan.models import Plan

PLANS = [pytest.param(lab_plan, id="lab"), pytest.param(flavours_plan, id="flavours")] + [
    pytest.param(lambda p=p: example_plan(p), id=p.stem) for p in EXAMPLES
]


def _write(tmp_path: Path, plan: Plan, target: Target, **kw) -> list[Path]:
    out = []
    opts = replace(options_for(plan, "any"), **kw)
    for f in generate(plan, target, Selection(), opts):
        path = tmp_path / f.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.content)
        out.append(path)
    return out


@pytest.mark.root
@pytest.mark.parametrize("make_plan", PLANS)
def test_nft_checks_every_nftables_output(tmp_path: Path, make_plan, netns: str) -> None:
    need("nft")
    files = [p for p in _write(tmp_path, make_plan(), Target.nftables) if p.suffix == ".nft"]
    assert files
    for path in files:
        res = subprocess.run(
            ["ip", "netns", "exec", netns, "nft", "-c", "-f", str(path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert res.returncode == 0, f"{path.name}: {res.stderr}"


@pytest.mark.root
def test_nft_check_catches_a_broken_rule(tmp_path: Path, netns: str) -> None:
    need("nft")
    (path,) = _write(tmp_path, lab_plan(), Target.nftables)[:1]
    path.write_text(path.read_text().replace("tcp dport 443", "tcp dport 99999", 1))
    res = subprocess.run(
        ["ip", "netns", "exec", netns, "nft", "-c", "-f", str(path)],
        capture_output=True,
        timeout=30,
    )
    assert res.returncode != 0


@pytest.mark.root
@pytest.mark.parametrize("make_plan", PLANS)
def test_iptables_restore_tests_every_iptables_output(
    tmp_path: Path, make_plan, netns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    need("iptables-restore")
    need("ip6tables-restore")
    need("ipset")
    monkeypatch.setattr(ipt_module, "IPSET_MIN", 2)  # some ipsets in every plan
    files = _write(tmp_path, make_plan(), Target.iptables)
    assert files
    for path in files:
        if path.suffix != ".ipset":
            continue
        res = subprocess.run(
            ["ip", "netns", "exec", netns, "ipset", "restore", "-exist", "-file", str(path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert res.returncode == 0, f"{path.name}: {res.stderr}"
    for path in files:
        if path.suffix not in (".v4", ".v6"):
            continue
        tool = "iptables-restore" if path.name.endswith(".v4") else "ip6tables-restore"
        res = subprocess.run(
            ["ip", "netns", "exec", netns, tool, "--test", str(path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert res.returncode == 0, f"{path.name}: {res.stderr}"


def _defs(files: dict[str, str]) -> naming.Naming:
    defs = naming.Naming()
    defs.ParseDefinitionsObject(
        {
            **yaml.safe_load(files["aerleon/def/networks.yaml"]),
            **yaml.safe_load(files["aerleon/def/services.yaml"]),
        },
        "",
    )
    return defs


def _render(files: dict[str, str]) -> dict[str, str]:
    """Render the written policies with aerleon's API, as a user with aclgen would."""
    policies = [
        {"filename": name.rsplit("/", 1)[1].removesuffix(".yaml"), **yaml.safe_load(text)}
        for name, text in files.items()
        if name.startswith("aerleon/policies/")
    ]
    out = api.Generate(policies, _defs(files))
    assert out is not None
    return dict(out)


def _aerleon(plan: Plan, targets: tuple[str, ...] = ()) -> dict[str, str]:
    opts = replace(options_for(plan, "any"), aerleon_targets=targets)
    return {f.name: f.content for f in generate(plan, Target.aerleon, Selection(), opts)}


def _permits(text: str) -> list[str]:
    return [
        ln.strip() for ln in text.splitlines() if ln.strip().startswith(("permit", "access-list"))
    ]


def test_aerleon_renders_the_default_policy_for_nftables_juniper_and_cisco() -> None:
    out = _render(_aerleon(lab_plan()))
    assert set(out) == {
        "firewall-fw-outer.jcl",
        "firewall-fw-outer.acl",
        "firewall-fw-inner.jcl",
        "firewall-fw-inner.acl",
        "host-EX1.nft",
        "host-DC1.nft",
    }
    nft, jcl, acl = out["host-EX1.nft"], out["firewall-fw-inner.jcl"], out["firewall-fw-inner.acl"]
    # host firewalls through aerleon's nftables generator (input hook)
    assert "hook input" in nft and "policy drop" in nft
    assert "ip saddr 10.1.0.10/32 ip daddr 10.1.0.20/32 tcp dport { 135, 6005-6010 }" in nft
    assert "udp dport 88" in out["host-DC1.nft"]
    # network firewalls through juniper and cisco
    assert "filter pathsec-fw-inner-from-perimeter4" in jcl
    assert "192.0.2.25/32;" in jcl and "destination-port 50636;" in jcl
    assert "permit tcp host 192.0.2.25 host 10.1.0.20 eq smtp" in acl or (
        "permit tcp host 192.0.2.25 host 10.1.0.20 eq 25" in acl
    )
    assert "permit tcp 203.0.113.0 0.0.0.255 host 10.1.0.20 eq 443" in acl
    assert "permit tcp 2001:db8:ffff::/48 host fd00:1::20 eq 443" in acl
    # nothing wider: no permit with 'any'
    assert not [ln for ln in _permits(acl) if ln.startswith("permit") and " any" in ln]


def test_stateless_platforms_get_return_terms_and_stateful_ones_do_not() -> None:
    targets = ("juniper", "cisco", "ciscoasa", "paloalto", "packetfilter", "srx", "nftables")
    files = _aerleon(lab_plan(), targets)
    out = {
        name.removeprefix("aerleon/out/"): text for name, text in files.items() if "/out/" in name
    }
    assert out == _render(files)  # pathsec's rendering is aerleon's own
    # Juniper (stateless): the replies of internet -> EX1 443 enter fw-outer from the
    # perimeter: source port 443, tcp-established, client ports 1024-65535
    jcl = out["firewall-fw-outer.jcl"]
    back = jcl.split("filter pathsec-fw-outer-from-perimeter4")[1].split("filter ")[0]
    assert "term r1-tcp-reply" in back and "tcp-established;" in back
    assert "source-port 443;" in back and "destination-port 1024-65535;" in back
    assert "10.1.0.20/32;" in back.split("source-address")[1].split("}")[0]
    # Cisco (stateless): the same as an 'established' permit
    acl = out["firewall-fw-outer.acl"]
    assert (
        "permit tcp host 10.1.0.20 eq 443 203.0.113.0 0.0.0.255 range 1024 65535 established" in acl
    )
    # UDP replies by ports alone (Kerberos from DC1 back to EX1 crosses no firewall here)
    # stateful platforms: no reply term at all
    for name in (
        "firewall-fw-outer.asa",
        "firewall-fw-outer.pf",
        "firewall-fw-outer.xml",
        "firewall-fw-outer.srx",
        "firewall-fw-outer.nft",
    ):
        assert "reply" not in out[name], name
        assert "eq 443 203.0.113" not in out[name] and "port { 443 } to" not in out[name]
    assert "keep state" in out["firewall-fw-outer.pf"]
    asa = out["firewall-fw-outer.asa"]
    assert (
        "access-list pathsec-fw-outer-from-internet extended permit tcp 203.0.113.0 255.255.255.0 host 10.1.0.20 eq https"
        in asa
    )
    # Palo Alto: policies per zone pair
    xml = out["firewall-fw-outer.xml"]
    assert re.search(r"<to>\s*<member>perimeter</member>\s*</to>\s*<from>\s*<member>internet", xml)
    assert (
        "hook forward" in out["firewall-fw-outer.nft"]
        and "ct state established,related accept" in out["firewall-fw-outer.nft"]
    )


def test_udp_replies_on_stateless_platforms_are_scoped_by_ports() -> None:
    plan = example_plan(REPO / "examples" / "two-sites.yaml")
    out = _render(_aerleon(plan, ("juniper", "cisco")))
    acl = "\n".join(text for name, text in out.items() if name.endswith(".acl"))
    replies = [
        ln
        for ln in acl.splitlines()
        if ln.strip().startswith("permit udp") and " eq " in ln.split("host", 2)[-1]
    ]
    udp_back = [ln for ln in acl.splitlines() if "permit udp" in ln and "range 1024 65535" in ln]
    assert udp_back, "stateless UDP replies go to client ports 1024-65535"
    assert replies is not None


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_aerleon_renders_every_example_for_many_platforms(path: Path) -> None:
    plan = example_plan(path)
    targets = (
        "juniper",
        "cisco",
        "ciscoasa",
        "paloalto",
        "packetfilter",
        "srx",
        "nftables",
        "arista",
        "ciscoxr",
        "cisconx",
        "brocade",
        "juniperevo",
    )
    files = _aerleon(plan, targets)
    out = [n for n in files if n.startswith("aerleon/out/")]
    assert {n.rsplit(".", 1)[1] for n in out} >= {"jcl", "acl", "asa", "xml", "pf", "srx", "nft"}
    # nothing wider than the plan: 'any' only where a host of the plan is the whole internet
    whole = any(a.endswith("/0") for h in plan.hosts for a in h.addresses)
    for name in out:
        if name.endswith((".acl", ".asa", ".xacl", ".nxacl", ".eacl", ".bacl")) and not whole:
            permits = [ln for ln in _permits(files[name]) if "permit" in ln]
            assert not [ln for ln in permits if re.search(r"permit \w+ any", ln)], name


def test_aerleon_aclgen_renders_the_written_directory(tmp_path: Path) -> None:
    """The layout pathsec writes is what aerleon's own ``aclgen`` command reads."""
    plan = example_plan(REPO / "examples" / "small.yaml")  # network firewalls only
    _write(tmp_path, plan, Target.aerleon)
    out = tmp_path / "acl"
    out.mkdir()
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "aerleon",
            "--base_directory",
            str(tmp_path / "aerleon" / "policies"),
            "--definitions_directory",
            str(tmp_path / "aerleon" / "def"),
            "--output_directory",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names and {n.rsplit(".", 1)[1] for n in names} <= {"acl", "jcl", "nft"}
    assert any("permit tcp" in (out / n).read_text() for n in names if n.endswith(".acl"))

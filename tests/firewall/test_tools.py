"""Real tools check what the generators write: nft, iptables-restore, aerleon."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from aerleon import api
from aerleon.lib import naming

from firewall.conftest import EXAMPLES, REPO, example_plan, lab_plan, need, options, options_for
from pathsec.firewall import Selection, Target, generate
from pathsec.plan.models import Plan

PLANS = [pytest.param(lab_plan, id="lab")] + [
    pytest.param(lambda p=p: example_plan(p), id=p.stem) for p in EXAMPLES
]


def _write(tmp_path: Path, plan: Plan, target: Target) -> list[Path]:
    out = []
    for f in generate(plan, target, Selection(), options_for(plan)):
        path = tmp_path / f.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.content)
        out.append(path)
    return out


@pytest.mark.root
@pytest.mark.parametrize("make_plan", PLANS)
def test_nft_checks_every_nftables_output(tmp_path: Path, make_plan, netns: str) -> None:
    need("nft")
    files = _write(tmp_path, make_plan(), Target.nftables)
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
    tmp_path: Path, make_plan, netns: str
) -> None:
    need("iptables-restore")
    need("ip6tables-restore")
    files = _write(tmp_path, make_plan(), Target.iptables)
    assert files
    for path in files:
        tool = "iptables-restore" if path.name.endswith(".v4") else "ip6tables-restore"
        res = subprocess.run(
            ["ip", "netns", "exec", netns, tool, "--test", str(path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert res.returncode == 0, f"{path.name}: {res.stderr}"


def _render(files: dict[str, str]) -> dict[str, str]:
    policy = yaml.safe_load(files["aerleon/policies/pol/pathsec.yaml"])
    defs = naming.Naming()
    defs.ParseDefinitionsObject(
        {
            **yaml.safe_load(files["aerleon/def/networks.yaml"]),
            **yaml.safe_load(files["aerleon/def/services.yaml"]),
        },
        "",
    )
    out = api.Generate([{"filename": "pathsec", **policy}], defs)
    assert out is not None
    return dict(out)


def test_aerleon_renders_the_policy_for_nftables_juniper_and_cisco() -> None:
    files = {
        f.name: f.content for f in generate(lab_plan(), Target.aerleon, Selection(), options())
    }
    out = _render(files)
    assert set(out) == {"pathsec.nft", "pathsec.jcl", "pathsec.acl"}
    nft, jcl, acl = out["pathsec.nft"], out["pathsec.jcl"], out["pathsec.acl"]
    # host firewalls through aerleon's nftables generator (input hook)
    assert "hook input" in nft and "policy drop" in nft
    assert "ip saddr 10.1.0.10/32 ip daddr 10.1.0.20/32 tcp dport 6005-6010" in nft
    assert "udp dport 88" in nft
    # network firewalls through juniper and cisco
    assert "filter pathsec-fw-inner-from-perimeter4" in jcl
    assert "192.0.2.25/32;" in jcl and "destination-port 50636;" in jcl
    assert "permit tcp host 192.0.2.25 host 10.1.0.20 eq smtp" in acl or (
        "permit tcp host 192.0.2.25 host 10.1.0.20 eq 25" in acl
    )
    assert "permit tcp 203.0.113.0 0.0.0.255 host 10.1.0.20 eq 443" in acl
    assert "permit tcp 2001:db8:ffff::/48 host fd00:1::20 eq 443" in acl
    # nothing wider: no permit with 'any'
    assert not [
        line for line in acl.splitlines() if line.strip().startswith("permit") and " any" in line
    ]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_aerleon_renders_every_example(path: Path) -> None:
    plan = example_plan(path)
    files = {
        f.name: f.content for f in generate(plan, Target.aerleon, Selection(), options_for(plan))
    }
    out = _render(files)
    assert out


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
    assert sorted(p.name for p in out.iterdir()) == ["pathsec.acl", "pathsec.jcl"]
    assert "permit tcp" in (out / "pathsec.acl").read_text()

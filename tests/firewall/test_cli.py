"""``pathsec firewall`` on the command line: files, stdout, summary, exit codes, messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firewall.conftest import REPO, flavours_plan, lab_plan
from pathsec.cli.main import run

SMALL = str(REPO / "examples" / "small.yaml")
TWO_SITES = REPO / "examples" / "two-sites.yaml"
OPEN = ["--protocol", "mailbox.ccr_scr_seeding=tcp", "--protocol", "mailbox.legacy_backup=tcp"]


def test_writes_files_atomically_into_output(tmp_path: Path) -> None:
    assert run(["firewall", SMALL, "--target", "nftables", "--output", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "firewall-fw-inner.flows",
        "firewall-fw-inner.nft",
        "firewall-fw-outer.flows",
        "firewall-fw-outer.nft",
    ]
    assert "chain forward" in (tmp_path / "firewall-fw-inner.nft").read_text()


def test_single_file_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["firewall", SMALL, "-t", "iptables", "--firewall", "fw-outer"]) == 0
    out = capsys.readouterr().out
    assert "# ==> firewall-fw-outer.rules.v4 <==" in out and "*filter" in out
    assert run(["firewall", SMALL, "-t", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("enforced at,rule,source,") and "==>" not in out


def test_summary_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = tmp_path / "summary.json"
    args = ["firewall", str(TWO_SITES), "-t", "nftables", *OPEN, "-o", str(tmp_path / "rules")]
    assert run([*args, "--summary-json", str(summary)]) == 0
    err = capsys.readouterr().err
    assert "flows -> rules per enforcement point" in err and "firewall fw-outer" in err
    data = json.loads(summary.read_text())
    assert data["target"] == "nftables"
    outer = next(p for p in data["points"] if p["name"] == "fw-outer")
    assert outer["rules"] < outer["per_flow_rules"] and outer["refused"] == []
    assert data["totals"]["rules"] == sum(p["rules"] for p in data["points"])
    # Windows servers with a host firewall are left to --target windows, and said so
    assert set(data["skipped_hosts"]) == {"HQ-MBX1", "HQ-MBX2", "EDGE1", "BR-MBX1"}
    assert "--host-format any" in err
    assert run([*args, "--summary-json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["target"] == "nftables"
    assert run(["firewall", str(TWO_SITES), "-t", "nftables", *OPEN, "--summary-json", "-"]) == 2


def test_refused_flows_exit_3_with_the_files_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(flavours_plan().model_dump_json())
    args = ["firewall", str(plan_file), "-t", "windows", "--protocol", "mailbox.legacy_backup=both"]
    assert (
        run([*args, "-o", str(tmp_path / "win"), "--summary-json", str(tmp_path / "s.json")]) == 3
    )
    err = capsys.readouterr().err
    assert "flows refused by --target windows" in err
    assert "refused: W2003: client_access.owa:internet-users>W2003:tcp/443: IPv6 part" in err
    assert (tmp_path / "win" / "host-W2003.cmd").exists()
    data = json.loads((tmp_path / "s.json").read_text())
    w2008 = next(p for p in data["points"] if p["name"] == "W2008")
    assert w2008["format"] == "windows 2008: netsh advfirewall (2008)"
    assert {r["flow"] for r in w2008["refused"]} == {
        "mailbox.legacy_backup:BK1>W2008:tcp/1025-65535",
        "mailbox.legacy_backup:BK1>W2008:udp/1025-65535",
    }
    assert run([*args, "--host", "W2012"]) == 0  # nothing refused on 2012


def test_plan_json_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(lab_plan().model_dump_json())
    assert run(["firewall", str(plan_file), "-t", "windows", "--host", "EX1"]) == 0
    assert "netsh advfirewall firewall add rule" in capsys.readouterr().out


def test_host_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(lab_plan().model_dump_json())
    assert run(["firewall", str(plan_file), "-t", "nftables", "--host", "DC1"]) == 3
    assert "runs Windows Server 2003" in capsys.readouterr().err
    args = ["firewall", str(plan_file), "-t", "nftables", "--host", "DC1", "--host-format", "any"]
    assert run(args) == 0
    assert "chain input" in capsys.readouterr().out
    assert run(["firewall", str(plan_file), "-t", "nftables", "--host-format", "some"]) == 2


def test_aerleon_targets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["firewall", SMALL, "-t", "aerleon", "-o", str(tmp_path)]
    assert (
        run([*args, "--aerleon-targets", "juniper,paloalto", "--aerleon-targets", "ciscoasa"]) == 0
    )
    out = sorted(p.name for p in (tmp_path / "aerleon" / "out").iterdir())
    assert out == [
        "firewall-fw-inner.asa",
        "firewall-fw-inner.jcl",
        "firewall-fw-inner.xml",
        "firewall-fw-outer.asa",
        "firewall-fw-outer.jcl",
        "firewall-fw-outer.xml",
    ]
    capsys.readouterr()
    assert run([*args, "--aerleon-targets", "juniper,bogus"]) == 2
    assert "'bogus' is not a platform" in capsys.readouterr().err
    assert run(["firewall", SMALL, "-t", "nftables", "--aerleon-targets", "juniper"]) == 2


def test_unknown_firewall_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["firewall", SMALL, "-t", "nftables", "--firewall", "fw-x"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "pathsec: error: " + SMALL + ": --firewall: no network firewall 'fw-x' in the plan "
        "(known: fw-outer, fw-inner)"
    )


def test_windows_refuses_a_network_firewall(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["firewall", SMALL, "-t", "windows", "--firewall", "fw-outer"]) == 3
    assert "writes host firewalls only" in capsys.readouterr().err


def test_bad_protocol_option_and_both_selections(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["firewall", SMALL, "-t", "csv", "--protocol", "x=icmp"]) == 2
    assert "--protocol: 'x=icmp': use PATH_ID=tcp|udp|both" in capsys.readouterr().err
    assert run(["firewall", SMALL, "-t", "csv", "--firewall", "a", "--host", "b"]) == 2


@pytest.mark.skipif(not TWO_SITES.exists(), reason="example not present")
def test_flows_without_protocol_need_an_explicit_choice(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["firewall", str(TWO_SITES), "-t", "nftables"]) == 3
    err = capsys.readouterr().err
    assert "catalog path mailbox.ccr_scr_seeding" in err
    assert "--protocol mailbox.ccr_scr_seeding=tcp|udp|both" in err
    # one message names every flow that needs a choice; 587 is TCP and needs none
    assert err.count("\n") == 1 and "catalog path mailbox.legacy_backup" in err
    assert "--protocol mailbox.legacy_backup=tcp|udp|both" in err
    assert "smtp_client_to_hub" not in err
    assert run(["firewall", str(TWO_SITES), "-t", "nftables", "--host-format", "any", *OPEN]) == 0
    out = capsys.readouterr().out
    assert "1025-65535" in out and "udp dport 1025-65535" not in out
    # the comments say the protocol chosen, not the reference's 'any'
    assert "mailbox.ccr_scr_seeding:BR-MBX1>HQ-MBX1:tcp/1025-65535" in out
    assert ":any/1025-65535" not in out

"""``pathsec firewall`` on the command line: files, stdout, exit codes, messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from firewall.conftest import REPO, lab_plan
from pathsec.cli.main import run

SMALL = str(REPO / "examples" / "small.yaml")
TWO_SITES = REPO / "examples" / "two-sites.yaml"


def test_writes_files_atomically_into_output(tmp_path: Path) -> None:
    assert run(["firewall", SMALL, "--target", "nftables", "--output", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "firewall-fw-inner.nft",
        "firewall-fw-outer.nft",
    ]
    assert "chain forward" in (tmp_path / "firewall-fw-inner.nft").read_text()


def test_single_file_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["firewall", SMALL, "-t", "iptables", "--firewall", "fw-outer"]) == 0
    out = capsys.readouterr().out
    assert "# ==> firewall-fw-outer.rules.v4 <==" in out and "*filter" in out
    assert run(["firewall", SMALL, "-t", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("enforced at,source,") and "==>" not in out


def test_plan_json_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(lab_plan().model_dump_json())
    assert run(["firewall", str(plan_file), "-t", "windows", "--host", "EX1"]) == 0
    assert "New-NetFirewallRule" in capsys.readouterr().out


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
    args = ["--protocol", "mailbox.ccr_scr_seeding=tcp", "--protocol", "mailbox.legacy_backup=tcp"]
    assert run(["firewall", str(TWO_SITES), "-t", "nftables", *args]) == 0
    out = capsys.readouterr().out
    assert "tcp dport 1025-65535" in out and "udp dport 1025-65535" not in out

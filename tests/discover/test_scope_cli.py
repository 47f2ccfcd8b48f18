"""Targets and ranges, zones from addresses, and the command when nothing answers."""

from __future__ import annotations

import ipaddress
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pathsec.cli.main import run
from pathsec.discover.draft import zone_name, zone_of
from pathsec.discover.scope import DISCOVERY_PORTS, endpoint_targets, parse_scope, target_line
from pathsec.errors import InputError

NET = f"127.{100 + os.getpid() % 50}.0"  # nothing listens here


@pytest.mark.parametrize(
    ("targets", "count", "first", "last"),
    [
        (["10.0.0.0/30"], 2, "10.0.0.1", "10.0.0.2"),  # network and broadcast left out
        (["10.0.0.0/31"], 2, "10.0.0.0", "10.0.0.1"),  # RFC 3021: both are hosts
        (["10.0.0.7/32"], 1, "10.0.0.7", "10.0.0.7"),
        (["10.0.0.5/24"], 254, "10.0.0.1", "10.0.0.254"),  # host bits: the /24 meant
        (["10.0.0.1", "10.0.0.0/30", "10.0.0.1"], 2, "10.0.0.1", "10.0.0.2"),  # once each
        (["[2001:db8::1]"], 1, "2001:db8::1", "2001:db8::1"),
        (["2001:db8::/126"], 3, "2001:db8::1", "2001:db8::3"),
        (["10.0.0.0/20"], 4094, "10.0.0.1", "10.0.15.254"),  # just inside the bound
    ],
)
def test_scope_expands_host_addresses(
    targets: list[str], count: int, first: str, last: str
) -> None:
    scope = parse_scope(targets)
    assert len(scope.addresses) == count
    assert (scope.addresses[0], scope.addresses[-1]) == (first, last)


def test_the_bound_counts_before_expanding_and_max_hosts_raises_it() -> None:
    with pytest.raises(InputError, match=r"more than --max-hosts 4,096"):
        parse_scope(["10.0.0.0/8"])  # refused at once, not after listing 16 M addresses
    with pytest.raises(InputError, match=r"more than --max-hosts 100"):
        parse_scope(["10.0.0.0/25"], max_hosts=100)
    assert len(parse_scope(["10.0.0.0/19"], max_hosts=8190).addresses) == 8190


def test_every_address_gets_every_discovery_port_in_the_audits_target_form() -> None:
    targets = endpoint_targets(["10.0.0.1", "2001:db8::1"])
    assert len(targets) == 2 * len(DISCOVERY_PORTS)
    lines = {target_line(t) for t in targets}
    assert {"10.0.0.1:25/smtp", "10.0.0.1:3268/ldap", "[2001:db8::1]:5061/sips"} <= lines


def test_zones_follow_the_given_cidr_else_the_24() -> None:
    given = [ipaddress.ip_network("10.1.0.0/16"), ipaddress.ip_network("10.1.2.0/24")]
    assert str(zone_of("10.1.2.9", given)) == "10.1.2.0/24"  # the smallest given
    assert str(zone_of("10.1.7.9", given)) == "10.1.0.0/16"
    assert str(zone_of("192.0.2.9", given)) == "192.0.2.0/24"
    assert str(zone_of("2001:db8::9", given)) == "2001:db8::/64"
    assert zone_name(zone_of("2001:db8::9", given)) == "net-2001-db8---64"


def test_nothing_answers_no_draft_exit_3(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "d.yaml"
    rc = run(["discover", f"{NET}.1", f"{NET}.2", "-q", "-o", str(out), "--timeout", "1"])
    err = capfd.readouterr().err
    assert rc == 3, err
    assert not out.exists()
    assert "no Exchange or Active Directory server answered" in err
    assert f"left out, no port answered: {NET}.1-{NET}.2" in err
    evidence = json.loads((tmp_path / "d.evidence.json").read_text())
    assert evidence["servers"] == [] and evidence["silent"] == [f"{NET}.1-{NET}.2"]
    assert evidence["endpoints"] == 2 * len(DISCOVERY_PORTS)


def test_sigterm_stops_discovery_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "d.yaml"
    exe = Path(sys.executable).with_name("pathsec")
    # 42 paced connections at 5/s: about 8 s unless stopped
    argv = [str(exe), "discover", f"{NET}.1", f"{NET}.2", "-q", "-o", str(out), "--max-rate", "5"]
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        ready, _, _ = select.select([proc.stderr], [], [], 60)
        first = proc.stderr.readline() if ready else ""
        assert first.startswith("discover: 2 addresses"), first  # probing starts now
        time.sleep(0.7)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert proc.returncode == 143, err
    assert "interrupted by SIGTERM: nothing written" in err
    assert not out.exists() and not (tmp_path / "d.evidence.json").exists()


def test_the_engine_skips_only_follow_up_probes() -> None:
    from pathsec.audit.engine import Engine, Limits, NullObserver
    from pathsec.discover.run import SKIP
    from pathsec.probes.interface import ProbeKind, ProbeSettings

    assert ProbeKind.tls in SKIP and ProbeKind.ntlm not in SKIP
    Engine(ProbeSettings(), Limits(), NullObserver(), SKIP)
    with pytest.raises(ValueError, match="only follow-up probes"):
        Engine(ProbeSettings(), Limits(), NullObserver(), frozenset({ProbeKind.smtp}))

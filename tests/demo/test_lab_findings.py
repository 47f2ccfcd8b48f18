"""Audit every lab profile through the demo pipeline; the findings are exactly the documented ones.

The expectations are data, in the lab profiles (``src/pathsec/lab/profiles/*.yaml``): each
deviation lists the finding ids it produces, and each profile lists the ids it has by
design (self-signed certificates, Exchange fingerprints, services the lab does not
emulate). They cover the probes and checks that exist today; when a probe or a check is
added, extend the profiles' ``expect_findings`` (this test then says what is missing).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pathsec.demo import DemoOutcome, run_demo
from pathsec.lab.profiles import BUILTIN_PROFILES, SERVICE_PORTS, load_profile
from pathsec.topology.loader import load_deployment


@pytest.fixture(scope="module", params=BUILTIN_PROFILES)
def outcome(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> DemoOutcome:
    profile = str(request.param)
    return run_demo(tmp_path_factory.mktemp(f"demo-{profile}"), profile)


def test_findings_are_exactly_the_documented_ones(outcome: DemoOutcome) -> None:
    prof = load_profile(outcome.lab_profile)
    expected = set(prof.expect_findings)
    for dev in prof.deviations:
        expected |= set(dev.expect_findings)
    observed = {f.id for f in outcome.result.findings}
    assert outcome.result.complete
    assert sorted(observed - expected) == [], "findings no profile or deviation documents"
    assert sorted(expected - observed) == [], "documented findings the audit did not report"


def test_each_deviation_shows_on_its_server_and_port(outcome: DemoOutcome) -> None:
    prof = load_profile(outcome.lab_profile)
    for dev in prof.deviations:
        address = prof.server(dev.server).address
        port = SERVICE_PORTS[dev.service] if dev.service is not None else None
        for fid in dev.expect_findings:
            where = {(f.host, f.port) for f in outcome.result.findings if f.id == fid}
            assert any(h == address and (port is None or p == port) for h, p in where), (
                f"{dev.id}: {fid} not reported on {dev.server} {port or ''}: {sorted(where)}"
            )


def test_the_default_lab_has_no_deviation_finding(outcome: DemoOutcome) -> None:
    # The ids only deviations produce must not appear where the profile has none.
    deviation_only = {"PS-HTTP-001", "PS-TLS-006", "PS-POP3-001", "PS-IMAP-001"}
    observed = {f.id for f in outcome.result.findings}
    if outcome.lab_profile == "misconfigured":
        assert deviation_only <= observed
    else:
        assert not deviation_only & observed


def test_audit_dials_the_listening_port_and_reports_the_reference_port(
    outcome: DemoOutcome,
) -> None:
    dep = load_deployment(outcome.deployment)
    moved = {s.name: s.listen_ports for s in dep.servers}
    # The lab listens on kernel-chosen ports: every server carries overrides …
    assert all(moved.values())
    assert moved["EX2007"].keys() >= {25, 587, 443}
    assert all(real != listening for m in moved.values() for real, listening in m.items())
    # … the plan keeps them …
    hosts = {h.name: h for h in outcome.plan.hosts}
    assert hosts["EX2007"].listen_ports == moved["EX2007"]
    # … and the results name the reference ports, reached through the overrides.
    reference = set(SERVICE_PORTS.values())
    opened = [e for e in outcome.result.endpoints if e.status.value == "ok"]
    assert opened
    assert {e.port for e in outcome.result.endpoints} <= reference  # 135 and 5062 included
    assert any(e.port == 25 and e.observations.smtp is not None for e in opened)
    raw = yaml.safe_load(Path(outcome.deployment).read_text(encoding="utf-8"))
    assert raw["servers"][0]["listen_ports"]


@pytest.mark.parametrize("lab_profile", ["misconfigured", "default"])
def test_stricter_audit_profile_finds_the_remaining_deviations(
    lab_profile: str, tmp_path: Path
) -> None:
    """Deviations the reference accepts (TLS 1.0, LOGIN before STARTTLS) show under hardened."""
    out = run_demo(tmp_path, lab_profile, audit_profile="hardened")
    found = {(f.id, f.host, f.port) for f in out.result.findings}
    devs = load_profile("misconfigured").deviations
    strict = [(d, fid) for d in devs for fid in d.expect_findings_hardened]
    assert strict  # the profile documents some
    prof = load_profile(lab_profile)
    for dev, fid in strict:
        address = prof.server(dev.server).address
        port = SERVICE_PORTS[dev.service] if dev.service is not None else None
        hit = any(i == fid and h == address and port in (None, p) for i, h, p in found)
        assert hit is (lab_profile == "misconfigured"), (lab_profile, dev.id, fid)

"""A pathsec bug at one endpoint is that endpoint's error record; the run goes on.

A probe's ``plan`` or ``fold`` raising, an observation that does not validate, a check
raising: each becomes ``status: error`` with the reason at that endpoint only, the other
endpoints are audited and graded as usual, and the command's exit code is the findings'
(never a traceback, never exit 1 for the crash itself).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from pathsec.audit.checks.model import Check, Context, Evidence
from pathsec.audit.checks.registry import CHECKS
from pathsec.audit.models import Target
from pathsec.audit.profiles import load_profile
from pathsec.audit.run import audit
from pathsec.cli.main import run
from pathsec.probes.interface import AppProtocol, ProbeSettings, Status
from pathsec.probes.smtp import SmtpProbe
from pathsec.probes.tcp import TcpObservation
from pathsec.probes.udp import UdpProbe

FAST = ProbeSettings(timeout=1.0)


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    yield port


def _targets(port: int) -> list[Target]:
    return [
        Target(host="127.0.0.1", port=port, protocol=AppProtocol.smtp),
        Target(host="127.0.0.1", port=port, protocol=AppProtocol.tcp),
    ]


def _boom(*args: object, **kwargs: object) -> object:
    raise RuntimeError("boom")


def test_a_plan_that_raises_is_that_endpoints_error(
    monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    monkeypatch.setattr(SmtpProbe, "plan", _boom)
    result = audit(_targets(closed_port), load_profile("reference"), FAST)
    smtp, tcp = result.endpoints
    assert result.complete
    assert smtp.status is Status.error
    assert smtp.reason == "pathsec internal error: RuntimeError: boom"
    assert tcp.status is Status.refused  # the other endpoint is audited as usual
    assert {(f.id, f.protocol) for f in result.findings} == {("PS-TCP-001", AppProtocol.tcp)}


def test_a_fold_that_raises(monkeypatch: pytest.MonkeyPatch, closed_port: int) -> None:
    monkeypatch.setattr(UdpProbe, "fold", _boom)
    targets = [Target(host="127.0.0.1", port=closed_port, protocol=AppProtocol.udp)]
    result = audit([*targets, *_targets(closed_port)], load_profile("reference"), FAST)
    udp, smtp, tcp = result.endpoints
    assert udp.status is Status.error and "RuntimeError: boom" in (udp.reason or "")
    assert udp.observations.udp is None
    assert smtp.status is tcp.status is Status.refused


def test_an_observation_that_does_not_validate(
    monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    # a fold returning another probe's model: the Observations field refuses it
    monkeypatch.setattr(UdpProbe, "fold", lambda self, ep, attempts: TcpObservation())
    targets = [Target(host="127.0.0.1", port=closed_port, protocol=AppProtocol.udp)]
    (udp,) = audit(targets, load_profile("reference"), FAST).endpoints
    assert udp.status is Status.error and "ValidationError" in (udp.reason or "")
    assert udp.observations.udp is None


def test_a_check_that_raises(monkeypatch: pytest.MonkeyPatch, closed_port: int) -> None:
    def broken(ctx: Context) -> Evidence:
        raise KeyError("oops")

    monkeypatch.setitem(CHECKS, "PS-TCP-002", Check("PS-TCP-002", broken))  # type: ignore[index]
    result = audit(_targets(closed_port), load_profile("reference"), FAST)
    for e in result.endpoints:
        assert e.status is Status.error
        assert e.reason == "pathsec internal error in check PS-TCP-002: KeyError: 'oops'"
    assert {f.id for f in result.findings} == {"PS-TCP-001"}  # the other checks still ran


def test_the_command_reports_it_as_data(
    monkeypatch: pytest.MonkeyPatch, closed_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(SmtpProbe, "plan", _boom)
    rc = run(["audit", "-q", "--no-store", "-f", "json", "-t", f"127.0.0.1:{closed_port}/smtp"])
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["complete"] is True and doc["endpoints"][0]["status"] == "error"
    assert "Traceback" not in err and rc == 0  # no finding at or above --fail-on

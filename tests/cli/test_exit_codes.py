"""The exit-code table and the top-level guard: an unexpected exception is one line, exit 3."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pathsec.cli import firewall_cmd
from pathsec.cli.main import run
from pathsec.exitcodes import ExitCode


def test_codes_are_the_documented_ones() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 130, 143]


@pytest.mark.parametrize(
    "exc", [RuntimeError("boom\x1b[31m\nsecond line"), ExceptionGroup("g", [ValueError("v")])]
)
def test_unexpected_exception_is_one_line_exit_3(
    exc: Exception, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(*_a: object, **_k: object) -> None:
        raise exc

    monkeypatch.setattr(firewall_cmd, "load_plan", explode)
    monkeypatch.delenv("PATHSEC_DEBUG", raising=False)
    rc = run(["firewall", "x.yaml", "-t", "nftables"])
    err = capsys.readouterr().err
    assert rc == ExitCode.failed
    assert err.count("\n") == 1, err
    assert err.startswith("pathsec: internal error: ")
    assert "PATHSEC_DEBUG=1" in err
    assert "\x1b" not in err and "Traceback" not in err


def test_debug_prints_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(*_a: object, **_k: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(firewall_cmd, "load_plan", explode)
    monkeypatch.setenv("PATHSEC_DEBUG", "1")
    assert run(["firewall", "x.yaml", "-t", "nftables"]) == ExitCode.failed
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: boom" in err


def test_console_script_exit_code_for_bad_usage() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "from pathsec.cli.main import entry; entry()", "plan", "--nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == ExitCode.bad_input
    assert "Traceback" not in proc.stderr

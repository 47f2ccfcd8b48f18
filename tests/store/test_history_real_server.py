"""History end to end: audit a real SMTP server twice with a configuration change between.

The server is aiosmtpd on loopback. The first run serves without AUTH; the second, restarted
with an authenticator that does not require TLS, advertises ``AUTH LOGIN PLAIN``. Both runs
are stored, and ``pathsec diff`` must report exactly that change.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from pathsec.audit.models import AuditResult, Target
from pathsec.audit.profiles import load_profile
from pathsec.audit.run import audit
from pathsec.audit.targets import expectations_for
from pathsec.cli.main import run
from pathsec.store import save_run

PATH = "transport.smtp_client_to_hub"


class _Handler:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "554 not accepting mail"


def _refuse(*_: Any) -> AuthResult:
    return AuthResult(success=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _smtp_server(port: int, **config: Any) -> Iterator[None]:
    ctl = Controller(
        _Handler(), hostname="127.0.0.1", port=port, server_hostname="mx.lab.test", **config
    )
    ctl.start()
    try:
        yield
    finally:
        ctl.stop()


def _audit(port: int) -> AuditResult:
    target = Target(
        host="127.0.0.1",
        port=port,
        protocol="smtp",
        path_id=PATH,
        expectations=expectations_for(PATH),
    )
    return audit([target], load_profile("reference"))


def test_diff_reports_exactly_the_configuration_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'history.sqlite3'}"
    port = _free_port()
    with _smtp_server(port):
        before = _audit(port)
    with _smtp_server(port, auth_require_tls=False, authenticator=_refuse):
        after = _audit(port)
    assert before.endpoints[0].status.value == "ok" and after.endpoints[0].status.value == "ok"
    run_a, run_b = save_run(before, url), save_run(after, url)

    assert run(["diff", str(run_a), str(run_b), "--db", url, "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    endpoint = f"127.0.0.1:{port}/smtp"
    assert d["new_endpoints"] == [] and d["gone_endpoints"] == []
    assert d["changed_endpoints"] == [
        {
            "endpoint": endpoint,
            "changes": [
                {
                    "fact": "smtp.ehlo_before.auth",
                    "before": None,
                    "after": ["LOGIN", "PLAIN"],
                    "added": ["LOGIN", "PLAIN"],
                    "removed": [],
                },
                {
                    "fact": "smtp.ehlo_before.keywords",
                    "before": ["SIZE", "8BITMIME", "SMTPUTF8", "HELP"],
                    "after": ["SIZE", "8BITMIME", "SMTPUTF8", "AUTH", "HELP"],
                    "added": ["AUTH"],
                    "removed": [],
                },
            ],
        }
    ]
    # Plain-text mechanisms before TLS (flagged under every profile) and outside what the path
    # supports: two new findings, nothing fixed.
    assert [f["id"] for f in d["new_findings"]] == ["PS-SMTP-001", "PS-SMTP-002"]
    assert d["fixed_findings"] == []
    # Findings that stay but whose evidence now shows the new mechanisms.
    changed = {c["after"]["id"]: c for c in d["changed_findings"]}
    assert set(changed) <= {"PS-TLS-001", "PS-SMTP-003"}
    for c in changed.values():
        assert c["before"]["severity"] == c["after"]["severity"]
        assert any("AUTH" in e or "LOGIN" in e for e in c["after"]["evidence"])

    # The same runs compare equal to themselves: no noise from timings or transcripts.
    with _smtp_server(port):
        again = _audit(port)
    run_c = save_run(again, url)
    assert run(["diff", str(run_a), str(run_c), "--db", url, "--format", "json"]) == 0
    same = json.loads(capsys.readouterr().out)
    assert not any(same[k] for k in same if k not in ("a", "b"))

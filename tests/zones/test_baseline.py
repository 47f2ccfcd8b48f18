"""``pathsec baseline`` and ``pathsec audit --policy`` against a real nginx whose
configuration changes between the two (reloaded with SIGHUP)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from pathsec.cli.main import run
from servers.conftest import free_port, make_cert, need, stop, wait_port

pytestmark = [pytest.mark.server, pytest.mark.root]

CONF = """
worker_processes 1;
error_log {d}/error.log;
pid {d}/nginx.pid;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp; fastcgi_temp_path {d}/tmp;
  uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {cert}; ssl_certificate_key {key};
    ssl_protocols {protocols};
    location /owa {{ return 302 https://mail.lab.test/owa/auth/logon.aspx?url=x&reason=0; }}
    location /EWS/ {{
      add_header WWW-Authenticate "Negotiate" always;
      {basic}
      return 401;
    }}
    location / {{ return 404; }}
  }}
}}
"""


@dataclass
class Web:
    port: int
    d: Path
    proc: subprocess.Popen[bytes]

    def configure(self, protocols: str, basic: bool) -> None:
        cert = self.d / "web.crt"
        (self.d / "nginx.conf").write_text(
            CONF.format(
                d=self.d,
                port=self.port,
                cert=cert,
                key=self.d / "web.key",
                protocols=protocols,
                basic='add_header WWW-Authenticate "Basic realm=\\"x\\"" always;' if basic else "",
            )
        )


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    binary = need("nginx")
    (tmp_path / "tmp").mkdir()
    make_cert(tmp_path, "web")
    w = Web(free_port(), tmp_path, None)  # type: ignore[arg-type]
    w.configure("TLSv1.2 TLSv1.3", basic=False)
    w.proc = subprocess.Popen(
        [binary, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(w.port, w.proc, tmp_path / "error.log")
        yield w
    finally:
        stop(w.proc)


def _children(pid: int) -> list[str]:
    """The child processes of ``pid`` (nginx's workers)."""
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


def _audit(capsys, *args: str) -> tuple[int, dict]:
    rc = run(["audit", *args, "-q", "-f", "json", "--timeout", "3"])
    return rc, json.loads(capsys.readouterr().out)


def test_baseline_then_drift(web: Web, tmp_path: Path, capsys) -> None:
    t = f"127.0.0.1:{web.port}/https"
    policy = tmp_path / "policy.yaml"
    assert run(["baseline", "-t", t, "-o", str(policy), "--timeout", "3"]) == 0
    doc = yaml.safe_load(policy.read_text())
    (ep,) = doc["endpoints"]
    assert ep["offers"]["tls.accepted"] == ["TLSv1.2", "TLSv1.3"]
    assert ep["offers"]["http/EWS/Exchange.asmx.auth"] == ["Negotiate"]
    assert ep["offers"]["http/owa.status"] == 302

    _, same = _audit(capsys, "-t", t, "--policy", str(policy))
    assert not [f for f in same["findings"] if f["id"].startswith("PS-DRIFT")]

    web.configure("TLSv1.2", basic=True)
    os.kill(web.proc.pid, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # reload is asynchronous: wait until it shows
        r = httpx.get(f"https://127.0.0.1:{web.port}/EWS/Exchange.asmx", verify=False)
        new_config = (
            "Basic" in r.headers.get("www-authenticate", "")
            or len(r.headers.get_list("www-authenticate")) > 1
        )
        # ... and until the old worker has exited: it may still accept a connection
        if new_config and len(_children(web.proc.pid)) == 1:
            break
        time.sleep(0.1)
    other = free_port()
    rc, doc = _audit(capsys, "-t", t, "-t", f"127.0.0.1:{other}/http", "--policy", str(policy))
    drift = {f["id"]: f for f in doc["findings"] if f["id"].startswith("PS-DRIFT")}
    assert set(drift) == {"PS-DRIFT-001", "PS-DRIFT-003"}
    ev = drift["PS-DRIFT-001"]["evidence"]
    assert "tls.accepted: ['TLSv1.2', 'TLSv1.3'] -> ['TLSv1.2']" in ev
    assert "http/EWS/Exchange.asmx.auth: ['Negotiate'] -> ['Negotiate', 'Basic']" in ev
    assert drift["PS-DRIFT-001"]["severity"] == "medium" and rc == 1

    # the baseline's endpoint not audited at all
    _, doc = _audit(capsys, "-t", f"127.0.0.1:{other}/http", "--policy", str(policy))
    assert "PS-DRIFT-002" in {f["id"] for f in doc["findings"]}


def test_bad_policy_is_one_line(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("policy_version: 1\ncreated: x\nendpoints:\n  - key: k\n    port: nope\n")
    rc = run(["audit", "-t", "127.0.0.1:1/https", "--policy", str(bad)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1
    assert f"{bad}:" in err and "endpoints" in err

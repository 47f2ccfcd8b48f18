"""``pathsec audit DEPLOYMENT.yaml``: planned mail flows become targets with the plan's ids."""

from __future__ import annotations

import json
import os

import pytest
from scripted import (
    EX_IMAP_CAPS_AFTER,
    EX_IMAP_CAPS_BEFORE,
    EX_IMAP_GREETING,
    Script,
    serve,
)

from pathsec.cli.main import run

pytestmark = pytest.mark.root

NET = f"127.88.{os.getpid() % 250 + 1}"

DEPLOYMENT = f"""
schema_version: 1
organization: {{name: Lab, forest: lab.example, domain: lab.example}}
sites:
  - name: HQ
zones:
  - name: internal
    kind: internal
    cidrs: [{NET}.0/28]
  - name: clients
    kind: internet
    cidrs: [{NET}.128/25]
servers:
  - name: DC1
    addresses: [{NET}.10]
    site: HQ
    zone: internal
    roles: [domain_controller]
    windows: "2003"
  - name: EX1
    addresses: [{NET}.2]
    site: HQ
    zone: internal
    roles: [hub_transport, client_access, mailbox]
    exchange: 2007-sp1
    windows: "2008"
client_populations:
  - name: mailers
    kind: pop_imap_clients
    zone: clients
    roles: [pop_imap_client]   # opts out of SMTP submission (the kind's default)
"""


def test_deployment_audit_uses_plan_flows(tmp_path, capsys):
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("binding port 143 needs root in CI")
        pytest.skip("binding port 143 needs root")
    dep = tmp_path / "d.yaml"
    dep.write_text(DEPLOYMENT)
    script = Script(
        greeting=EX_IMAP_GREETING,
        replies={"CAPABILITY": EX_IMAP_CAPS_BEFORE, "LOGOUT": b"{tag} OK bye\r\n"},
        starttls={"STARTTLS": b"{tag} OK Begin TLS negotiation now.\r\n"},
        after_tls={"CAPABILITY": EX_IMAP_CAPS_AFTER, "LOGOUT": b"{tag} OK bye\r\n"},
        default=b"{tag} BAD Command Error.\r\n",
    )
    with serve(script, host=f"{NET}.2", port=143):
        rc = run(["audit", str(dep), "-q", "-f", "json", "--timeout", "2", "--from", "clients"])
    doc = json.loads(capsys.readouterr().out)
    eps = {(e["host"], e["port"]): e for e in doc["endpoints"] if e["expect"] == "open"}
    assert set(eps) == {(f"{NET}.2", p) for p in (110, 995, 143, 993)}
    imap = eps[(f"{NET}.2", 143)]
    assert imap["flow_id"] == "client_access.imap4:mailers>EX1:tcp/143"
    assert imap["path_id"] == "client_access.imap4"
    assert imap["observations"]["imap"]["caps_before"]["logindisabled"] is True
    closed = {f["port"] for f in doc["findings"] if f["id"] == "PS-TCP-001"}
    assert closed == {110, 995, 993}
    assert all(f["flow_id"] for f in doc["findings"])
    assert rc == 1

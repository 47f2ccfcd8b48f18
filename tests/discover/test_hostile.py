"""Hostile servers: what they say may become evidence, never YAML structure or a name.

Unit level: observations carrying YAML line breaks (NEL, LS, PS), escape sequences and YAML
syntax in every field that becomes a name, a domain or a comment go through the whole
conclusion; the draft reads back as exactly the validated deployment and holds none of it.
End to end (root: port 25): a byte-scripted SMTP server with such an EHLO, neighbours on the
same port that must see no connection, and ``--max-rate`` pacing the run.
"""

from __future__ import annotations

import json
import os
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
import yaml

from discover.observed import result, smtp
from hostile.server import Peer, serving
from pathsec.cli.main import run
from pathsec.discover import conclude, parse_scope, report_json
from pathsec.discover.scope import DISCOVERY_PORTS
from pathsec.probes.certs import CertificateFacts, TlsSession
from pathsec.probes.http import HttpObservation, HttpResponse
from pathsec.probes.ldap import LdapObservation, RootDse
from pathsec.probes.sip import SipObservation

BREAKS = ("\x85", "\u2028", "\u2029", "\x1b", "\r")
PWNED = "pwned"

HOSTILE_SMTP = smtp(
    "evil\x85servers: [pwned] Microsoft ESMTP MAIL Service ready",
    [
        "250-evil\x85organization: {name: pwned} Hello [10.9.0.9]",
        "250-X-EXPS GSSAPI NTLM",
        "250 XEXCH50",
    ],
)
HOSTILE_DC = LdapObservation(
    root_dse=RootDse(
        capabilities=("1.2.840.113556.1.4.800",),
        dns_host_name="dc\u2028zones: [pwned].evil.example",
        default_naming_context="DC=evil\u2029zones: [pwned],DC=example",
    )
)


def _cert(cn: str) -> TlsSession:
    facts = CertificateFacts(
        subject=f"CN={cn}",
        issuer=f"CN={cn}",
        subject_cn=cn,
        sans=(f"DNS:{cn}",),
        not_before="2020-01-01T00:00:00+00:00",
        not_after="2030-01-01T00:00:00+00:00",
        expired=False,
        not_yet_valid=False,
        self_signed=True,
        key_type="RSA",
        key_bits=2048,
        signature_algorithm="sha256",
        hostname=None,
        hostname_match=None,
        sha256="00",
    )
    return TlsSession(version="TLSv1.2", cipher="X", cipher_bits=128, certificate=facts)


HOSTILE_UM = SipObservation(
    status_code=200,
    server="RTCC/1.0.0.0 MSExchangeUM/08.03.0083.006 \x1b]0;pwned\x07 \u2028- name: pwned",
    tls=_cert("'; x: [pwned]\u2028.evil.example"),
)
HOSTILE_OWA = HttpObservation(
    responses=(
        HttpResponse(
            path="/owa",
            status=302,
            location="https://x/owa/auth/logon.aspx?\x85servers: [pwned]",
            forms_logon=True,
            headers={"x-owa-version": "8.3.83.6\u2028x: pwned", "server": "Microsoft-IIS/7.0"},
        ),
    )
)


def test_hostile_text_never_becomes_yaml_or_a_name() -> None:
    scope = parse_scope(["10.9.0.1", "10.9.0.2", "10.9.0.3"])
    results = {
        "10.9.0.1": [result("10.9.0.1", 25, HOSTILE_SMTP), result("10.9.0.1", 443, HOSTILE_OWA)],
        "10.9.0.2": [result("10.9.0.2", 389, HOSTILE_DC)],
        "10.9.0.3": [result("10.9.0.3", 5061, HOSTILE_UM)],
    }
    found = conclude(scope, results, endpoints=3 * len(DISCOVERY_PORTS))
    assert found.text is not None and found.draft is not None
    text = found.text
    for ch in BREAKS:
        assert ch not in text, repr(ch)
    doc = yaml.safe_load(text)
    assert set(doc) == {
        "schema_version",
        "organization",
        "sites",
        "zones",
        "servers",
        "client_populations",
        "firewalls",
    }
    assert PWNED not in json.dumps(doc)  # only in comments, never in a value
    servers = {s["name"]: s for s in doc["servers"]}
    assert set(servers) == {"host-10-9-0-1", "host-10-9-0-2", "host-10-9-0-3"}
    assert servers["host-10-9-0-1"]["roles"] == ["hub_transport", "client_access"]
    assert servers["host-10-9-0-2"]["roles"] == ["domain_controller"]
    assert servers["host-10-9-0-3"]["roles"] == ["unified_messaging"]
    assert doc["organization"]["domain"] == "TODO.example"  # the hostile naming context
    for line in text.splitlines():
        stripped = line.strip()
        if PWNED in line:
            assert stripped.startswith("#"), line  # evidence, as a comment
    assert "name refused" in text
    evidence = report_json(found.report)
    for ch in BREAKS:
        assert ch not in evidence, repr(ch)
    json.loads(evidence)


NET = f"127.{150 + os.getpid() % 50}.0"
EVIL_EHLO = (
    b"250-evil\x85servers: [pwned] Hello [127.0.0.1]\r\n"
    b"250-X-ANONYMOUSTLS\r\n250-X-EXPS GSSAPI NTLM\r\n250 XEXCH50\r\n"
)


async def evil_smtp(p: Peer) -> None:
    """An Exchange-looking SMTP server whose banner and EHLO carry YAML."""
    if not await p.send(b"220 x\x85y: [pwned] Microsoft ESMTP MAIL Service ready\r\n"):
        return
    async for _, verb in p.commands(10):
        if verb == "EHLO":
            await p.send(EVIL_EHLO)
        elif verb == "QUIT":
            await p.send(b"221 bye\r\n")
            return
        else:
            await p.send(b"500 no\r\n")


@pytest.mark.root
def test_hostile_smtp_end_to_end_scoped_and_paced(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    if os.geteuid() != 0:
        pytest.skip("port 25 needs root")
    out = tmp_path / "d.yaml"
    with ExitStack() as stack:
        srv = stack.enter_context(serving(evil_smtp, host=f"{NET}.2", port=25))
        others = [
            stack.enter_context(serving(evil_smtp, host=f"{NET}.{n}", port=25)) for n in (1, 3)
        ]
        start = time.monotonic()
        rc = run(["discover", f"{NET}.2", "-q", "-o", str(out), "--max-rate", "20"])
        elapsed = time.monotonic() - start
    err = capfd.readouterr().err
    assert rc == 0, err
    assert srv.connections == 1  # one SMTP dialogue; no follow-up TLS probing
    assert [o.connections for o in others] == [0, 0]  # only the address given
    assert elapsed >= (len(DISCOVERY_PORTS) - 1) / 20 * 0.9  # --max-rate paced every connect
    text = out.read_text()
    for ch in BREAKS:
        assert ch not in text and ch not in err, repr(ch)
    doc = yaml.safe_load(text)
    (server,) = doc["servers"]
    assert server["name"] == f"host-{NET.replace('.', '-')}-2"
    assert server["roles"] == ["hub_transport"]
    assert PWNED not in json.dumps(doc)

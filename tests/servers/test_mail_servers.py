"""pathsec audit against real Postfix and Dovecot started by the fixtures in conftest.py."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from pathsec.cli.main import run

pytestmark = pytest.mark.server

SOURCE = "127.0.0.2"  # Dovecot trusts connections from its own address: probe from another


def audit_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    rc = run(["audit", "-q", "-f", "json", "--timeout", "5", "--source-address", SOURCE, *args])
    out = capsys.readouterr().out
    return rc, json.loads(out)


def ids(doc: dict, port: int) -> set[str]:
    return {f["id"] for f in doc["findings"] if f["port"] == port}


def test_postfix(postfix, capsys):
    rc, doc = audit_json(
        capsys,
        "--profile",
        "hardened",
        "-t",
        f"127.0.0.1:{postfix.smtp}/smtp",
        "-t",
        f"127.0.0.1:{postfix.submission}/smtp",
        "-t",
        f"127.0.0.1:{postfix.smtps}/smtps",
    )
    assert doc["complete"] is True
    eps = {e["port"]: e for e in doc["endpoints"]}
    smtp = eps[postfix.smtp]["observations"]["smtp"]
    assert smtp["status"] == "ok"
    assert smtp["banner"].startswith("mail.lab.test ESMTP")
    assert smtp["starttls_offered"] is True
    assert smtp["ehlo_after"]["auth"] == ["PLAIN", "LOGIN"]
    tls = eps[postfix.smtp]["observations"]["tls"]
    cert = tls["session"]["certificate"]
    assert cert["subject_cn"] == "mail.lab.test"
    assert cert["self_signed"] is True
    assert (cert["key_type"], cert["key_bits"]) == ("RSA", 2048)
    assert cert["signature_algorithm"] == "sha256"
    assert cert["hostname_match"] is True
    assert "DNS:mail.lab.test" in cert["sans"] and "IP:127.0.0.1" in cert["sans"]
    assert tls["versions"]["TLSv1.2"] == "accepted"
    assert tls["versions"]["TLSv1.3"] == "accepted"
    smtps = eps[postfix.smtps]["observations"]["smtp"]
    assert smtps["implicit_tls"] is True and smtps["ehlo_before"]["auth"] == ["PLAIN", "LOGIN"]
    if postfix.secure:
        assert smtp["ehlo_before"]["auth"] == []
        assert "PS-SMTP-001" not in ids(doc, postfix.smtp)
        assert "PS-TLS-003" not in ids(doc, postfix.smtp)
        assert tls["versions"]["TLSv1.0"] == "rejected"
        assert tls["versions"]["TLSv1.1"] == "rejected"
    else:
        assert smtp["ehlo_before"]["auth"] == ["PLAIN", "LOGIN"]
        assert "PS-SMTP-001" in ids(doc, postfix.smtp)
        # Postfix's default range (with SECLEVEL=0 ciphers) still takes TLS 1.0 and 1.1.
        assert tls["versions"]["TLSv1.0"] == "accepted"
        assert tls["versions"]["TLSv1.1"] == "accepted"
        assert "PS-TLS-003" in ids(doc, postfix.smtp)
    # Implicit TLS never offers anything before TLS.
    assert "PS-SMTP-001" not in ids(doc, postfix.smtps)
    # With smtpd_tls_security_level=encrypt Postfix hides AUTH until TLS is up.
    assert "PS-SMTP-001" not in ids(doc, postfix.submission)
    assert {"PS-TLS-010"} <= ids(doc, postfix.smtp)  # self-signed, low in hardened
    assert rc == 1


def test_dovecot(dovecot, capsys):
    rc, doc = audit_json(
        capsys,
        "--profile",
        "hardened",
        "-t",
        f"127.0.0.1:{dovecot.imap}/imap",
        "-t",
        f"127.0.0.1:{dovecot.imaps}/imaps",
        "-t",
        f"127.0.0.1:{dovecot.pop3}/pop3",
        "-t",
        f"127.0.0.1:{dovecot.pop3s}/pop3s",
    )
    eps = {e["port"]: e["observations"] for e in doc["endpoints"]}
    imap = eps[dovecot.imap]["imap"]
    pop3 = eps[dovecot.pop3]["pop3"]
    assert imap["status"] == "ok" and pop3["status"] == "ok"
    assert imap["starttls_offered"] is True and pop3["stls_offered"] is True
    assert imap["caps_after"]["auth"] == ["PLAIN", "LOGIN"]
    assert pop3["capa_after"]["user"] is True
    assert pop3["capa_after"]["sasl"] == ["PLAIN", "LOGIN"]
    assert eps[dovecot.imaps]["imap"]["caps_before"]["auth"] == ["PLAIN", "LOGIN"]
    for port in (dovecot.imap, dovecot.imaps, dovecot.pop3, dovecot.pop3s):
        versions = eps[port]["tls"]["versions"]
        assert versions["TLSv1.2"] == "accepted"
        assert versions["TLSv1.3"] == "accepted"
        assert versions["TLSv1.1"] in ("rejected", "unknown")
        assert versions["TLSv1.0"] in ("rejected", "unknown")
        assert "PS-TLS-003" not in ids(doc, port)
        cert = eps[port]["tls"]["session"]["certificate"]
        assert cert["expired"] is (not dovecot.secure)
        assert cert["not_after"] == dovecot.cert.not_after.isoformat()
    if dovecot.secure:
        assert imap["caps_before"]["logindisabled"] is True
        assert imap["caps_before"]["auth"] == []
        assert pop3["capa_before"]["user"] is False
        assert "PS-IMAP-001" not in ids(doc, dovecot.imap)
        assert "PS-POP3-001" not in ids(doc, dovecot.pop3)
        assert "PS-TLS-006" not in ids(doc, dovecot.imap)
    else:
        assert imap["caps_before"]["logindisabled"] is False
        assert imap["caps_before"]["auth"] == ["PLAIN", "LOGIN"]
        assert pop3["capa_before"]["user"] is True
        assert "PS-IMAP-001" in ids(doc, dovecot.imap)
        assert "PS-POP3-001" in ids(doc, dovecot.pop3)
        assert "PS-TLS-006" in ids(doc, dovecot.imap)
    assert "PS-IMAP-001" not in ids(doc, dovecot.imaps)
    assert "PS-POP3-001" not in ids(doc, dovecot.pop3s)
    # Secure Dovecot leaves only low/info findings (self-signed, NTLM/Kerberos not offered).
    assert rc == (0 if dovecot.secure else 1)


def _settled_log(log: Path) -> str:
    """Postfix's log once it stops growing (postlogd writes it a moment later; bounded)."""
    text, deadline = "", time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = log.read_text(errors="replace")
        if now == text:
            break
        text = now
    return text


def test_the_enumerations_starttls_dialogue_waits_for_every_reply(postfix, capsys):
    """The default audit's ~20 connections per STARTTLS endpoint (version offers, cipher
    rounds) each send EHLO, then STARTTLS only after the EHLO reply. EHLO may only end a
    pipelined group (RFC 2920 section 3.1): Postfix logs "improper command pipelining
    after EHLO" for an EHLO+STARTTLS in one write (a line fail2ban-style filters act on)
    and, with smtpd_forbid_unauth_pipelining (the default from Postfix 3.9), hangs up."""
    before = len(postfix.log.read_text(errors="replace"))
    rc, doc = audit_json(capsys, "-t", f"127.0.0.1:{postfix.smtp}/smtp")
    assert doc["complete"] is True
    ciphers = doc["endpoints"][0]["observations"]["ciphers"]
    suites = {v["version"]: len(v["suites"]) for v in ciphers["versions"]}
    assert suites.get("TLSv1.2", 0) >= 2 and suites.get("TLSv1.3", 0) >= 2  # rounds were made
    # Every version's enumeration ran to the server's refusal (none cut short by a timeout).
    assert [(v["version"], v["complete"], v["error"]) for v in ciphers["versions"]] == [
        (v["version"], True, None) for v in ciphers["versions"]
    ]
    log = _settled_log(postfix.log)[before:]
    assert log.count("connect from") >= 15  # the rounds did reach Postfix
    assert "improper command pipelining" not in log
    # The check can fail: a client that pipelines EHLO and STARTTLS is logged.
    with socket.create_connection(("127.0.0.1", postfix.smtp), timeout=5) as s:
        s.settimeout(5)
        assert s.recv(1024).startswith(b"220")
        s.sendall(b"EHLO pipelining.invalid\r\nSTARTTLS\r\n")
        s.recv(4096)
    assert "improper command pipelining after EHLO" in _settled_log(postfix.log)
    assert rc in (0, 1)

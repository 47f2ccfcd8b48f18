"""SMTP receive connectors against the Exchange transcripts of the fingerprints file (§1)."""

from __future__ import annotations

import datetime as dt
import re

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from lab.labkit import EX2007_NTLM, NEGOTIATE, Line, RunningLab, decode_challenge

# nmap-service-probes, "Microsoft Exchange smtpd", plus the date shape of §1a/§1f.
BANNER = re.compile(
    r"^220 ex2007\.contoso\.local Microsoft ESMTP MAIL Service ready at "
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} [A-Z][a-z]{2} \d{4} \d{1,2}:\d{2}:\d{2} [+-]\d{4}$"
)
NMAP = re.compile(r"^220 ([-\w_.]+) Microsoft ESMTP MAIL Service ready at")

# §1c (HTB Rabbit, port 25) without the 2010-only XSHADOW; §1a with Basic-after-TLS.
HUB_BEFORE_TLS = [
    "250-ex2007.contoso.local Hello [127.0.0.1]",
    "250-SIZE",
    "250-PIPELINING",
    "250-DSN",
    "250-ENHANCEDSTATUSCODES",
    "250-STARTTLS",
    "250-X-ANONYMOUSTLS",
    "250-AUTH NTLM",
    "250-X-EXPS GSSAPI NTLM",
    "250-8BITMIME",
    "250-BINARYMIME",
    "250-CHUNKING",
    "250-XEXCH50",
    "250 XRDST",
]
# §1d: after TLS, STARTTLS and X-ANONYMOUSTLS go, LOGIN joins AUTH.
HUB_AFTER_TLS = [
    "250-ex2007.contoso.local Hello [127.0.0.1]",
    "250-SIZE",
    "250-PIPELINING",
    "250-DSN",
    "250-ENHANCEDSTATUSCODES",
    "250-AUTH NTLM LOGIN",
    "250-X-EXPS GSSAPI NTLM",
    "250-8BITMIME",
    "250-BINARYMIME",
    "250-CHUNKING",
    "250-XEXCH50",
    "250 XRDST",
]
# §1c port 587 (Rabbit) and §1d (mail.uu.se: LOGIN only after STARTTLS).
CLIENT_BEFORE_TLS = [
    "250-ex2007.contoso.local Hello [127.0.0.1]",
    "250-SIZE 10485760",
    "250-PIPELINING",
    "250-DSN",
    "250-ENHANCEDSTATUSCODES",
    "250-STARTTLS",
    "250-AUTH GSSAPI NTLM",
    "250-8BITMIME",
    "250-BINARYMIME",
    "250 CHUNKING",
]
CLIENT_AFTER_TLS = [
    "250-ex2007.contoso.local Hello [127.0.0.1]",
    "250-SIZE 10485760",
    "250-PIPELINING",
    "250-DSN",
    "250-ENHANCEDSTATUSCODES",
    "250-AUTH GSSAPI NTLM LOGIN",
    "250-8BITMIME",
    "250-BINARYMIME",
    "250 CHUNKING",
]


def _ehlo_both(lab: RunningLab, service: str) -> tuple[str, list[str], str, list[str]]:
    c = Line(lab.ep("EX2007", service))
    try:
        banner = c.line()
        c.send("EHLO client.example")
        before = c.smtp_reply()
        c.send("STARTTLS")
        tls_reply = c.line()
        c.starttls()
        c.send("EHLO client.example")
        after = c.smtp_reply()
        return banner, before, tls_reply, after
    finally:
        c.close()


def test_hub_default_connector_transcript(lab_default: RunningLab) -> None:
    banner, before, tls_reply, after = _ehlo_both(lab_default, "smtp_default")
    assert BANNER.match(banner), banner
    assert NMAP.match(banner).group(1) == "ex2007.contoso.local"  # type: ignore[union-attr]
    assert before == HUB_BEFORE_TLS
    assert tls_reply == "220 2.0.0 SMTP server ready"
    assert after == HUB_AFTER_TLS


def test_client_connector_transcript(lab_default: RunningLab) -> None:
    banner, before, _, after = _ehlo_both(lab_default, "smtp_client")
    assert BANNER.match(banner)
    assert before == CLIENT_BEFORE_TLS
    assert after == CLIENT_AFTER_TLS


def test_edge_connector_has_no_auth(lab_default: RunningLab) -> None:
    c = Line(lab_default.ep("EDGE01", "smtp_edge"))
    try:
        assert c.line().startswith(
            "220 edge01.contoso.local Microsoft ESMTP MAIL Service ready at "
        )
        c.send("EHLO x")
        lines = c.smtp_reply()
    finally:
        c.close()
    assert not any(x[4:].startswith("AUTH") for x in lines)
    assert "250-X-EXPS NTLM" in lines and "250-STARTTLS" in lines
    assert lines[-1] == "250 XRDST"


def test_replies_and_login_rules(lab_default: RunningLab) -> None:
    c = Line(lab_default.ep("EX2007", "smtp_client"))
    try:
        c.line()
        c.send("MAIL FROM:<a@b.example>")
        assert c.line() == "503 5.5.2 Send hello first"
        c.send("EHLO x")
        c.smtp_reply()
        c.send("AUTH LOGIN")
        assert c.line() == "504 5.7.4 Unrecognized authentication type"
        c.send("MAIL FROM:<a@b.example>")
        assert c.line() == "530 5.7.1 Client was not authenticated"
        c.send("VRFY administrator")
        assert c.line() == "252 2.1.5 Cannot VRFY user"
        c.send("EXPN staff")
        assert c.line() == "502 5.3.3 Command not implemented"
        c.send("STARTTLS")
        c.line()
        c.starttls()
        c.send("EHLO x")
        c.smtp_reply()
        c.send("AUTH LOGIN")
        assert c.line() == "334 VXNlcm5hbWU6"
        c.send("dXNlcg==")
        assert c.line() == "334 UGFzc3dvcmQ6"
        c.send("cGFzcw==")
        assert c.line() == "535 5.7.3 Authentication unsuccessful"
        c.send("QUIT")
        assert c.line() == "221 2.0.0 Service closing transmission channel"
    finally:
        c.close()


def test_hub_accepts_sender_rejects_recipient(lab_default: RunningLab) -> None:
    c = Line(lab_default.ep("EX2007", "smtp_default"))
    try:
        c.line()
        c.send("EHLO x")
        c.smtp_reply()
        c.send("MAIL FROM:<a@b.example>")
        assert c.line() == "250 2.1.0 Sender OK"
        c.send("RCPT TO:<nobody@contoso.local>")
        assert c.line() == "550 5.1.1 User unknown"
    finally:
        c.close()


def test_ntlm_challenge_over_smtp(lab_default: RunningLab) -> None:
    c = Line(lab_default.ep("EX2007", "smtp_default"))
    try:
        c.line()
        c.send("EHLO x")
        c.smtp_reply()
        c.send("AUTH NTLM")
        assert c.line() == "334 "
        c.send(NEGOTIATE)
        reply = c.line()
        assert reply.startswith("334 ")
        info = decode_challenge(reply[4:])
        c.send("*")
        assert c.line().startswith("5")
    finally:
        c.close()
    ts = info.pop("timestamp")
    assert info == EX2007_NTLM
    assert abs((dt.datetime.now(dt.UTC) - ts.replace(tzinfo=dt.UTC)).total_seconds()) < 60  # type: ignore[union-attr]


def test_starttls_certificate_is_like_exchange_setup(lab_default: RunningLab) -> None:
    c = Line(lab_default.ep("EX2007", "smtp_default"))
    try:
        c.line()
        c.send("EHLO x")
        c.smtp_reply()
        c.send("STARTTLS")
        c.line()
        c.starttls()
        der = c.sock.getpeercert(binary_form=True)  # type: ignore[attr-defined]
    finally:
        c.close()
    cert = x509.load_der_x509_certificate(der)
    assert cert.subject == cert.issuer
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == "ex2007.contoso.local"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["ex2007.contoso.local", "EX2007"]
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(days=5 * 365)
    assert cert.not_valid_before_utc < dt.datetime.now(dt.UTC) < cert.not_valid_after_utc
    cert.verify_directly_issued_by(cert)  # self-signed: its own key verifies it

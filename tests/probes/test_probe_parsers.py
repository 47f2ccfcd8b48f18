"""Parsers and probes against byte-scripted servers (Exchange transcripts, hostile peers)."""

from __future__ import annotations

import asyncio
import base64
import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scripted import (
    EX2007_HUB_BANNER,
    EX2007_HUB_EHLO,
    EX2010_CLIENT_EHLO,
    EX2016_FRONTEND_EHLO,
    EX_EHLO_AFTER_TLS,
    EX_IMAP_CAPS_AFTER,
    EX_IMAP_CAPS_BEFORE,
    EX_IMAP_GREETING,
    EX_POP3_BANNER,
    EX_POP3_CAPA_AFTER,
    EX_POP3_CAPA_BEFORE,
    Script,
    port_of,
    serve,
)

from pathsec.audit.engine import run_audit
from pathsec.audit.models import EndpointResult, Target
from pathsec.probes import imap, pop3, smtp
from pathsec.probes.certs import certificate_facts
from pathsec.probes.interface import AppProtocol, ProbeSettings, ProtocolError, Status
from pathsec.probes.ntlm import decode_challenge
from pathsec.probes.text import clean_text

FAST = ProbeSettings(timeout=2.0)


def probe(port: int, proto: AppProtocol, s: ProbeSettings = FAST) -> EndpointResult:
    return asyncio.run(run_audit([Target(host="127.0.0.1", port=port, protocol=proto)], s))[0]


def lines(raw: bytes) -> list[str]:
    return raw.decode().rstrip("\r\n").split("\r\n")


# --- pure parsers ----------------------------------------------------------------------------


def test_parse_ehlo_exchange_2007_hub():
    info = smtp.parse_ehlo(smtp.parse_reply(lines(EX2007_HUB_EHLO)))
    assert info.starttls
    assert info.auth == ("NTLM", "LOGIN")
    assert info.x_exps == ("GSSAPI", "NTLM")
    assert info.size is None and info.size_advertised
    assert info.exchange_markers == (
        "X-ANONYMOUSTLS",
        "X-EXPS",
        "XEXCH50",
        "XRDST",
        "SIZE (no value)",
    )


def test_parse_ehlo_exchange_client_connector_and_2016():
    client = smtp.parse_ehlo(
        smtp.parse_reply(lines(EX2010_CLIENT_EHLO.replace(b"250-CHUNKING", b"250 CHUNKING")))
    )
    assert client.auth == ("GSSAPI", "NTLM") and client.size == 10485760
    assert "X-ANONYMOUSTLS" not in client.exchange_markers
    fe = smtp.parse_ehlo(smtp.parse_reply(lines(EX2016_FRONTEND_EHLO)))
    assert fe.auth == ("NTLM",) and fe.size == 37748736 and "XEXCH50" not in fe.keywords


def test_parse_reply_rejects_broken_multiline():
    with pytest.raises(ProtocolError):
        smtp.parse_reply(["250-a", "251 b"])
    with pytest.raises(ProtocolError):
        smtp.parse_reply(["250-a", "250-b"])
    with pytest.raises(ProtocolError):
        smtp.parse_ehlo(smtp.parse_reply(["502 no"]))


def test_imap_and_pop3_parsers_on_exchange_text():
    caps = imap.parse_capabilities(lines(EX_IMAP_CAPS_BEFORE)[0][13:])
    assert caps.logindisabled and caps.starttls and caps.auth == ("NTLM", "GSSAPI")
    capa = pop3.parse_capa(lines(EX_POP3_CAPA_AFTER))
    assert capa.user and capa.sasl == ("PLAIN",) and not capa.stls
    assert pop3.parse_capa(lines(EX_POP3_CAPA_BEFORE)).stls


def test_clean_text_escapes_control_characters():
    assert clean_text("220 evil\x1b[2J\x07ok") == "220 evil\\x1b[2J\\x07ok"


# Parsers raise only ProtocolError on garbage.
text = st.text(max_size=300)


@settings(max_examples=300, deadline=None)
@given(st.lists(text, max_size=8))
def test_smtp_parsers_raise_only_protocol_error(ls):
    with contextlib.suppress(ProtocolError):
        smtp.parse_ehlo(smtp.parse_reply(ls))


@settings(max_examples=300, deadline=None)
@given(st.lists(text, max_size=8), text)
def test_pop3_imap_parsers_raise_only_protocol_error(ls, t):
    for fn in (
        lambda: pop3.parse_capa(ls),
        lambda: imap.parse_capabilities(t),
        lambda: imap.parse_greeting(t),
        lambda: imap.parse_tagged("a1", ls),
        lambda: pop3.parse_status(t),
    ):
        with contextlib.suppress(ProtocolError):
            fn()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_ntlm_and_cert_decoders_raise_only_protocol_error(raw):
    for data in (raw, b"NTLMSSP\x00\x02\x00\x00\x00" + raw):
        with contextlib.suppress(ProtocolError):
            decode_challenge(base64.b64encode(data).decode())
    with contextlib.suppress(ProtocolError):
        certificate_facts(raw, "x.test")
    with pytest.raises(ProtocolError):
        decode_challenge("not base64!!")


# --- probes against scripted Exchange servers ------------------------------------------------


def test_smtp_probe_exchange_hub_before_and_after_starttls():
    script = Script(
        greeting=EX2007_HUB_BANNER,
        replies={
            "EHLO": EX2007_HUB_EHLO,
            "QUIT": b"221 2.0.0 Service closing transmission channel\r\n",
        },
        starttls={"STARTTLS": b"220 2.0.0 SMTP server ready\r\n"},
        after_tls={"EHLO": EX_EHLO_AFTER_TLS, "QUIT": b"221 2.0.0 bye\r\n"},
    )
    with serve(script) as srv:
        res = probe(port_of(srv), AppProtocol.smtp)
    o = res.observations.smtp
    assert res.status is Status.ok and o is not None
    assert o.banner.startswith("SMTPServer.testdomain.local Microsoft ESMTP MAIL Service ready")
    assert o.auth_before_tls() == ("NTLM", "LOGIN")
    assert o.ehlo_after is not None and not o.ehlo_after.starttls
    assert o.ehlo_after.size == 37748736
    assert o.tls is not None and o.tls.version in ("TLSv1.2", "TLSv1.3")
    assert o.tls.certificate.subject_cn == "scripted.test"
    assert o.tls.certificate.hostname_match is False  # probed as 127.0.0.1
    assert "X-ANONYMOUSTLS" in o.exchange_markers and "XEXCH50" in o.exchange_markers
    tls = res.observations.tls
    assert tls.versions["TLSv1.2"] == "accepted" and tls.versions["TLSv1.1"] == "rejected"
    assert any(t.startswith("C: STARTTLS") for t in o.transcript)


def test_imap_probe_exchange_securelogin():
    script = Script(
        greeting=EX_IMAP_GREETING,
        replies={
            "CAPABILITY": EX_IMAP_CAPS_BEFORE,
            "LOGOUT": b"* BYE\r\n{tag} OK LOGOUT completed.\r\n",
        },
        starttls={"STARTTLS": b"{tag} OK Begin TLS negotiation now.\r\n"},
        after_tls={"CAPABILITY": EX_IMAP_CAPS_AFTER, "LOGOUT": b"{tag} OK LOGOUT completed.\r\n"},
        default=b"{tag} BAD Command Error.\r\n",
    )
    # The STARTTLS tag placeholder is filled per line.
    with serve(script) as srv:
        res = probe(port_of(srv), AppProtocol.imap)
    o = res.observations.imap
    assert o is not None and o.status is Status.ok, o
    assert o.greeting == "* OK The Microsoft Exchange IMAP4 service is ready."
    assert o.caps_before.logindisabled and o.auth_before_tls() == ("NTLM", "GSSAPI")
    assert o.caps_after is not None and o.caps_after.auth == ("NTLM", "GSSAPI", "PLAIN")


def test_pop3_probe_exchange_securelogin():
    script = Script(
        greeting=EX_POP3_BANNER,
        replies={
            "CAPA": EX_POP3_CAPA_BEFORE,
            "QUIT": b"+OK Microsoft Exchange Server 2007 POP3 server signing off.\r\n",
        },
        starttls={"STLS": b"+OK Begin TLS negotiation.\r\n"},
        after_tls={"CAPA": EX_POP3_CAPA_AFTER, "QUIT": b"+OK bye\r\n"},
        default=b"-ERR Protocol error.\r\n",
    )
    with serve(script) as srv:
        res = probe(port_of(srv), AppProtocol.pop3)
    o = res.observations.pop3
    assert o is not None and o.status is Status.ok
    assert o.auth_before_tls() == ()
    assert o.auth_after_tls() == ("USER", "PLAIN")


def test_implicit_tls_pop3s():
    script = Script(
        greeting=EX_POP3_BANNER,
        replies={"CAPA": EX_POP3_CAPA_AFTER, "QUIT": b"+OK bye\r\n"},
        implicit_tls=True,
    )
    with serve(script) as srv:
        res = probe(port_of(srv), AppProtocol.pop3s)
    o = res.observations.pop3
    assert o.implicit_tls and o.tls is not None and o.auth_after_tls() == ("USER", "PLAIN")
    assert res.observations.tls.versions["TLSv1.3"] == "accepted"


# --- failures are data --------------------------------------------------------------------


def test_refused_port_is_data():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = probe(port, AppProtocol.smtp)
    assert res.status is Status.refused and res.observations.tcp.state == "closed"
    assert res.observations.smtp is None


def test_silent_server_times_out():
    with serve(Script(greeting=b"", replies={}, silent=True)) as srv:
        res = probe(port_of(srv), AppProtocol.smtp, ProbeSettings(timeout=0.5))
    assert res.status is Status.timeout
    assert res.observations.smtp.status is Status.timeout


def test_close_after_greeting_is_reset():
    with serve(Script(greeting=b"220-partial\r\n", replies={}, close_after_greeting=True)) as srv:
        res = probe(port_of(srv), AppProtocol.smtp)
    assert res.status is Status.reset


def test_garbage_and_oversized_lines_are_protocol_errors():
    with serve(Script(greeting=b"HTTP/1.1 400 Bad Request\r\n", replies={})) as srv:
        res = probe(port_of(srv), AppProtocol.smtp)
    assert res.status is Status.protocol_error
    with serve(Script(greeting=b"220 " + b"A" * 100_000 + b"\r\n", replies={})) as srv:
        res = probe(port_of(srv), AppProtocol.smtp)
    assert res.status is Status.protocol_error
    assert "longer than" in (res.reason or "")
    endless = b"".join(b"250-X%d\r\n" % i for i in range(500)) + b"250 END\r\n"
    with serve(Script(greeting=b"220 ok\r\n", replies={"EHLO": endless})) as srv:
        res = probe(port_of(srv), AppProtocol.smtp)
    assert res.status is Status.protocol_error


def test_tls_error_after_starttls_is_recorded():
    # The server says "go ahead" but then speaks plain text: the handshake fails.
    script = Script(
        greeting=b"220 x ESMTP\r\n",
        replies={
            "EHLO": b"250-x\r\n250 STARTTLS\r\n",
            "STARTTLS": b"220 go\r\nthis is not TLS\r\n",
        },
    )
    with serve(script) as srv:
        res = probe(port_of(srv), AppProtocol.smtp)
    o = res.observations.smtp
    assert o.status is Status.ok and o.starttls_error
    assert res.observations.tls.session is None

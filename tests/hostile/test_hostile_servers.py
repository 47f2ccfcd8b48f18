"""The hostile-server corpus: every case a byte-scripted server, every audit bounded and safe.

Each case runs ``pathsec audit`` in-process against one server and asserts that
- the run ends within a bound derived from its ``--timeout`` (the hard cases are cut by the
  byte limits or the timeout, never read to the end);
- memory stays bounded (tracemalloc peak of the whole run, server thread included, under
  :data:`MEMORY_CAP`, although some servers offer 100 MB);
- the endpoint gets an error record or an observation (never a crash, exit code 0 or 1);
- the terminal table (``audit -f table``, :class:`pathsec.report.table_writer.TableWriter`)
  holds no raw control character, and the HTML report no unescaped server markup.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import ssl
import struct
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from hostile.server import HostileServer, Peer, server_context, serving
from pathsec.audit.models import AuditResult, EndpointResult
from pathsec.cli.main import run
from pathsec.probes.interface import Status
from pathsec.report import ReportFormat, ReportInput, render
from pathsec.report.table_writer import TableWriter

MEMORY_CAP = 24 * 1024 * 1024
#: Server text that must never reach HTML unescaped.
MARKUP = '<script>alert("pwn")</script><img src=x onerror=alert(1)>'
#: Terminal control: clear screen, OSC window title, OSC 8 hyperlink, CSI in C1 form, BEL.
ESCAPES = "\x1b[2J\x1b]0;owned\x07\x1b]8;;http://evil.invalid\x1b\\click\x1b]8;;\x1b\\\x9b31m\x07"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_RAW_MARKUP = re.compile(r"<script>alert|<img src=x|<b>")

CaseHandler = Callable[[Peer], object]


@dataclass(frozen=True)
class Case:
    """One hostile server: what it does, how it is audited, what must come out."""

    name: str
    handler: Callable[[Peer], object]
    proto: str = "smtp"
    statuses: tuple[Status, ...] = (Status.ok,)
    timeout: float = 1.0
    max_seconds: float = 6.0
    extra: tuple[str, ...] = ()
    tls: str | None = None  # name of a certificate kind for implicit TLS
    check: Callable[[EndpointResult], None] | None = None
    reason: str | None = None  # a substring of the endpoint's reason
    notes: dict[str, str] = field(default_factory=dict)


# --- handlers -------------------------------------------------------------------------------

CHUNK = b"A" * 65536


async def endless_banner(p: Peer) -> None:
    """100 MB without a newline, stopped only when the client hangs up."""
    if not await p.send(b"220 "):
        return
    sent = 0
    while sent < 100 * 1024 * 1024 and await p.send(CHUNK):
        sent += len(CHUNK)


async def one_byte_per_second(p: Peer) -> None:
    for b in b"220 slow.example ESMTP\r\n":
        if not await p.send(bytes([b])):
            return
        await asyncio.sleep(1.0)


async def silent(p: Peer) -> None:
    await p.reader.read(1)  # until the client goes


def smtp_dialogue(
    banner: bytes,
    ehlo: bytes,
    starttls: Callable[[Peer], object] | None = None,
    auth_ntlm: bytes | None = None,
) -> Callable[[Peer], object]:
    """A small SMTP server: banner, EHLO reply, optional STARTTLS and AUTH NTLM behaviour."""

    async def handler(p: Peer) -> None:
        if not await p.send(banner):
            return
        async for line, verb in p.commands(20):
            if verb in ("EHLO", "HELO"):
                await p.send(ehlo)
            elif verb == "STARTTLS" and starttls is not None:
                await p.send(b"220 2.0.0 go ahead\r\n")
                await starttls(p)  # type: ignore[misc]
                return
            elif line.upper() == "AUTH NTLM" and auth_ntlm is not None:
                await p.send(b"334 \r\n")
                if await p.line() is None:
                    return
                await p.send(b"334 " + base64.b64encode(auth_ntlm) + b"\r\n")
            elif verb == "QUIT":
                await p.send(b"221 bye\r\n")
                return
            else:
                await p.send(b"500 5.5.1 unknown\r\n")

    return handler


def continuation_flood(first: bytes, line: bytes, last: bytes, verb: str, greeting: bytes):
    """Greeting, then for ``verb`` 100,000 continuation lines (or until the client hangs up)."""

    async def handler(p: Peer) -> None:
        if not await p.send(greeting):
            return
        for _ in range(10):
            got = await p.line()
            if got is None:
                return
            if verb in got.upper():
                block = line * 1000
                if not await p.send(first):
                    return
                for _ in range(100):  # 100 x 1000 = 100,000 lines
                    if not await p.send(block):
                        return
                await p.send(last)
            else:
                await p.send(b"500 no\r\n")

    return handler


async def plaintext_after_starttls(p: Peer) -> None:
    await p.send(b"220 this is plain text, not a ServerHello\r\n" * 3)
    await p.line(timeout=2)


async def garbage_after_starttls(p: Peer) -> None:
    await p.send(bytes(range(256)) * 8 + b"\x16\x03\x03\xff\xff" + b"\x00" * 64)
    await p.line(timeout=2)


async def alert_after_hello(p: Peer) -> None:
    await p.reader.read(5)  # the start of the ClientHello
    await p.send(b"\x15\x03\x03\x00\x02\x02\x28")  # fatal handshake_failure


async def reset_after_hello(p: Peer) -> None:
    await p.reader.read(5)
    await p.send(b"\x16\x03\x03\x00\x40\x02\x00\x00")  # half a ServerHello
    p.reset()


async def reset_mid_starttls(p: Peer) -> None:
    await reset_after_hello(p)


async def close_after_every_byte(p: Peer) -> None:
    await p.send(b"2")
    p.writer.close()


async def refuse_everything(p: Peer) -> None:
    await p.send(b"421 4.3.2 Service not available, closing transmission channel\r\n")
    for _ in range(10):
        if await p.line() is None:
            return
        await p.send(b"421 4.3.2 Service not available\r\n")


async def http_waits(p: Peer) -> None:
    """nginx-like: waits for a request, answers 400 with HTML."""
    await p.line(timeout=5)
    await p.send(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n\r\n" + MARKUP.encode())


async def http_speaks_first(p: Peer) -> None:
    await p.send(
        b"HTTP/1.1 400 Bad Request\r\nServer: "
        + MARKUP.encode()
        + b"\r\n\r\n<html>"
        + MARKUP.encode()
    )
    await p.line(timeout=2)


async def smtp_on_tls_port(p: Peer) -> None:
    await p.send(b"220 plain.example ESMTP " + MARKUP.encode() + b"\r\n")
    await p.line(timeout=2)
    await p.send(b"500 5.5.1 what?\r\n")


async def slow_loris_lines(p: Peer) -> None:
    """Banner, then EHLO continuation lines each just inside the 1 s read timeout."""
    if not await p.send(b"220 mx\r\n") or await p.line() is None:
        return
    await p.send(b"250-mx\r\n")
    for i in range(190):
        await asyncio.sleep(0.7)
        if not await p.send(b"250-SLOW%d\r\n" % i):
            return


async def sip_huge_header(p: Peer) -> None:
    await p.line()
    await p.send(
        b"SIP/2.0 200 OK\r\nServer: " + MARKUP.encode() + b"X" * (1024 * 1024) + b"\r\n\r\n"
    )
    await p.line(timeout=2)


async def sip_many_headers(p: Peer) -> None:
    await p.line()
    head = (
        b"SIP/2.0 200 OK\r\nServer: MSExchangeUM "
        + MARKUP.encode()
        + ESCAPES.encode("latin-1", "replace")
        + b"\r\n"
    )
    await p.send(head + b"X-Pad: " + b"y" * 1000 + b"\r\n" * 1)
    for _ in range(1000):  # 1 MB of headers in 1 KB lines
        if not await p.send(b"X-Pad: " + b"y" * 1000 + b"\r\n"):
            return
    await p.send(b"\r\n")


# --- LDAP: a rootDSE with huge values -------------------------------------------------------


def _ber(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + body


async def _ber_message(p: Peer) -> bytes | None:
    try:
        head = await p.reader.readexactly(2)
        n = head[1]
        if n & 0x80:
            extra = await p.reader.readexactly(n & 0x7F)
            head += extra
            n = int.from_bytes(extra, "big")
        return head + await p.reader.readexactly(min(n, 65536))
    except (OSError, asyncio.IncompleteReadError):
        return None


def _message_id(msg: bytes) -> int:
    i = 2 if msg[1] < 0x80 else 2 + (msg[1] & 0x7F)
    return int.from_bytes(msg[i + 2 : i + 2 + msg[i + 1]], "big")


def _ldap_attr(name: str, values: list[bytes]) -> bytes:
    return _ber(
        0x30, _ber(0x04, name.encode()) + _ber(0x31, b"".join(_ber(0x04, v) for v in values))
    )


ROOT_DSE = (
    _ldap_attr(
        "supportedSASLMechanisms",
        [b"GSSAPI", MARKUP.encode()] + [b"M%05d" % i for i in range(20000)],
    )
    + _ldap_attr("namingContexts", [b"DC=" + b"x" * (2 * 1024 * 1024)])
    + _ldap_attr("dnsHostName", [ESCAPES.encode("latin-1", "replace") + MARKUP.encode()])
    + _ldap_attr("supportedCapabilities", [b"1.2.840.113556.1.4.800"] * 5000)
)


async def ldap_huge_root_dse(p: Peer) -> None:
    for _ in range(4):
        msg = await _ber_message(p)
        if msg is None:
            return
        number = _message_id(msg)
        mid = _ber(0x02, number.to_bytes(number.bit_length() // 8 + 1, "big"))
        if b"\x77" in msg[:12]:  # ExtendedRequest (StartTLS): refuse
            body = _ber(0x0A, b"\x35") + _ber(0x04, b"") + _ber(0x04, b"no")
            await p.send(_ber(0x30, mid + _ber(0x78, body)))
            continue
        entry = _ber(0x64, _ber(0x04, b"") + _ber(0x30, ROOT_DSE))
        done = _ber(0x65, _ber(0x0A, b"\x00") + _ber(0x04, b"") + _ber(0x04, b""))
        await p.send(_ber(0x30, mid + entry) + _ber(0x30, mid + done))


def line_server(
    greeting: bytes,
    replies: dict[str, bytes],
    starttls: tuple[str, bytes, Callable[[Peer], object]] | None = None,
) -> Callable[[Peer], object]:
    """POP3/IMAP-style: ``replies`` by verb (IMAP tags kept as ``{tag}``), one STARTTLS verb."""

    async def handler(p: Peer) -> None:
        if not await p.send(greeting):
            return
        for _ in range(20):
            line = await p.line()
            if line is None:
                return
            words = line.split(" ")
            tag, verb = ("", words[0].upper())
            if len(words) > 1 and words[0][:1].isalnum() and words[0].upper() not in replies:
                tag, verb = words[0], words[1].upper()
            if starttls is not None and verb == starttls[0]:
                await p.send(starttls[1].replace(b"{tag}", tag.encode()))
                await starttls[2](p)  # type: ignore[misc]
                return
            reply = replies.get(verb, b"{tag} BAD no\r\n" if tag else b"-ERR no\r\n")
            await p.send(reply.replace(b"{tag}", tag.encode()))

    return handler


def http_server(head: bytes, body_bytes: int = 0) -> Callable[[Peer], object]:
    """Answers every request on the connection with ``head`` and ``body_bytes`` of body."""

    async def handler(p: Peer) -> None:
        for _ in range(30):
            for _ in range(100):  # the request head
                line = await p.line()
                if line is None:
                    return
                if line == "":
                    break
            if not await p.send(head):
                return
            sent = 0
            while sent < body_bytes and await p.send(CHUNK):
                sent += len(CHUNK)

    return handler


async def kerberos_4gb_length(p: Peer) -> None:
    await p.reader.read(4096)
    await p.send(b"\xff\xff\xff\xf0" + b"\x7e" * 1000)
    await p.line(timeout=2)


async def kerberos_markup_realm(p: Peer) -> None:
    from pathsec.lab.kerberos import error_reply

    head = await p.reader.readexactly(4)
    req = await p.reader.readexactly(int.from_bytes(head, "big"))
    reply = error_reply(MARKUP + ESCAPES, req)
    await p.send(len(reply).to_bytes(4, "big") + reply)


# --- NTLM challenges with malformed AV pairs --------------------------------------------


def _challenge(
    target_info: bytes, ti_offset: int | None = None, ti_len: int | None = None
) -> bytes:
    name = "EVIL".encode("utf-16-le")
    head = 56
    off_name = head
    off_ti = off_name + len(name) if ti_offset is None else ti_offset
    ln = len(target_info) if ti_len is None else ti_len
    return (
        b"NTLMSSP\x00"
        + struct.pack("<I", 2)
        + struct.pack("<HHI", len(name), len(name), off_name)
        + struct.pack("<I", 0xE2898215)
        + b"\x01\x23\x45\x67\x89\xab\xcd\xef"
        + b"\x00" * 8
        + struct.pack("<HHI", ln, ln, off_ti)
        + bytes([6, 1])
        + struct.pack("<H", 7601)
        + b"\x00\x00\x00\x0f"
        + name
        + target_info
    )


def _av(av_id: int, value: bytes, length: int | None = None) -> bytes:
    return struct.pack("<HH", av_id, len(value) if length is None else length) + value


NTLM_CHALLENGES = {
    "av_length_past_end": _challenge(_av(2, "DOM".encode("utf-16-le"), 4000)),
    "no_eol_odd_utf16": _challenge(_av(1, b"\x41\x00\x42") + _av(3, b"\xff\xfe\x00\xd8")),
    "offset_past_buffer": _challenge(_av(0, b""), ti_offset=60000, ti_len=512),
    "timestamp_wrong_size": _challenge(_av(7, b"\x01\x02\x03") + _av(0, b"")),
    "markup_and_escapes": _challenge(
        _av(2, (MARKUP + ESCAPES).encode("utf-16-le"))
        + _av(3, ("\x00" * 8 + "host").encode("utf-16-le"))
        + _av(0, b"")
    ),
    "thousand_pairs": _challenge(_av(9, b"x" * 4) * 1000 + _av(0, b"")),
}


def ntlm_server(challenge: bytes):
    return smtp_dialogue(
        b"220 mx.example ESMTP\r\n",
        b"250-mx.example\r\n250-AUTH NTLM LOGIN\r\n250 8BITMIME\r\n",
        auth_ntlm=challenge,
    )


# --- the table of cases ---------------------------------------------------------------------

HOSTILE_BANNER = b"220 \x00\xff\xfe\xc3\x28 " + ESCAPES.encode("latin-1", "replace") + b" ok\r\n"
HTML_BANNER = b"220 " + MARKUP.encode() + b" ESMTP\r\n"
EHLO_MARKUP = (
    b"250-" + MARKUP.encode() + b"\r\n250-AUTH PLAIN " + MARKUP.encode() + b"\r\n250 OK\r\n"
)


def _has_banner(res: EndpointResult) -> None:
    o = res.observations.smtp or res.observations.pop3 or res.observations.imap
    assert o is not None and o.status is Status.ok


def _tls_rejected(res: EndpointResult) -> None:
    tls = res.observations.tls
    assert tls is not None and "accepted" not in tls.versions.values()


def _starttls_failed(res: EndpointResult) -> None:
    o = res.observations.smtp
    assert o is not None and o.starttls_offered and o.ehlo_after is None
    _tls_rejected(res)


def _cert_seen(res: EndpointResult) -> None:
    tls = res.observations.tls
    assert tls is not None and tls.session is not None


def _bad_san_handled(res: EndpointResult) -> None:
    """Recorded (as an unparsable certificate, or without SANs and without a name match)."""
    tls = res.observations.tls
    assert tls is not None and tls.session is not None
    cert = tls.session.certificate
    if cert is None:
        assert tls.session.certificate_error
    else:
        assert cert.sans == () and cert.hostname_match is False


def _root_dse_capped(res: EndpointResult) -> None:
    ldap = res.observations.ldap
    assert ldap is not None and ldap.root_dse is not None
    assert 0 < len(ldap.root_dse.sasl_mechanisms) <= 64
    assert all(len(v) <= 200 for v in ldap.root_dse.naming_contexts)


def _ntlm_recorded(res: EndpointResult) -> None:
    n = res.observations.ntlm
    assert n is not None
    assert n.status in (Status.ok, Status.protocol_error), n


CASES = [
    Case(
        "endless_banner_100MB", endless_banner, statuses=(Status.protocol_error,), reason="longer"
    ),
    Case("one_byte_per_second", one_byte_per_second, statuses=(Status.timeout,), max_seconds=4),
    Case(
        "slow_loris_ehlo_lines",
        slow_loris_lines,
        statuses=(Status.timeout,),
        reason="no answer within",
        max_seconds=5,
    ),
    Case(
        "sip_1MB_header_line",
        sip_huge_header,
        proto="sip",
        statuses=(Status.protocol_error,),
        reason="longer",
    ),
    Case("sip_1MB_of_headers", sip_many_headers, proto="sip", statuses=(Status.protocol_error,)),
    Case(
        "ldap_root_dse_huge_values",
        ldap_huge_root_dse,
        proto="ldap",
        check=_root_dse_capped,
        max_seconds=10,
    ),
    Case(
        "http_1MB_header",
        http_server(
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\nX-Pad: "
            + b"p" * (1024 * 1024)
            + b"\r\nContent-Length: 0\r\n\r\n"
        ),
        proto="http",
        statuses=(Status.protocol_error,),
        reason="too long",
    ),
    Case(
        "http_100MB_body",
        http_server(b"HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n", 100 * 1024 * 1024),
        proto="http",
        statuses=(Status.ok,),
    ),
    Case(
        "http_www_authenticate_markup_and_bad_ntlm",
        http_server(
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: "
            + MARKUP.encode()
            + b"\r\nWWW-Authenticate: NTLM "
            + base64.b64encode(NTLM_CHALLENGES["av_length_past_end"])
            + b"\r\nWWW-Authenticate: Negotiate !!notbase64!!\r\nServer: "
            + MARKUP.encode()
            + ESCAPES.encode("latin-1", "replace")
            + b"\r\nContent-Length: 0\r\n\r\n"
        ),
        proto="http",
        extra=("--ntlm-info",),
        statuses=(Status.ok,),
    ),
    Case(
        "kerberos_4GB_length_prefix",
        kerberos_4gb_length,
        proto="kerberos",
        statuses=(Status.protocol_error,),
        reason="too long",
    ),
    Case("kerberos_markup_and_escapes_in_realm", kerberos_markup_realm, proto="kerberos"),
    Case("accept_never_speak", silent, statuses=(Status.timeout,), max_seconds=4),
    Case(
        "ehlo_100k_continuations",
        continuation_flood(b"250-mx\r\n", b"250-XFLOOD\r\n", b"250 END\r\n", "EHLO", b"220 mx\r\n"),
        statuses=(Status.protocol_error,),
        reason="reply longer",
    ),
    Case(
        "capa_100k_lines",
        continuation_flood(b"+OK\r\n", b"XFLOOD\r\n", b".\r\n", "CAPA", b"+OK ready\r\n"),
        proto="pop3",
        statuses=(Status.protocol_error,),
        reason="reply longer",
    ),
    Case(
        "capability_100k_lines",
        continuation_flood(
            b"",
            b"* CAPABILITY IMAP4rev1 XFLOOD\r\n",
            b"a1 OK done\r\n",
            "CAPABILITY",
            b"* OK ready\r\n",
        ),
        proto="imap",
        statuses=(Status.protocol_error,),
        reason="longer",
    ),
    Case(
        "nul_invalid_utf8_ansi_osc_banner",
        smtp_dialogue(
            HOSTILE_BANNER, b"250-mx" + ESCAPES.encode("latin-1", "replace") + b"\r\n250 OK\r\n"
        ),
        check=_has_banner,
    ),
    Case(
        "html_script_in_smtp_banner_and_ehlo",
        smtp_dialogue(HTML_BANNER, EHLO_MARKUP),
        check=_has_banner,
    ),
    Case(
        "html_and_escapes_in_pop3_banner",
        continuation_flood(
            b"",
            b"",
            b"",
            "NEVER",
            b"+OK " + MARKUP.encode() + ESCAPES.encode("latin-1", "replace") + b"\r\n",
        ),
        proto="pop3",
        statuses=(Status.ok, Status.protocol_error),
    ),
    Case(
        "html_and_escapes_in_imap_greeting_and_caps",
        line_server(
            b"* OK " + MARKUP.encode() + ESCAPES.encode("latin-1", "replace") + b"\r\n",
            {
                "CAPABILITY": b"* CAPABILITY IMAP4rev1 AUTH="
                + MARKUP.encode()
                + b"\r\n{tag} OK done\r\n",
                "LOGOUT": b"* BYE\r\n{tag} OK bye\r\n",
            },
        ),
        proto="imap",
        check=_has_banner,
    ),
    Case(
        "pop3_stls_then_garbage",
        line_server(
            b"+OK ready\r\n",
            {"CAPA": b"+OK\r\nSTLS\r\nUSER\r\n.\r\n", "QUIT": b"+OK bye\r\n"},
            ("STLS", b"+OK go\r\n", garbage_after_starttls),
        ),
        proto="pop3",
        check=_tls_rejected,
    ),
    Case(
        "imap_starttls_then_plaintext",
        line_server(
            b"* OK ready\r\n",
            {
                "CAPABILITY": b"* CAPABILITY IMAP4rev1 STARTTLS\r\n{tag} OK done\r\n",
                "LOGOUT": b"{tag} OK bye\r\n",
            },
            ("STARTTLS", b"{tag} OK begin\r\n", plaintext_after_starttls),
        ),
        proto="imap",
        check=_tls_rejected,
    ),
    Case(
        "starttls_then_plaintext",
        smtp_dialogue(b"220 mx\r\n", b"250-mx\r\n250 STARTTLS\r\n", plaintext_after_starttls),
        check=_starttls_failed,
    ),
    Case(
        "starttls_then_garbage",
        smtp_dialogue(b"220 mx\r\n", b"250-mx\r\n250 STARTTLS\r\n", garbage_after_starttls),
        check=_starttls_failed,
    ),
    Case(
        "starttls_then_reset_mid_handshake",
        smtp_dialogue(b"220 mx\r\n", b"250-mx\r\n250 STARTTLS\r\n", reset_mid_starttls),
        check=_starttls_failed,
    ),
    Case(
        "tls_alert_mid_handshake",
        alert_after_hello,
        proto="smtps",
        statuses=(Status.tls_error, Status.reset, Status.protocol_error),
        check=_tls_rejected,
    ),
    Case(
        "tls_reset_mid_handshake",
        reset_after_hello,
        proto="smtps",
        statuses=(Status.tls_error, Status.reset, Status.protocol_error),
        check=_tls_rejected,
    ),
    Case(
        "certificate_1000_sans",
        smtp_dialogue(b"220 mx\r\n", b"250 mx\r\n"),
        proto="smtps",
        tls="sans",
        check=_cert_seen,
    ),
    Case(
        "certificate_64KB_subject_with_markup",
        smtp_dialogue(b"220 mx\r\n", b"250 mx\r\n"),
        proto="smtps",
        tls="subject",
        check=_cert_seen,
    ),
    Case(
        "certificate_malformed_san_extension",
        smtp_dialogue(b"220 mx\r\n", b"250 mx\r\n"),
        proto="smtps",
        tls="bad_san",
        check=_bad_san_handled,
    ),
    Case("http_on_smtp_port_waits", http_waits, statuses=(Status.timeout,), max_seconds=4),
    Case("http_on_smtp_port_speaks_first", http_speaks_first, statuses=(Status.protocol_error,)),
    Case(
        "smtp_on_tls_port",
        smtp_on_tls_port,
        proto="tls",
        check=_tls_rejected,
        statuses=(Status.ok,),
    ),
    Case(
        "smtp_on_smtps_port",
        smtp_on_tls_port,
        proto="smtps",
        statuses=(Status.tls_error, Status.protocol_error, Status.reset),
        check=_tls_rejected,
    ),
    Case("close_after_every_byte", close_after_every_byte, statuses=(Status.reset,)),
    Case(
        "smtp_421_to_everything", refuse_everything, statuses=(Status.protocol_error,), reason="421"
    ),
    *[
        Case(f"ntlm_{name}", ntlm_server(raw), extra=("--ntlm-info",), check=_ntlm_recorded)
        for name, raw in NTLM_CHALLENGES.items()
    ],
]


def _context(kind: str | None, tmp: Path) -> ssl.SSLContext | None:
    if kind is None:
        return None
    if kind == "sans":
        sans: list[x509.GeneralName] = [
            x509.DNSName(f"h{i}.{'x' * 40}.example") for i in range(1000)
        ]
        sans[0] = x509.DNSName("evil<script>alert(1)</script>.example")
        return server_context(tmp, sans=sans)
    if kind == "bad_san":
        return server_context(tmp, raw_san=b"\x30\x06\x82\x04\xffbad")
    # 64 KB subject: a markup CN and 850 64-character OUs (the issuer is short).
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, "<script>alert(1)</script>")]
    attrs += [
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"{i:04d}" + "\x1b[2J<b>" + "u" * 53)
        for i in range(850)
    ]
    return server_context(tmp, subject=x509.Name(attrs))


def _audit(srv: HostileServer, case: Case, tmp: Path, capsys) -> tuple[int, float, int, str]:
    out = tmp / "result.json"
    argv = [
        "audit",
        "-t",
        f"127.0.0.1:{srv.port}/{case.proto}",
        "--timeout",
        str(case.timeout),
        "-q",
        "-o",
        str(out),
        *case.extra,
    ]
    capsys.readouterr()
    tracemalloc.start()
    start = time.monotonic()
    try:
        rc = run(argv)
        elapsed = time.monotonic() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return rc, elapsed, peak, capsys.readouterr().out


def assert_terminal_safe(text: str) -> None:
    """No raw control character but newlines reaches a terminal."""
    bad = _CONTROL.search(text)
    assert bad is None, f"raw control character {bad.group()!r} in terminal output"


def assert_html_safe(html: str) -> None:
    """No server markup survives unescaped; no raw control character."""
    assert _RAW_MARKUP.search(html) is None, "unescaped server markup in HTML"
    assert _CONTROL.search(html.replace("\t", "")) is None


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_server(case: Case, tmp_path: Path, capsys) -> None:
    ctx = _context(case.tls, tmp_path)
    with serving(case.handler, tls=ctx) as srv:  # type: ignore[arg-type]
        rc, elapsed, peak, table = _audit(srv, case, tmp_path, capsys)
    assert rc in (0, 1), f"exit code {rc}"
    assert elapsed < case.max_seconds, f"took {elapsed:.1f}s"
    assert peak < MEMORY_CAP, f"peak {peak / 1e6:.1f} MB"
    result = AuditResult.model_validate_json((tmp_path / "result.json").read_text())
    assert result.complete and len(result.endpoints) == 1
    res = result.endpoints[0]
    assert res.status in case.statuses, (res.status, res.reason)
    if case.reason is not None:
        assert case.reason in (res.reason or ""), res.reason
    if res.status is not Status.ok:
        assert res.reason, "an error record needs a reason"
    if case.check is not None:
        case.check(res)
    assert_terminal_safe(table)
    for lang in ("en", "zh"):
        report = ReportInput(result=result, lang=lang)  # type: ignore[arg-type]
        assert_terminal_safe(TableWriter().render(report))
        assert_html_safe(render(ReportFormat.html, report))
    # The JSON keeps server text verbatim but escaped: it parses, and holds no raw C0 or C1
    # control character (U+009B is CSI to some terminals) nor a line separator.
    raw_json = (tmp_path / "result.json").read_text()
    json.loads(raw_json)
    assert re.search("[\x00-\x09\x0b-\x1f\x80-\x9f\u2028\u2029]", raw_json) is None


def test_job_deadline_cuts_a_server_slow_at_every_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each reply comes just inside the read timeout; the per-job budget still ends the job."""
    import pathsec.audit.engine as engine
    from pathsec.audit.engine import run_audit
    from pathsec.audit.models import Target
    from pathsec.probes.interface import ProbeSettings

    async def slow_steps(p: Peer) -> None:
        await asyncio.sleep(0.4)
        if not await p.send(b"220 slow\r\n"):
            return
        for _ in range(5):
            if await p.line() is None:
                return
            await asyncio.sleep(0.4)
            await p.send(b"250 ok\r\n")

    monkeypatch.setattr(engine, "JOB_TIMEOUT_FACTOR", 2)  # budget 1 s; the dialogue needs 1.2 s
    with serving(slow_steps) as srv:
        target = Target(host="127.0.0.1", port=srv.port, protocol="smtp")  # type: ignore[arg-type]
        start = time.monotonic()
        res = asyncio.run(run_audit([target], ProbeSettings(timeout=0.5)))[0]
        elapsed = time.monotonic() - start
    assert res.status is Status.timeout and "in all" in (res.reason or ""), res.reason
    assert elapsed < 2.5

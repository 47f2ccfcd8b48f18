"""Structure-aware fuzzing of every response parser: only the documented ProtocolError escapes.

``tests/probes`` already feeds random text and bytes to the mail parsers. These strategies
build *almost valid* input instead (reply codes and separators, CAPA blocks, tagged IMAP
lines, WWW-Authenticate grammar, NTLM challenges with well-formed headers and arbitrary AV
pairs, mutated certificates and KRB-ERRORs), which reaches the deep branches random bytes
never do, and they also run the byte stream through the real line reader.
Examples per test: :data:`EXAMPLES` (the total is in the README).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import struct
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pathsec.probes import imap, pop3, smtp
from pathsec.probes.certs import certificate_facts
from pathsec.probes.interface import ProbeSettings, ProtocolError
from pathsec.probes.ntlm import decode_challenge
from pathsec.probes.runtime import ByteStream, Conn
from pathsec.probes.text import Transcript

EXAMPLES = 300
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Text a hostile server may send: ASCII, controls, latin-1 and a little of everything else.
hostile_text = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0, max_codepoint=0xFF),
        st.sampled_from("<>&\"' \t=,;:-+*.{}()[]\\/"),
        st.characters(),
    ),
    max_size=120,
)
token = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=20)


def only_protocol_error(fn: Any, *args: Any) -> Any:
    """Call ``fn``; ProtocolError is fine, anything else fails the test."""
    try:
        return fn(*args)
    except ProtocolError:
        return None


# --- SMTP --------------------------------------------------------------------------------

reply_code = st.one_of(
    st.sampled_from(["220", "250", "334", "421", "500", "554"]),
    st.text(alphabet="0123456789x ", min_size=0, max_size=4),
)
ehlo_keyword = st.one_of(
    st.sampled_from(
        ["AUTH", "AUTH=LOGIN", "SIZE", "STARTTLS", "X-EXPS", "XEXCH50", "8BITMIME", "AUTH=,,,"]
    ),
    token,
)
ehlo_text = st.builds(
    lambda kw, args: " ".join([kw, *args]),
    ehlo_keyword,
    st.lists(st.one_of(token, hostile_text), max_size=4),
)
smtp_line = st.builds(
    lambda code, sep, text: code + sep + text,
    reply_code,
    st.sampled_from([" ", "-", "", "--"]),
    ehlo_text,
)


@FUZZ
@given(st.lists(smtp_line, min_size=0, max_size=12))
def test_smtp_reply_and_ehlo(lines: list[str]) -> None:
    reply = only_protocol_error(smtp.parse_reply, lines)
    if reply is not None:
        info = only_protocol_error(smtp.parse_ehlo, reply)
        if info is not None:
            assert info.size is None or info.size >= 0
            assert all(m == m.upper() for m in info.auth)


# --- POP3 --------------------------------------------------------------------------------

capa_line = st.one_of(
    st.sampled_from(["USER", "STLS", "SASL PLAIN LOGIN NTLM", "SASL", "TOP", "UIDL", "."]),
    st.builds(lambda a, b: f"{a} {b}", token, hostile_text),
    hostile_text,
)


@FUZZ
@given(
    st.sampled_from(["+OK", "-ERR", "+OK ", "", "+ok"]),
    st.lists(capa_line, max_size=12),
    st.booleans(),
    hostile_text,
)
def test_pop3_capa_and_status(first: str, body: list[str], dot: bool, status: str) -> None:
    lines = [first, *body, *(["."] if dot else [])]
    capa = only_protocol_error(pop3.parse_capa, lines)
    if capa is not None:
        assert isinstance(capa.sasl, tuple)
    only_protocol_error(pop3.parse_status, first + status)


# --- IMAP --------------------------------------------------------------------------------

imap_cap = st.one_of(
    st.sampled_from(
        ["IMAP4rev1", "STARTTLS", "LOGINDISABLED", "AUTH=PLAIN", "AUTH=NTLM", "AUTH=", "IDLE"]
    ),
    token,
)
caps_text = st.builds(lambda caps: " ".join(caps), st.lists(imap_cap, max_size=10))
imap_line = st.one_of(
    st.builds(lambda c: f"* CAPABILITY {c}", caps_text),
    st.builds(
        lambda t, s, r: f"{t} {s} {r}",
        st.sampled_from(["a1", "a2", "*", ""]),
        st.sampled_from(["OK", "NO", "BAD", "BYE", "PREAUTH", "ok"]),
        hostile_text,
    ),
    st.builds(lambda c, r: f"* OK [CAPABILITY {c}] {r}", caps_text, hostile_text),
    hostile_text,
)


@FUZZ
@given(st.lists(imap_line, max_size=10), caps_text, imap_line)
def test_imap_greeting_capabilities_tagged(lines: list[str], caps: str, greeting: str) -> None:
    only_protocol_error(imap.parse_capabilities, caps)
    only_protocol_error(imap.parse_capabilities, "CAPABILITY " + caps)
    only_protocol_error(imap.parse_greeting, greeting)
    only_protocol_error(imap.parse_tagged, "a1", lines)


# --- the line reader: bytes in, replies out ------------------------------------------------

wire_line = st.one_of(
    smtp_line.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(max_size=200),
)


async def _read_stream(data: bytes, limit: int) -> None:
    stream = ByteStream()
    stream.data_received(data)
    stream.eof_received()
    conn = Conn(stream, ProbeSettings(timeout=1, max_line_bytes=limit), Transcript())
    for _ in range(5):
        try:
            await smtp.read_reply(conn)
        except (ProtocolError, ConnectionResetError):
            return


@FUZZ
@given(
    st.lists(wire_line, max_size=30),
    st.sampled_from([b"\r\n", b"\n", b"\r", b""]),
    st.sampled_from([64, 4096]),
)
def test_reader_and_smtp_parser_on_raw_bytes(chunks: list[bytes], eol: bytes, limit: int) -> None:
    """Only ProtocolError (bad or oversized reply) or ConnectionResetError (EOF) come out."""
    asyncio.run(_read_stream(eol.join(chunks) + eol, limit))


# --- HTTP WWW-Authenticate -----------------------------------------------------------------

auth_param = st.builds(
    lambda k, v, q: f'{k}="{v}"' if q else f"{k}={v}",
    st.sampled_from(["realm", "nonce", "qop", "charset", "x"]),
    hostile_text,
    st.booleans(),
)
auth_scheme = st.one_of(
    st.sampled_from(["Basic", "NTLM", "Negotiate", "Digest", "negotiate"]), token
)
challenge = st.builds(
    lambda s, ps, tok: " ".join([s, *([tok] if tok else []), ", ".join(ps)]).strip(),
    auth_scheme,
    st.lists(auth_param, max_size=3),
    st.one_of(st.none(), st.binary(max_size=80).map(lambda b: base64.b64encode(b).decode()), token),
)


@FUZZ
@given(st.lists(st.builds(lambda cs: ", ".join(cs), st.lists(challenge, max_size=4)), max_size=4))
def test_http_www_authenticate(values: list[str]) -> None:
    from pathsec.probes import http

    schemes, realm = http.parse_auth_schemes(values)  # documented: never raises
    assert all(isinstance(s, str) and s for s in schemes)
    assert realm is None or isinstance(realm, str)
    for v in values:
        for scheme in ("NTLM", "Negotiate"):
            only_protocol_error(http._challenge_from, v, scheme)


# --- NTLM CHALLENGE with well-formed headers and arbitrary AV pairs --------------------------

av_pair = st.builds(
    lambda av_id, value, lie: struct.pack("<HH", av_id, len(value) if lie is None else lie) + value,
    st.one_of(st.integers(0, 10), st.integers(0, 0xFFFF)),
    st.one_of(
        st.binary(max_size=40), hostile_text.map(lambda t: t.encode("utf-16-le", "surrogatepass"))
    ),
    st.one_of(st.none(), st.integers(0, 0xFFFF)),
)


@FUZZ
@given(
    st.lists(av_pair, max_size=8),
    st.booleans(),
    st.one_of(st.none(), st.integers(0, 0xFFFF)),
    st.one_of(st.none(), st.integers(0, 0xFFFF)),
    st.binary(max_size=24),
    st.integers(0, 0xFFFFFFFF),
)
def test_ntlm_challenge_av_pairs(
    pairs: list[bytes], eol: bool, ti_off: int | None, ti_len: int | None, name: bytes, flags: int
) -> None:
    info = b"".join(pairs) + (b"\x00\x00\x00\x00" if eol else b"")
    off_name = 56
    off_ti = off_name + len(name) if ti_off is None else ti_off
    ln = len(info) if ti_len is None else ti_len
    raw = (
        b"NTLMSSP\x00\x02\x00\x00\x00"
        + struct.pack("<HHI", len(name), len(name), off_name)
        + struct.pack("<I", flags)
        + b"\x11" * 8
        + b"\x00" * 8
        + struct.pack("<HHI", ln, ln, off_ti)
        + b"\x0a\x00\x63\x45\x00\x00\x00\x0f"
        + name
        + info
    )
    obs = only_protocol_error(decode_challenge, base64.b64encode(raw).decode())
    if obs is not None:
        assert obs.target_name is None or isinstance(obs.target_name, str)


# --- certificates: a real DER, mutated ------------------------------------------------------

_KEY = ec.generate_private_key(ec.SECP256R1())
_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fuzz.test")])
_NOW = dt.datetime.now(dt.UTC)
_DER = (
    x509.CertificateBuilder()
    .subject_name(_NAME)
    .issuer_name(_NAME)
    .public_key(_KEY.public_key())
    .serial_number(7)
    .not_valid_before(_NOW - dt.timedelta(days=1))
    .not_valid_after(_NOW + dt.timedelta(days=1))
    .add_extension(x509.SubjectAlternativeName([x509.DNSName("fuzz.test")]), critical=False)
    .sign(_KEY, hashes.SHA256())
    .public_bytes(serialization.Encoding.DER)
)


@FUZZ
@given(
    st.lists(st.tuples(st.integers(0, len(_DER) - 1), st.integers(0, 255)), min_size=1, max_size=6),
    st.integers(0, len(_DER)),
)
def test_certificate_facts_on_mutated_der(flips: list[tuple[int, int]], cut: int) -> None:
    der = bytearray(_DER)
    for i, b in flips:
        der[i] = b
    only_protocol_error(certificate_facts, bytes(der), "fuzz.test")
    only_protocol_error(certificate_facts, bytes(der[:cut]), "fuzz.test")


# --- SIP ------------------------------------------------------------------------------------

sip_header = st.one_of(
    st.builds(
        lambda n, v: f"{n}:{v}",
        st.sampled_from(["Server", "User-Agent", "Allow", "k", "Supported", "Via", "server"]),
        hostile_text,
    ),
    hostile_text,
)
status_line = st.one_of(
    st.builds(
        lambda c, r: f"SIP/2.0 {c} {r}",
        st.one_of(token, st.integers(-5, 10**30).map(str)),
        hostile_text,
    ),
    hostile_text,
)


@FUZZ
@given(status_line, st.lists(sip_header, max_size=12))
def test_sip_reply(first: str, headers: list[str]) -> None:
    from pathsec.probes import sip

    obs = only_protocol_error(sip.parse_reply, [first, *headers])
    if obs is not None:
        assert isinstance(obs.status_code, int)


# --- Kerberos: a real KRB-ERROR, mutated -----------------------------------------------------


def _krb_error() -> bytes:
    from pathsec.lab.kerberos import error_reply
    from pathsec.probes.kerberos import as_req

    return error_reply("FUZZ.TEST", as_req("FUZZ.TEST", "nobody"))


_KRB = _krb_error()


@FUZZ
@given(
    st.lists(st.tuples(st.integers(0, len(_KRB) - 1), st.integers(0, 255)), max_size=5),
    st.integers(1, len(_KRB)),
    st.binary(max_size=64),
)
def test_kerberos_reply_mutated(flips: list[tuple[int, int]], cut: int, tail: bytes) -> None:
    from pathsec.probes.kerberos import parse_reply

    raw = bytearray(_KRB)
    for i, b in flips:
        raw[i] = b
    for data in (bytes(raw), bytes(raw[:cut]), bytes(raw) + tail, b"\x6b" + tail, b"\x7e" + tail):
        only_protocol_error(parse_reply, data)


# --- LDAP rootDSE values, CLDAP datagrams, RPC bindings: never raise -------------------------


@FUZZ
@given(
    st.dictionaries(
        st.one_of(
            st.sampled_from(["supportedSASLMechanisms", "dnsHostName", "namingContexts"]), token
        ),
        st.one_of(st.lists(hostile_text, max_size=80), hostile_text),
        max_size=6,
    ),
    st.binary(max_size=64),
    st.lists(
        st.one_of(
            st.builds(lambda h, p: f"ncacn_ip_tcp:{h}[{p}]", token, st.integers(-1, 10**9)),
            hostile_text,
        ),
        max_size=6,
    ),
)
def test_ldap_cldap_rpc_decoders(
    entry: dict[str, Any], datagram: bytes, bindings: list[str]
) -> None:
    from pathsec.probes.ldap import MAX_VALUES, parse_root_dse
    from pathsec.probes.rpc import tcp_ports
    from pathsec.probes.udp import looks_like_ldap

    root = parse_root_dse(entry)
    assert len(root.sasl_mechanisms) <= MAX_VALUES
    assert all(len(v) <= 200 for v in root.naming_contexts)
    assert isinstance(looks_like_ldap(datagram), bool)
    assert isinstance(looks_like_ldap(b"\x30" + datagram), bool)
    assert all(1 <= p <= 65535 for p in tcp_ports(bindings))

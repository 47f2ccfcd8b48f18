"""The server's first flight after a hand-built ClientHello, and SSL 2.0's hello.

Up to TLS 1.2 the server answers a ClientHello with ServerHello, Certificate (the chain as
sent), CertificateStatus (a stapled OCSP response), ServerKeyExchange (the DH group or
elliptic curve of an ephemeral key exchange) and ServerHelloDone, in clear. Reading them
from the enumeration's own handshakes gives the chain, stapling and key-exchange strength
without another connection. Hand-written for the reasons in :mod:`pathsec.probes.hello`;
layouts from RFC 5246 section 7.4, RFC 8422 section 5.4, RFC 6066 section 8 and, for SSL
2.0, the 1995 Netscape specification (appendix E.2 of RFC 5246 for the record header).
Every read is bounded in bytes here and in time by the caller.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol

from pathsec.probes.hello import (
    _ALERT,
    _HANDSHAKE,
    ServerHello,
    TlsAlert,
    _Reader,
    parse_server_hello,
)
from pathsec.probes.interface import ProtocolError
from pathsec.probes.suites import SSL2_CIPHERS, CipherSuite, suite

#: A first flight with a long chain is some 10-20 KiB; 256 KiB is a hostile server.
MAX_FLIGHT_BYTES = 256 * 1024
#: Certificates kept from one Certificate message.
MAX_CERTIFICATES = 16
MAX_RECORD = 18432  # 2^14 + 2048 (RFC 5246 section 6.2.3)

_CERTIFICATE, _SERVER_KEY_EXCHANGE, _CERTIFICATE_REQUEST = 11, 12, 13
_SERVER_HELLO_DONE, _CERTIFICATE_STATUS = 14, 22


@dataclass(frozen=True)
class KeyExchange:
    """What a ServerKeyExchange says about the ephemeral key exchange."""

    dh_bits: int | None = None  # size of the DH prime p
    curve: int | None = None  # named curve (group id)
    explicit_curve: bool = False
    rsa_bits: int | None = None  # temporary RSA key of an export suite


@dataclass(frozen=True)
class Flight:
    """The server's first flight up to ServerHelloDone (up to TLS 1.2), or its ServerHello
    alone (a HelloRetryRequest or a TLS 1.3 ServerHello, whose rest is encrypted)."""

    hello: ServerHello
    certificates: tuple[bytes, ...] = ()
    key_exchange: KeyExchange | None = None
    ocsp_stapled: bool = False
    complete: bool = False  # ServerHelloDone was read


def _bits(value: bytes) -> int:
    return int.from_bytes(value, "big").bit_length()


class _Cursor:
    """Bounded reads from one handshake message body."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data, self.pos, self.what = data, 0, what

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ProtocolError(f"{self.what} truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def vector(self, width: int) -> bytes:
        return self.take(int.from_bytes(self.take(width), "big"))


def parse_certificates(body: bytes) -> tuple[bytes, ...]:
    """The DER certificates of a Certificate message (TLS 1.2 and before), in sent order."""
    c = _Cursor(body, "Certificate message")
    listed = _Cursor(c.vector(3), "certificate list")
    out: list[bytes] = []
    while listed.pos < len(listed.data):
        der = listed.vector(3)
        if len(out) < MAX_CERTIFICATES:
            out.append(der)
    return tuple(out)


def parse_key_exchange(body: bytes, chosen: CipherSuite | None) -> KeyExchange:
    """The group or curve of a ServerKeyExchange for the suite the server chose."""
    c = _Cursor(body, "ServerKeyExchange")
    if chosen is None:
        return KeyExchange()
    if chosen.kx in ("DHE_PSK", "ECDHE_PSK", "PSK", "RSA_PSK"):
        c.vector(2)  # psk_identity_hint
    if chosen.dhe:
        p = c.vector(2)
        c.vector(2)  # g
        c.vector(2)  # Ys
        return KeyExchange(dh_bits=_bits(p))
    if chosen.ecdhe:
        kind = c.take(1)[0]
        if kind == 3:  # named_curve
            return KeyExchange(curve=int.from_bytes(c.take(2), "big"))
        if kind in (1, 2):
            return KeyExchange(explicit_curve=True)
        raise ProtocolError(f"ServerKeyExchange with curve type {kind}")
    if chosen.kx == "RSA":  # a temporary RSA key (export suites)
        return KeyExchange(rsa_bits=_bits(c.vector(2)))
    return KeyExchange()


class _Source(Protocol):
    async def read(self, n: int, /) -> bytes: ...


async def _fill(conn: _Source, raw: bytearray, n: int) -> None:
    """Read on until ``raw`` holds ``n`` bytes; ConnectionResetError when the peer closes."""
    while len(raw) < n:
        chunk = await conn.read(MAX_RECORD + 5)
        if not chunk:
            raise ConnectionResetError("connection closed by the server")
        raw += chunk


async def read_flight(
    conn: _Source,
    allow_hrr: bool = False,
    limit: int = MAX_FLIGHT_BYTES,
    certificates: bool = True,
) -> Flight:
    """Read the answer to a hand-built ClientHello, bounded by ``limit`` bytes.

    Raises :class:`TlsAlert` when the server refuses with an alert,
    :class:`ConnectionResetError` when it closes, :class:`ProtocolError` for anything that
    is not a TLS handshake. A TLS 1.3 answer (HelloRetryRequest or ServerHello) ends the
    read at the hello; otherwise the flight is read up to ServerHelloDone.
    ``certificates``: parse the Certificate and CertificateStatus messages (an
    enumeration keeps them from one round only). Records are cut from what arrived, as it
    arrives (at most a record ahead): the caller drops the connection after the flight.
    """
    received = 0
    raw = bytearray()  # read, not yet cut into records (at most two records' worth)
    buf = bytearray()  # handshake bytes not yet cut into messages
    hello: ServerHello | None = None
    chain: tuple[bytes, ...] = ()
    kx: KeyExchange | None = None
    stapled = False
    while True:
        if len(raw) < 5:
            try:
                await _fill(conn, raw, 5)
            except (ConnectionResetError, EOFError):
                if hello is None:
                    raise
                # the ServerHello decided the suite; a flight cut short keeps what came
                return Flight(hello, chain, kx, stapled)
        kind, length = raw[0], (raw[3] << 8) | raw[4]
        if kind not in (_ALERT, _HANDSHAKE) or raw[1] != 3 or length > MAX_RECORD:
            if hello is not None and kind == 20:  # ChangeCipherSpec: a resumption, stop here
                return Flight(hello, chain, kx, stapled)
            raise ProtocolError(f"not a TLS handshake record: {bytes(raw[:5]).hex()}")
        received += 5 + length
        if received > limit:
            raise ProtocolError(f"server's first flight longer than {limit} bytes")
        if len(raw) < 5 + length:
            try:
                await _fill(conn, raw, 5 + length)
            except (ConnectionResetError, EOFError):
                if hello is None:
                    raise
                return Flight(hello, chain, kx, stapled)
        payload = raw[5 : 5 + length]
        del raw[: 5 + length]
        if kind == _ALERT:
            if len(payload) < 2:
                raise ProtocolError("truncated TLS alert")
            raise TlsAlert(payload[1])
        buf += payload
        while len(buf) >= 4:
            size = int.from_bytes(buf[1:4], "big")
            if size > limit:
                raise ProtocolError(f"handshake message of {size} bytes")
            if len(buf) < 4 + size:
                break
            mtype = buf[0]
            if hello is None:
                if mtype != 2:
                    raise ProtocolError(f"first handshake message is type {mtype}, not ServerHello")
                hello = parse_server_hello(bytes(buf[4 : 4 + size]), allow_hrr)
                if hello.hrr or hello.version == "TLSv1.3":
                    return Flight(hello)
            elif mtype == _CERTIFICATE:
                if certificates:
                    chain = parse_certificates(bytes(buf[4 : 4 + size]))
            elif mtype == _CERTIFICATE_STATUS:
                stapled = certificates and size > 0 and buf[4] == 1
            elif mtype == _SERVER_KEY_EXCHANGE:
                kx = parse_key_exchange(bytes(buf[4 : 4 + size]), suite(hello.cipher_suite))
            elif mtype == _SERVER_HELLO_DONE:
                return Flight(hello, chain, kx, stapled, complete=True)
            elif mtype != _CERTIFICATE_REQUEST:
                raise ProtocolError(f"unexpected handshake message type {mtype} in first flight")
            del buf[: 4 + size]


# --- SSL 2.0 -------------------------------------------------------------------------------


def sslv2_client_hello() -> bytes:
    """An SSL 2.0 CLIENT-HELLO offering every SSL 2.0 cipher kind."""
    specs = b"".join(code.to_bytes(3, "big") for code in SSL2_CIPHERS)
    challenge = os.urandom(16)
    body = (
        b"\x01\x00\x02"
        + len(specs).to_bytes(2, "big")
        + b"\x00\x00"
        + len(challenge).to_bytes(2, "big")
        + specs
        + challenge
    )
    return (0x8000 | len(body)).to_bytes(2, "big") + body


@dataclass(frozen=True)
class Ssl2Hello:
    """An SSL 2.0 SERVER-HELLO: the cipher kinds the server accepts."""

    ciphers: tuple[int, ...]
    certificate: bytes


async def read_sslv2_server_hello(conn: _Reader) -> Ssl2Hello:
    """Read the answer to :func:`sslv2_client_hello` (bounded: an SSL 2.0 record is at most
    32 KiB). A TLS record or alert back means SSL 2.0 is not spoken: :class:`ProtocolError`."""
    head = await conn.readexactly(2)
    if not head[0] & 0x80:
        if head[0] in (_ALERT, _HANDSHAKE):
            raise ProtocolError("answered with a TLS record, not SSL 2.0")
        raise ProtocolError(f"not an SSL 2.0 record: {head.hex()}")
    length = ((head[0] & 0x7F) << 8) | head[1]
    body = await conn.readexactly(length)
    c = _Cursor(body, "SSL 2.0 SERVER-HELLO")
    if c.take(1)[0] != 4:
        raise ProtocolError("SSL 2.0 answer is not a SERVER-HELLO")
    c.take(2)  # session id hit, certificate type
    c.take(2)  # server version
    cert_len = int.from_bytes(c.take(2), "big")
    specs_len = int.from_bytes(c.take(2), "big")
    c.take(2)  # connection id length
    certificate = c.take(cert_len)
    specs = c.take(specs_len)
    if specs_len % 3:
        raise ProtocolError("SSL 2.0 cipher specs not a multiple of 3 bytes")
    codes = tuple(int.from_bytes(specs[i : i + 3], "big") for i in range(0, specs_len, 3))
    return Ssl2Hello(codes, certificate)

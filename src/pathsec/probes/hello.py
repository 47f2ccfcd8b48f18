"""The server's answer to a ClientHello: the ServerHello's version, or the alert.

A version probe only needs to know which version the server picks for an offer, as
testssl.sh and nmap's ssl-enum-ciphers decide it: OpenSSL builds the ClientHello, and the
first handshake message of the reply is read here. Hand-written because Python's ``ssl``
cannot hand back the ServerHello before it has parsed and verified the whole first flight
(certificate, key exchange) and computed its own answer, work a version verdict does not
need; the layout read is fixed by RFC 5246 section 7.4.1.3 and RFC 8446 section 4.1.3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pathsec.probes.interface import ProtocolError

#: Record content types (RFC 8446 section 5.1).
_ALERT, _HANDSHAKE = 21, 22
_SERVER_HELLO = 2
_SUPPORTED_VERSIONS = 43
#: The random of a HelloRetryRequest (RFC 8446 section 4.1.3).
_HRR_RANDOM = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")
#: Wire versions -> pathsec's names.
WIRE_VERSIONS = {
    0x0300: "SSLv3",
    0x0301: "TLSv1.0",
    0x0302: "TLSv1.1",
    0x0303: "TLSv1.2",
    0x0304: "TLSv1.3",
}
#: Alert descriptions (RFC 8446 section 6) a server sends to refuse an offer.
ALERTS = {
    0: "close_notify",
    10: "unexpected_message",
    20: "bad_record_mac",
    22: "record_overflow",
    40: "handshake_failure",
    42: "bad_certificate",
    47: "illegal_parameter",
    49: "access_denied",
    50: "decode_error",
    51: "decrypt_error",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    90: "user_canceled",
    109: "missing_extension",
    110: "unsupported_extension",
    112: "unrecognized_name",
    120: "no_application_protocol",
}
#: Bounds: a ServerHello is at most a few hundred bytes; 64 KiB of records is plenty.
MAX_HELLO_BYTES = 64 * 1024


class _Reader(Protocol):
    async def readexactly(self, n: int, /) -> bytes: ...


class TlsAlert(Exception):
    """The server answered the ClientHello with an alert."""

    def __init__(self, description: int) -> None:
        self.description = description
        name = ALERTS.get(description, "unknown")
        super().__init__(f"TLS alert {name} ({description})")


@dataclass(frozen=True)
class ServerHello:
    """What the ServerHello says: the version chosen (pathsec's name) and the cipher suite."""

    version: str
    cipher_suite: int


def parse_server_hello(body: bytes) -> ServerHello:
    """Parse a ServerHello message body (after the 4-byte handshake header)."""
    if len(body) < 38:
        raise ProtocolError("ServerHello too short")
    wire = int.from_bytes(body[0:2], "big")
    if body[2:34] == _HRR_RANDOM:
        raise ProtocolError("HelloRetryRequest to a ClientHello that offered no TLS 1.3")
    sid_len = body[34]
    pos = 35 + sid_len
    if len(body) < pos + 3:
        raise ProtocolError("ServerHello truncated")
    cipher = int.from_bytes(body[pos : pos + 2], "big")
    pos += 3  # cipher suite, compression method
    if len(body) >= pos + 2:  # extensions (optional before TLS 1.3)
        ext_len = int.from_bytes(body[pos : pos + 2], "big")
        pos += 2
        end = pos + ext_len
        if end > len(body):
            raise ProtocolError("ServerHello extensions truncated")
        while pos + 4 <= end:
            kind = int.from_bytes(body[pos : pos + 2], "big")
            size = int.from_bytes(body[pos + 2 : pos + 4], "big")
            pos += 4
            if pos + size > end:
                raise ProtocolError("ServerHello extension truncated")
            if kind == _SUPPORTED_VERSIONS and size == 2:
                wire = int.from_bytes(body[pos : pos + 2], "big")
            pos += size
    name = WIRE_VERSIONS.get(wire)
    if name is None:
        raise ProtocolError(f"ServerHello with unknown version 0x{wire:04x}")
    return ServerHello(name, cipher)


async def read_server_hello(conn: _Reader, limit: int = MAX_HELLO_BYTES) -> ServerHello:
    """Read records until the ServerHello is complete; raise :class:`TlsAlert` on an alert.

    Bounded in bytes (``limit``); the caller bounds the time. A peer that closes first
    raises :class:`ConnectionResetError`; anything that is not TLS, :class:`ProtocolError`.
    """
    received = 0
    handshake = bytearray()
    while True:
        header = await conn.readexactly(5)
        kind, length = header[0], int.from_bytes(header[3:5], "big")
        if kind not in (_ALERT, _HANDSHAKE) or header[1] != 3 or length > 18432:
            raise ProtocolError(f"not a TLS record in reply to ClientHello: {header.hex()}")
        received += 5 + length
        if received > limit:
            raise ProtocolError(f"no ServerHello within {limit} bytes")
        payload = await conn.readexactly(length)
        if kind == _ALERT:
            if len(payload) < 2:
                raise ProtocolError("truncated TLS alert")
            raise TlsAlert(payload[1])
        handshake += payload
        if len(handshake) >= 4:
            if handshake[0] != _SERVER_HELLO:
                raise ProtocolError(
                    f"first handshake message is type {handshake[0]}, not ServerHello"
                )
            size = int.from_bytes(handshake[1:4], "big")
            if len(handshake) >= 4 + size:
                return parse_server_hello(bytes(handshake[4 : 4 + size]))

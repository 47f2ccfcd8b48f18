"""ClientHellos built by hand, and the server's answer: the ServerHello, or the alert.

A version probe only needs to know which version the server picks for an offer, as
testssl.sh and nmap's ssl-enum-ciphers decide it; a cipher-suite enumeration offers suites
by IANA id, also those the local OpenSSL cannot negotiate (RC4, 3DES, export, NULL), and
reads which one the server picks. Hand-written because Python's ``ssl`` can neither offer a
suite its OpenSSL lacks nor hand back the ServerHello before it has parsed and verified the
whole first flight; the layouts are fixed by RFC 5246 section 7.4.1, RFC 8446 section 4.1
and RFC 6066 (server_name, status_request).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from pathsec.probes.interface import ProtocolError

#: Record content types (RFC 8446 section 5.1).
_ALERT, _HANDSHAKE = 21, 22
_SERVER_HELLO = 2
_SUPPORTED_VERSIONS = 43
_KEY_SHARE = 51
_STATUS_REQUEST = 5
_RENEGOTIATION_INFO = 0xFF01
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
    """What the ServerHello says: the version chosen (pathsec's name) and the cipher suite.

    ``hrr``: a HelloRetryRequest (TLS 1.3), whose ``group`` is the group the server asks a key
    share for; ``extensions``: the extension types the server sent back (``status_request``:
    it will staple an OCSP response; ``renegotiation_info``: secure renegotiation).
    """

    version: str
    cipher_suite: int
    hrr: bool = field(default=False, compare=False)
    group: int | None = field(default=None, compare=False)
    extensions: tuple[int, ...] = field(default=(), compare=False)

    @property
    def stapling(self) -> bool:
        """True when the server acknowledged status_request (an OCSP response follows)."""
        return _STATUS_REQUEST in self.extensions

    @property
    def secure_renegotiation(self) -> bool:
        """True when the server sent renegotiation_info (RFC 5746)."""
        return _RENEGOTIATION_INFO in self.extensions


def parse_server_hello(body: bytes, allow_hrr: bool = False) -> ServerHello:
    """Parse a ServerHello message body (after the 4-byte handshake header).

    A HelloRetryRequest is an answer only to a TLS 1.3 offer (``allow_hrr``).
    """
    if len(body) < 38:
        raise ProtocolError("ServerHello too short")
    wire = int.from_bytes(body[0:2], "big")
    hrr = body[2:34] == _HRR_RANDOM
    if hrr and not allow_hrr:
        raise ProtocolError("HelloRetryRequest to a ClientHello that offered no TLS 1.3")
    sid_len = body[34]
    pos = 35 + sid_len
    if len(body) < pos + 3:
        raise ProtocolError("ServerHello truncated")
    cipher = int.from_bytes(body[pos : pos + 2], "big")
    pos += 3  # cipher suite, compression method
    group: int | None = None
    seen: list[int] = []
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
            seen.append(kind)
            if kind == _SUPPORTED_VERSIONS and size == 2:
                wire = int.from_bytes(body[pos : pos + 2], "big")
            elif kind == _KEY_SHARE and size >= 2:
                group = int.from_bytes(body[pos : pos + 2], "big")
            pos += size
    name = WIRE_VERSIONS.get(wire)
    if name is None:
        raise ProtocolError(f"ServerHello with unknown version 0x{wire:04x}")
    return ServerHello(name, cipher, hrr, group, tuple(seen))


#: Wire version of each of pathsec's names.
WIRE_OF = {name: wire for wire, name in WIRE_VERSIONS.items()}

#: Signature algorithms a TLS 1.2 ClientHello offers: every one, SHA-1 and MD5 included
#: (RFC 5246 section 7.4.1.4.1, RFC 8446 section 4.2.3), so no server is refused for them.
_SIGALGS_12 = (
    0x0804, 0x0805, 0x0806, 0x0809, 0x080A, 0x080B, 0x0807, 0x0808,
    0x0401, 0x0403, 0x0402, 0x0501, 0x0503, 0x0502, 0x0601, 0x0603, 0x0602,
    0x0301, 0x0303, 0x0302, 0x0201, 0x0203, 0x0202, 0x0101,
)  # fmt: skip
_SIGALGS_13 = (
    0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0809, 0x080A, 0x080B,
    0x0807, 0x0808, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201,
)  # fmt: skip


def _u8(data: bytes) -> bytes:
    return len(data).to_bytes(1, "big") + data


def _u16(data: bytes) -> bytes:
    return len(data).to_bytes(2, "big") + data


def _ext(kind: int, data: bytes) -> bytes:
    return kind.to_bytes(2, "big") + _u16(data)


def _codes(codes: Sequence[int]) -> bytes:
    # One C call (an enumeration packs its ~350 suites once: suites.candidates_wire).
    return struct.pack(f">{len(codes)}H", *codes)


@dataclass(frozen=True)
class HelloOffer:
    """What one hand-built ClientHello offers.

    ``version``: the highest version (pathsec's name; TLSv1.3 goes in supported_versions);
    ``suites``: two-byte ids in order of preference; ``groups``: named groups (elliptic
    curves up to TLS 1.2); ``server_name``: SNI (None for an address).
    """

    version: str
    suites: tuple[int, ...]
    groups: tuple[int, ...] = ()
    server_name: str | None = None
    status_request: bool = True


def client_hello(offer: HelloOffer, suites_wire: bytes | None = None) -> bytes:
    """The ClientHello record for ``offer``.

    Up to TLS 1.2: the version in ``client_version``, the renegotiation SCSV after the
    suites, and (not for SSL 3.0, whose servers may not parse them) server_name,
    supported_groups and ec_point_formats, status_request, extended_master_secret, and
    for TLS 1.2 signature_algorithms. TLS 1.3: supported_versions with 1.3 alone and an
    empty key_share, so the server answers with a HelloRetryRequest naming its suite and
    group and computes nothing.

    ``suites_wire``: ``offer.suites`` already packed (two bytes each, big-endian), for an
    enumeration that packs its list once and removes one suite per round. The extensions
    of an offer are built once (:func:`_extensions`); only the randoms are new each time.
    """
    tls13 = offer.version == "TLSv1.3"
    packed = _codes(offer.suites) if suites_wire is None else suites_wire
    if tls13:
        # a random and a legacy session id (middlebox compatibility, RFC 8446 D.4)
        fresh = os.urandom(64)
        head = b"\x03\x03" + fresh[:32] + b"\x20" + fresh[32:]
    else:
        head = WIRE_OF[offer.version].to_bytes(2, "big") + os.urandom(32) + b"\x00"
        packed += b"\x00\xff"  # TLS_EMPTY_RENEGOTIATION_INFO_SCSV
    exts = _extensions(offer.version, offer.groups, offer.server_name, offer.status_request)
    body = b"".join((head, len(packed).to_bytes(2, "big"), packed, b"\x01\x00", exts))
    message = b"\x01" + len(body).to_bytes(3, "big") + body
    record = b"\x16\x03\x00" if offer.version == "SSLv3" else b"\x16\x03\x01"
    return record + len(message).to_bytes(2, "big") + message


@lru_cache(maxsize=1024)
def _extensions(
    version: str, groups: tuple[int, ...], server_name: str | None, status_request: bool
) -> bytes:
    """The extensions block of a ClientHello (with its length; empty for SSL 3.0)."""
    tls13 = version == "TLSv1.3"
    exts = b""
    if version != "SSLv3":
        if server_name:
            name = server_name.encode("idna")
            exts += _ext(0, _u16(b"\x00" + _u16(name)))
        if groups:
            exts += _ext(10, _u16(_codes(groups)))
        if not tls13:
            exts += _ext(11, _u8(b"\x00\x01\x02"))
        if status_request:
            exts += _ext(_STATUS_REQUEST, b"\x01\x00\x00\x00\x00")
        if version in ("TLSv1.2", "TLSv1.3"):
            exts += _ext(13, _u16(_codes(_SIGALGS_13 if tls13 else _SIGALGS_12)))
        if tls13:
            exts += _ext(_SUPPORTED_VERSIONS, _u8(b"\x03\x04"))
            exts += _ext(_KEY_SHARE, _u16(b""))
            exts += _ext(45, _u8(b"\x01"))  # psk_key_exchange_modes: psk_dhe_ke
        else:
            exts += _ext(23, b"")  # extended_master_secret
    return _u16(exts) if exts else b""


async def read_server_hello(
    conn: _Reader, limit: int = MAX_HELLO_BYTES, allow_hrr: bool = False
) -> ServerHello:
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
                return parse_server_hello(bytes(handshake[4 : 4 + size]), allow_hrr)

"""The TLS cipher-suite registry as data: every suite by IANA id, with what it is made of.

``data/cipher_suites.csv`` holds one row per suite of the IANA "TLS Cipher Suites" registry
(tls-parameters-4) plus the 1024-bit export suites servers of the Windows 2003 era sent
outside it (flag ``unregistered``): the IANA name, the OpenSSL name where OpenSSL has or had
one (also for suites OpenSSL 3 no longer builds), key exchange, authentication, encryption,
bits, mode, MAC, and flags (``null anon export rc4 3des des cbc aead fs tls13``). The
columns are derived from the IANA name; ``tests/probes/test_cipher_table.py`` holds the
table to that derivation and to the local ``openssl ciphers -V``.

SSL 2.0's seven cipher kinds (three-byte codes, RFC 6101's predecessor) are listed here too.
"""

from __future__ import annotations

import csv
import io
import struct
from dataclasses import dataclass
from functools import cache
from importlib import resources

TABLE = "data/cipher_suites.csv"

#: Flags a row may carry.
FLAGS = frozenset(
    {"null", "anon", "export", "rc4", "3des", "des", "cbc", "aead", "fs", "tls13", "unregistered"}
)


@dataclass(frozen=True)
class CipherSuite:
    """One cipher suite of the registry."""

    id: int
    iana: str
    openssl: str
    kx: str
    auth: str
    enc: str
    bits: int
    mode: str
    mac: str
    flags: frozenset[str]

    @property
    def hex(self) -> str:
        """The two-byte code as ``0x0005``."""
        return f"0x{self.id:04X}"

    @property
    def name(self) -> str:
        """The OpenSSL name where there is one, else the IANA name."""
        return self.openssl or self.iana

    @property
    def tls13(self) -> bool:
        """True for a TLS 1.3 suite (key exchange and authentication negotiated apart)."""
        return "tls13" in self.flags

    @property
    def forward_secret(self) -> bool:
        """True when the key exchange is ephemeral (ECDHE, DHE, every TLS 1.3 suite)."""
        return "fs" in self.flags

    @property
    def dhe(self) -> bool:
        """True for a finite-field ephemeral Diffie-Hellman key exchange (anonymous too)."""
        return self.kx in ("DHE", "DHE_PSK") or (self.kx == "DH" and self.auth == "anon")

    @property
    def ecdhe(self) -> bool:
        """True for an elliptic-curve ephemeral key exchange (anonymous ECDH too)."""
        return self.kx in ("ECDHE", "ECDHE_PSK") or (self.kx == "ECDH" and self.auth == "anon")


@cache
def registry() -> dict[int, CipherSuite]:
    """Every suite by its two-byte id (read once)."""
    text = resources.files("pathsec.probes").joinpath(TABLE).read_text("utf-8")
    out: dict[int, CipherSuite] = {}
    for row in csv.DictReader(io.StringIO(text)):
        suite = CipherSuite(
            id=int(row["id"], 16),
            iana=row["iana"],
            openssl=row["openssl"],
            kx=row["kx"],
            auth=row["auth"],
            enc=row["enc"],
            bits=int(row["bits"]),
            mode=row["mode"],
            mac=row["mac"],
            flags=frozenset(row["flags"].split()),
        )
        out[suite.id] = suite
    return out


def suite(code: int) -> CipherSuite | None:
    """The suite with id ``code`` (None: not in the registry)."""
    return registry().get(code)


def describe(code: int) -> str:
    """A suite's name for evidence and tables (the code for an unknown one)."""
    s = suite(code)
    return s.name if s is not None else f"0x{code:04X}"


@cache
def candidates(tls13: bool) -> tuple[int, ...]:
    """The suites a ClientHello offers: every TLS 1.3 suite, or every other one.

    Up to TLS 1.2 all non-1.3 suites are offered whatever the version: a server picks only
    one it can use at the version it answers, and what it picks is the fact recorded.
    """
    return tuple(code for code, s in registry().items() if s.tls13 == tls13)


@cache
def candidates_wire(tls13: bool) -> bytes:
    """:func:`candidates` as a ClientHello lists them: two bytes each, big-endian."""
    codes = candidates(tls13)
    return struct.pack(f">{len(codes)}H", *codes)


#: SSL 2.0 cipher kinds (code, name, bits, export).
SSL2_CIPHERS: dict[int, tuple[str, int, bool]] = {
    0x010080: ("SSL_CK_RC4_128_WITH_MD5", 128, False),
    0x020080: ("SSL_CK_RC4_128_EXPORT40_WITH_MD5", 40, True),
    0x030080: ("SSL_CK_RC2_128_CBC_WITH_MD5", 128, False),
    0x040080: ("SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5", 40, True),
    0x050080: ("SSL_CK_IDEA_128_CBC_WITH_MD5", 128, False),
    0x060040: ("SSL_CK_DES_64_CBC_WITH_MD5", 56, False),
    0x0700C0: ("SSL_CK_DES_192_EDE3_CBC_WITH_MD5", 112, False),
}

#: Named groups (RFC 8446 section 4.2.7, RFC 8422, RFC 7919) -> (name, bits of security-size).
GROUPS: dict[int, tuple[str, int]] = {
    1: ("sect163k1", 163),
    2: ("sect163r1", 163),
    3: ("sect163r2", 163),
    4: ("sect193r1", 193),
    5: ("sect193r2", 193),
    6: ("sect233k1", 233),
    7: ("sect233r1", 233),
    8: ("sect239k1", 239),
    9: ("sect283k1", 283),
    10: ("sect283r1", 283),
    11: ("sect409k1", 409),
    12: ("sect409r1", 409),
    13: ("sect571k1", 571),
    14: ("sect571r1", 571),
    15: ("secp160k1", 160),
    16: ("secp160r1", 160),
    17: ("secp160r2", 160),
    18: ("secp192k1", 192),
    19: ("secp192r1", 192),
    20: ("secp224k1", 224),
    21: ("secp224r1", 224),
    22: ("secp256k1", 256),
    23: ("secp256r1", 256),
    24: ("secp384r1", 384),
    25: ("secp521r1", 521),
    26: ("brainpoolP256r1", 256),
    27: ("brainpoolP384r1", 384),
    28: ("brainpoolP512r1", 512),
    29: ("x25519", 256),
    30: ("x448", 448),
    256: ("ffdhe2048", 2048),
    257: ("ffdhe3072", 3072),
    258: ("ffdhe4096", 4096),
    259: ("ffdhe6144", 6144),
    260: ("ffdhe8192", 8192),
}

#: Elliptic curves a ClientHello up to TLS 1.2 offers: strong ones first, every weak one
#: after them (a server that honours the client's order still shows what it can do).
LEGACY_CURVES = (29, 23, 24, 25, 30, 26, 27, 28, 22, 21, 20, 19, 18, 17, 16, 15, *range(1, 15))
#: Groups a TLS 1.3 ClientHello offers (every TLS 1.3 group).
TLS13_GROUPS = (29, 23, 24, 25, 30, 256, 257, 258, 259, 260)


def group_name(code: int) -> str:
    """A named group's name (its number when unknown)."""
    return GROUPS.get(code, (f"group {code}", 0))[0]

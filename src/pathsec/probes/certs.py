"""TLS contexts (one per version pin, created once) and certificate facts via ``cryptography``."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import warnings
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import ClassVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID
from pydantic import BaseModel, ConfigDict

from pathsec.probes.interface import ProtocolError

#: Versions pathsec tries, oldest first, with the stdlib enum member each pins.
VERSIONS: dict[str, ssl.TLSVersion] = {
    "SSLv3": ssl.TLSVersion.SSLv3,
    "TLSv1.0": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}


class LocalTlsUnsupported(Exception):
    """The local OpenSSL cannot offer this TLS version at all."""


#: Every suite the local OpenSSL has, at security level 0 (RSA key exchange, CBC-SHA1, DHE
#: with small groups, 1024-bit keys); anonymous and NULL suites last, so a server that
#: follows the client's order still picks an authenticated, encrypting one.
PERMISSIVE_CIPHERS = "ALL:COMPLEMENTOFALL:+aNULL:+eNULL:@SECLEVEL=0"
#: SSL_OP_LEGACY_SERVER_CONNECT and SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION: OpenSSL 3
#: refuses servers without RFC 5746's renegotiation_info (Windows 2003 before KB 980436).
LEGACY_OPTIONS = 0x4 | 0x40000


@cache
def tls_context(version: str | None = None) -> ssl.SSLContext:
    """The client context for ``version`` (None: every version from TLS 1.0 up), made once.

    Permissive on purpose: whatever the server speaks, the session completes and its facts
    are read; judging what was negotiated is the audit profile's job. Certificates are not
    verified (the audit reports what the server shows, it does not trust it); TLS 1.0 and
    up, every cipher suite the local OpenSSL has at ``@SECLEVEL=0``, legacy servers allowed.
    Every TLS session a probe opens uses it (mail, HTTPS, LDAP, SIP).
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.options |= LEGACY_OPTIONS
    ctx.set_ciphers(PERMISSIVE_CIPHERS)
    if version is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
        return ctx
    pin = VERSIONS[version]
    if version == "SSLv3" and not getattr(ssl, "HAS_SSLv3", False):
        raise LocalTlsUnsupported("the local OpenSSL was built without SSLv3")
    try:
        offer_versions(ctx, pin, pin)
    except (ValueError, ssl.SSLError) as exc:
        raise LocalTlsUnsupported(f"the local OpenSSL cannot offer {version}: {exc}") from None
    return ctx


def offer_versions(ctx: ssl.SSLContext, low: ssl.TLSVersion, high: ssl.TLSVersion) -> None:
    """Let ``ctx`` speak ``low`` up to ``high``, with every cipher suite of the local OpenSSL.

    OpenSSL 3 offers TLS 1.0/1.1 only at ``@SECLEVEL=0`` (and Python warns that the
    versions are deprecated, which is the point of asking for them).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = low
        ctx.maximum_version = high
    ctx.set_ciphers(PERMISSIVE_CIPHERS)


class CertificateFacts(BaseModel):
    """What the leaf certificate says, and what pathsec concludes from it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Equal values share one instance in a run's results (:func:`pathsec.compaction.compact`).
    interned: ClassVar[bool] = True

    subject: str
    issuer: str
    subject_cn: str | None
    sans: tuple[str, ...]
    not_before: str
    not_after: str
    expired: bool
    not_yet_valid: bool
    self_signed: bool
    key_type: str
    key_bits: int | None
    signature_algorithm: str | None
    hostname: str | None
    hostname_match: bool | None
    sha256: str


def _name_matches(pattern: str, host: str) -> bool:
    pattern = pattern.lower().rstrip(".")
    host = host.lower().rstrip(".")
    if pattern.startswith("*."):
        rest = pattern[2:]
        head, _, tail = host.partition(".")
        return bool(head) and tail == rest
    return pattern == host


def hostname_matches(cert: x509.Certificate, host: str) -> bool:
    """RFC 6125-style match of ``host`` (name or IP) against SANs, or the CN without SANs."""
    try:
        san: x509.SubjectAlternativeName | None = cert.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        ).value
    except x509.ExtensionNotFound:
        san = None
    except ValueError:  # a malformed SAN extension matches nothing
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if san is not None:
        if ip is not None:
            return ip in san.get_values_for_type(x509.IPAddress)
        return any(_name_matches(n, host) for n in san.get_values_for_type(x509.DNSName))
    if ip is not None:
        return False
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return any(_name_matches(str(cn.value), host) for cn in cns)


def _key(cert: x509.Certificate) -> tuple[str, int | None]:
    try:
        key = cert.public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return "unknown", None
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}", key.curve.key_size
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    return type(key).__name__, None


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, Exception):  # InvalidSignature and unsupported key types
        return False
    return True


@dataclass(frozen=True)
class _Parsed:
    """What a certificate says regardless of the host it was seen on or the time."""

    cert: x509.Certificate
    subject: str
    issuer: str
    subject_cn: str | None
    sans: tuple[str, ...]
    not_before: dt.datetime
    not_after: dt.datetime
    not_before_text: str
    not_after_text: str
    self_signed: bool
    key_type: str
    key_bits: int | None
    signature_algorithm: str | None
    sha256: str


@lru_cache(maxsize=1024)
def _parse(der: bytes) -> _Parsed:
    """Parse a DER certificate once: a deployment shows one certificate on many endpoints
    (every port of a server, every member of an array); raise :class:`ProtocolError`."""
    try:
        cert = x509.load_der_x509_certificate(der)
        subject = cert.subject.rfc4514_string()
        issuer = cert.issuer.rfc4514_string()
        not_before = cert.not_valid_before_utc
        not_after = cert.not_valid_after_utc
    except (ValueError, TypeError) as exc:
        raise ProtocolError(f"unparsable certificate: {exc}") from None
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        sans = tuple(
            [f"DNS:{n}" for n in san.get_values_for_type(x509.DNSName)]
            + [f"IP:{a}" for a in san.get_values_for_type(x509.IPAddress)]
        )
    except (x509.ExtensionNotFound, ValueError):
        sans = ()
    try:
        sig = cert.signature_hash_algorithm
        sig_name: str | None = sig.name if sig is not None else cert.signature_algorithm_oid._name
    except Exception:  # unsupported algorithm: keep the OID name
        sig_name = cert.signature_algorithm_oid.dotted_string
    key_type, key_bits = _key(cert)
    from cryptography.hazmat.primitives import hashes

    return _Parsed(
        cert=cert,
        subject=subject,
        issuer=issuer,
        subject_cn=str(cns[0].value) if cns else None,
        sans=sans,
        not_before=not_before,
        not_after=not_after,
        not_before_text=not_before.isoformat(),
        not_after_text=not_after.isoformat(),
        self_signed=_self_signed(cert),
        key_type=key_type,
        key_bits=key_bits,
        signature_algorithm=sig_name,
        sha256=cert.fingerprint(hashes.SHA256()).hex(),
    )


def certificate_facts(
    der: bytes, hostname: str | None, now: dt.datetime | None = None
) -> CertificateFacts:
    """Parse a DER certificate; raise :class:`ProtocolError` when it cannot be parsed."""
    try:
        return _facts(der, hostname, now)
    except ProtocolError:
        raise
    except Exception as exc:  # cryptography parses lazily: any oddity left is the peer's
        raise ProtocolError(f"unparsable certificate: {type(exc).__name__}") from None


def _facts(der: bytes, hostname: str | None, now: dt.datetime | None) -> CertificateFacts:
    p = _parse(der)
    now = now or dt.datetime.now(dt.UTC)
    return CertificateFacts(
        subject=p.subject,
        issuer=p.issuer,
        subject_cn=p.subject_cn,
        sans=p.sans,
        not_before=p.not_before_text,
        not_after=p.not_after_text,
        expired=now > p.not_after,
        not_yet_valid=now < p.not_before,
        self_signed=p.self_signed,
        key_type=p.key_type,
        key_bits=p.key_bits,
        signature_algorithm=p.signature_algorithm,
        hostname=hostname,
        hostname_match=hostname_matches(p.cert, hostname) if hostname else None,
        sha256=p.sha256,
    )


class TlsSession(BaseModel):
    """The negotiated session of one handshake and the server's leaf certificate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Equal values share one instance in a run's results (:func:`pathsec.compaction.compact`).
    interned: ClassVar[bool] = True

    version: str | None
    cipher: str | None
    cipher_bits: int | None
    certificate: CertificateFacts | None
    certificate_error: str | None = None


def describe_session(obj: ssl.SSLObject | None, hostname: str | None) -> TlsSession | None:
    """Summarise the TLS state of a connection (None in plain text)."""
    if obj is None:
        return None
    cipher = obj.cipher()
    der = obj.getpeercert(binary_form=True)
    facts: CertificateFacts | None = None
    error: str | None = None
    if der:
        try:
            facts = certificate_facts(der, hostname)
        except ProtocolError as exc:
            error = str(exc)
    return TlsSession(
        version=obj.version(),
        cipher=cipher[0] if cipher else None,
        cipher_bits=cipher[2] if cipher else None,
        certificate=facts,
        certificate_error=error,
    )

"""The certificate chain as the server sent it: order, path to a trusted root, weak links.

The chain comes from the Certificate message of the cipher enumeration's own handshake (TLS
1.2 and before send it in clear). A path is built from the leaf, each issuer found among the
sent certificates or in the trust store (the system's, plus ``--ca-file``) by name and
signature, with ``cryptography``'s ``verify_directly_issued_by``; a path that reaches a
trusted root is checked once more with ``cryptography.x509.verification`` (basic
constraints, validity, key usage) when the leaf names a DNS host. For a server that speaks
only TLS 1.3, whose Certificate message is encrypted, :func:`verify_code_facts` reads the
verdict of a verified handshake instead.
"""

from __future__ import annotations

import datetime as dt
import ssl
import warnings
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import ClassVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pydantic import BaseModel, ConfigDict

from pathsec.probes.certs import _parse
from pathsec.probes.interface import ProtocolError

#: OpenSSL's X509_V_ERR codes a verified handshake may end with, and what they mean.
_VERIFY_CODES = {
    2: "incomplete",  # unable to get issuer certificate
    10: "expired",
    18: "self_signed",
    19: "untrusted_root",
    20: "incomplete",  # unable to get local issuer certificate
    21: "incomplete",  # unable to verify the first certificate
}


class ChainLink(BaseModel):
    """One certificate of the chain as sent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str
    issuer: str
    not_after: str
    expired: bool
    signature_algorithm: str | None
    self_signed: bool


class ChainFacts(BaseModel):
    """What the sent chain shows.

    ``trust``: ``trusted`` (a path to a root of the trust store), ``untrusted_root`` (the
    path ends in a self-signed root the store does not hold), ``incomplete`` (an issuer
    was neither sent nor in the store: a missing intermediate), ``self_signed`` (the leaf
    itself), or ``unknown`` (nothing to judge). ``source``: ``certificate_message`` or
    ``verified_handshake`` (TLS 1.3 only servers).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Equal values share one instance in a run's results (:func:`pathsec.compaction.compact`).
    interned: ClassVar[bool] = True

    source: str = "certificate_message"
    links: tuple[ChainLink, ...] = ()
    in_order: bool = True
    trust: str = "unknown"
    missing_issuer: str | None = None
    aia_issuer_url: str | None = None
    anchor: str | None = None
    weak_signatures: tuple[str, ...] = ()
    expired: tuple[str, ...] = ()
    error: str | None = None


def default_cafile() -> str | None:
    """The system trust store's bundle (OpenSSL's default), if there is one."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile, "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@cache
def trust_store(ca_file: str | None = None) -> tuple[x509.Certificate, ...]:
    """The roots pathsec trusts: the system bundle plus ``ca_file`` (read once each)."""
    out: list[x509.Certificate] = []
    for path in (default_cafile(), ca_file):
        if not path:
            continue
        try:
            with warnings.catch_warnings():  # old roots with odd serial numbers
                warnings.simplefilter("ignore")
                out += x509.load_pem_x509_certificates(Path(path).read_bytes())
        except (OSError, ValueError):
            continue
    return tuple(out)


@cache
def _roots_by_subject(ca_file: str | None) -> dict[x509.Name, tuple[x509.Certificate, ...]]:
    """:func:`trust_store` by subject, in store order (a leaf's issuer finds its candidate
    roots at once instead of comparing names with every root, at every endpoint)."""
    out: dict[x509.Name, list[x509.Certificate]] = {}
    for root in trust_store(ca_file):
        out.setdefault(root.subject, []).append(root)
    return {name: tuple(roots) for name, roots in out.items()}


def _issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    if child.issuer != parent.subject:
        return False
    try:
        child.verify_directly_issued_by(parent)
    except (UnsupportedAlgorithm, ValueError):  # SHA-1 and MD5: checked with the key itself
        return _legacy_signature_ok(child, parent)
    except Exception:  # InvalidSignature, malformed certificates
        return False
    return True


def _legacy_signature_ok(child: x509.Certificate, parent: x509.Certificate) -> bool:
    """Verify a SHA-1/MD5 signed certificate (``verify_directly_issued_by`` refuses them;
    a chain that still uses them must be judged, not dropped)."""
    try:
        key = parent.public_key()
        digest = child.signature_hash_algorithm
        if isinstance(key, rsa.RSAPublicKey) and digest is not None:
            key.verify(child.signature, child.tbs_certificate_bytes, padding.PKCS1v15(), digest)
            return True
        if isinstance(key, ec.EllipticCurvePublicKey) and digest is not None:
            key.verify(child.signature, child.tbs_certificate_bytes, ec.ECDSA(digest))
            return True
    except Exception:  # InvalidSignature, unsupported parameters
        return False
    return False


def _aia_issuer(cert: x509.Certificate) -> str | None:
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except (x509.ExtensionNotFound, ValueError):
        return None
    for desc in aia:
        if desc.access_method == x509.oid.AuthorityInformationAccessOID.CA_ISSUERS:
            value = desc.access_location.value
            return str(value)[:240]
    return None


def analyse_chain(
    ders: Sequence[bytes],
    ca_file: str | None = None,
    weak_hashes: Sequence[str] = ("md5", "sha1"),
    now: dt.datetime | None = None,
) -> ChainFacts:
    """Judge the chain ``ders`` (leaf first, as sent); raise :class:`ProtocolError` when a
    certificate cannot be parsed."""
    if not ders:
        return ChainFacts()
    now = now or dt.datetime.now(dt.UTC)
    try:
        parsed = [_parse(d) for d in ders]
    except ProtocolError:
        raise
    except Exception as exc:
        raise ProtocolError(f"unparsable certificate in chain: {type(exc).__name__}") from None
    certs = [p.cert for p in parsed]
    links = tuple(
        ChainLink(
            subject=p.subject,
            issuer=p.issuer,
            not_after=p.not_after_text,
            expired=now > p.not_after,
            signature_algorithm=p.signature_algorithm,
            self_signed=p.self_signed,
        )
        for p in parsed
    )
    in_order = all(_issued_by(certs[i], certs[i + 1]) for i in range(len(certs) - 1))
    store = trust_store(ca_file)
    roots = _roots_by_subject(ca_file)
    path = [certs[0]]
    trust, anchor, missing, aia = "unknown", None, None, None
    while len(path) <= len(certs) + 1:
        current = path[-1]
        named = roots.get(current.issuer, ())
        root = next((r for r in named if _issued_by(current, r)), None)
        if root is not None:
            trust, anchor = "trusted", root.subject.rfc4514_string()
            break
        if _parse_self_signed(current):
            trust = "self_signed" if len(path) == 1 else "untrusted_root"
            break
        parent = next((c for c in certs if c not in path and _issued_by(current, c)), None)
        if parent is None:
            trust, missing = "incomplete", current.issuer.rfc4514_string()
            aia = _aia_issuer(current)
            break
        path.append(parent)
    on_path = {id(c) for c in path}
    weak = tuple(
        f"{p.subject}: {p.signature_algorithm}"
        for p in parsed
        if id(p.cert) in on_path
        and not p.self_signed
        and (p.signature_algorithm or "").lower() in weak_hashes
    )
    expired = tuple(
        f"{p.subject}: not after {p.not_after_text}"
        for i, p in enumerate(parsed)
        if i > 0 and now > p.not_after
    )
    error = _policy_error(certs[0], certs[1:], store, now) if trust == "trusted" else None
    return ChainFacts(
        links=links,
        in_order=in_order,
        trust=trust,
        missing_issuer=missing,
        aia_issuer_url=aia,
        anchor=anchor,
        weak_signatures=weak,
        expired=expired,
        error=error,
    )


def _parse_self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject and _issued_by(cert, cert)


def _policy_error(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    store: Sequence[x509.Certificate],
    now: dt.datetime,
) -> str | None:
    """What cryptography's path validation says of a chain pathsec found trusted (None: it
    agrees, or the leaf names no DNS host to validate for)."""
    from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = san.get_values_for_type(x509.DNSName)
    except (x509.ExtensionNotFound, ValueError):
        return None
    if not names:
        return None
    name = names[0].lstrip("*.")
    try:
        verifier = (
            PolicyBuilder()
            .store(Store(list(store)))
            .time(now)
            .build_server_verifier(x509.DNSName(name))
        )
        verifier.verify(leaf, list(intermediates))
    except VerificationError as exc:
        return str(exc)[:240]
    except (ValueError, TypeError) as exc:
        return f"{type(exc).__name__}: {exc}"[:240]
    return None


def verify_code_facts(code: int | None, message: str | None) -> ChainFacts:
    """The chain verdict of a verified handshake (TLS 1.3 only servers): None code means it
    verified against the trust store."""
    if code is None:
        return ChainFacts(source="verified_handshake", trust="trusted")
    trust = _VERIFY_CODES.get(code, "unknown")
    if trust == "expired":  # the leaf or another link: the handshake does not say which
        trust = "unknown"
    return ChainFacts(
        source="verified_handshake",
        trust=trust,
        error=f"{code}: {message}" if message else str(code),
    )


@cache
def verify_context(ca_file: str | None = None) -> ssl.SSLContext:
    """A client context that verifies the chain against the trust store (not the name)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    cafile = default_cafile()
    if cafile:
        ctx.load_verify_locations(cafile)
    if ca_file:
        ctx.load_verify_locations(ca_file)
    return ctx

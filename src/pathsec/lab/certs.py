"""Certificates of the emulated servers, made at start like Exchange 2007 Setup makes them.

Exchange 2007 Setup creates one self-signed certificate per server (RSA 2048, five years,
subject CN = the server name, SANs = FQDN and NetBIOS name) and enables it for SMTP, IIS,
POP and IMAP. The lab does the same with ``cryptography``; SHA-256 is used for the
signature because today's OpenSSL refuses SHA-1 certificates at its default level.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pathsec.atomic import make_private_dirs, write_atomic

#: Validity of the certificates Exchange 2007 Setup creates.
VALIDITY = dt.timedelta(days=5 * 365)


@dataclass(frozen=True)
class CertFiles:
    """Where a server's certificate and private key were written (PEM)."""

    cert: Path
    key: Path


def make_certificate(
    fqdn: str, netbios: str, *, expired: bool = False, now: dt.datetime | None = None
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A self-signed RSA 2048 certificate for ``fqdn`` (SANs: FQDN, NetBIOS name).

    With ``expired`` the five-year validity ended a year ago (a misconfiguration to show).
    """
    now = now or dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, fqdn)])
    start = now - dt.timedelta(minutes=5)
    if expired:
        start = now - VALIDITY - dt.timedelta(days=365)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + VALIDITY)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(fqdn), x509.DNSName(netbios)]),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def write_certificate(
    directory: Path, netbios: str, fqdn: str, *, expired: bool = False
) -> CertFiles:
    """Make a certificate for one server and write ``NAME.pem`` and ``NAME.key`` (0600)."""
    cert, key = make_certificate(fqdn, netbios, expired=expired)
    make_private_dirs(directory)
    files = CertFiles(cert=directory / f"{netbios}.pem", key=directory / f"{netbios}.key")
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    write_atomic(files.key, key_pem.decode("ascii"))  # 0600, as every file pathsec writes
    write_atomic(files.cert, cert.public_bytes(serialization.Encoding.PEM).decode("ascii"))
    return files

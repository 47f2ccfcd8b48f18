"""PS-TLS: TLS offered where the path supports it, versions, and the certificate."""

from __future__ import annotations

from collections.abc import Callable

from pathsec.audit.checks.model import Check, Context, Evidence
from pathsec.probes.certs import VERSIONS, TlsSession
from pathsec.probes.interface import StartTlsObservation
from pathsec.probes.tls import TlsObservation


def no_tls(ctx: Context) -> Evidence:
    """PS-TLS-001: a protocol with in-band TLS does not offer it on an encryptable path.

    LDAP, HTTP and SIP have checks of their own (PS-LDAP-003, PS-HTTP-002, PS-SIP-001).
    """
    exp = ctx.target.expectations
    if exp is None or not exp.encryption_supported or not ctx.app_ok() or ctx.implicit_tls:
        return []
    obs = ctx.app()
    if not isinstance(obs, StartTlsObservation) or obs.tls_offered():
        return []
    caps = obs.capabilities_before()
    return [f"capabilities before TLS: {' '.join(caps) or '(none)'}", "STARTTLS/STLS not offered"]


def tls_failed(ctx: Context) -> Evidence:
    """PS-TLS-002: the in-band upgrade failed, or no version was accepted."""
    obs = ctx.app()
    err = obs.tls_failure() if obs is not None else None
    if err:
        return [f"STARTTLS: {err}"]
    tls = ctx.obs(TlsObservation)
    if tls is not None and tls.session is None and ctx.app_ok():
        return [f"{v}: {tls.versions.get(v)} ({tls.version_reasons.get(v, '')})" for v in VERSIONS]
    return []


def old_versions(ctx: Context) -> Evidence:
    """PS-TLS-003: versions below the profile's minimum accepted (SSLv3: PS-TLS-004)."""
    tls = ctx.obs(TlsObservation)
    if tls is None:
        return []
    order = list(VERSIONS)
    floor = order.index(ctx.profile.min_tls_version)
    return [
        f"{v} accepted (minimum {ctx.profile.min_tls_version})"
        for v in tls.accepted
        if v not in ("SSLv2", "SSLv3") and order.index(v) < floor
    ]


def sslv3(ctx: Context) -> Evidence:
    """PS-TLS-004: SSL 3.0 accepted."""
    tls = ctx.obs(TlsObservation)
    return ["SSLv3 accepted"] if tls is not None and "SSLv3" in tls.accepted else []


def no_modern(ctx: Context) -> Evidence:
    """PS-TLS-005: nothing at or above the profile's minimum version."""
    tls = ctx.obs(TlsObservation)
    if tls is None or not tls.accepted:
        return []
    order = list(VERSIONS)
    floor = order.index(ctx.profile.min_tls_version)
    if any(order.index(v) >= floor for v in tls.accepted if v in order):
        return []
    return [f"accepted: {', '.join(tls.accepted)}; none at or above {ctx.profile.min_tls_version}"]


def _cert(ctx: Context, test: Callable[[TlsSession], str | None]) -> Evidence:
    s = ctx.session()
    if s is None or s.certificate is None:
        return []
    msg = test(s)
    return (
        [msg, f"subject: {s.certificate.subject}", f"issuer: {s.certificate.issuer}"] if msg else []
    )


def expired(ctx: Context) -> Evidence:
    """PS-TLS-006: the certificate has expired."""
    return _cert(
        ctx,
        lambda s: (
            f"not after {s.certificate.not_after}"
            if s.certificate and s.certificate.expired
            else None
        ),
    )


def not_yet_valid(ctx: Context) -> Evidence:
    """PS-TLS-007: the certificate is not valid yet."""
    return _cert(
        ctx,
        lambda s: (
            f"not before {s.certificate.not_before}"
            if s.certificate and s.certificate.not_yet_valid
            else None
        ),
    )


def weak_key(ctx: Context) -> Evidence:
    """PS-TLS-008: the key is shorter than the profile's minimum."""

    def test(s: TlsSession) -> str | None:
        c = s.certificate
        if c is None or c.key_bits is None:
            return None
        if c.key_type in ("RSA", "DSA") and c.key_bits < ctx.profile.min_rsa_bits:
            return f"{c.key_type} {c.key_bits} bits (minimum {ctx.profile.min_rsa_bits})"
        if c.key_type.startswith("EC") and c.key_bits < ctx.profile.min_ec_bits:
            return f"{c.key_type} {c.key_bits} bits (minimum {ctx.profile.min_ec_bits})"
        return None

    return _cert(ctx, test)


def weak_signature(ctx: Context) -> Evidence:
    """PS-TLS-009: a CA signed the certificate with a hash the profile calls weak."""

    def test(s: TlsSession) -> str | None:
        c = s.certificate
        alg = (c.signature_algorithm or "").lower() if c else ""
        if c and not c.self_signed and alg in ctx.profile.weak_signature_hashes:
            return f"signature hash {alg}"
        return None

    return _cert(ctx, test)


def self_signed(ctx: Context) -> Evidence:
    """PS-TLS-010: the certificate is self-signed."""
    return _cert(
        ctx, lambda s: "self-signed" if s.certificate and s.certificate.self_signed else None
    )


def name_mismatch(ctx: Context) -> Evidence:
    """PS-TLS-011: the certificate does not name the host."""

    def test(s: TlsSession) -> str | None:
        c = s.certificate
        if c and c.hostname_match is False:
            return f"{c.hostname} not in CN={c.subject_cn} SANs={', '.join(c.sans) or '(none)'}"
        return None

    return _cert(ctx, test)


CHECKS = (
    Check("PS-TLS-001", no_tls),
    Check("PS-TLS-002", tls_failed),
    Check("PS-TLS-003", old_versions),
    Check("PS-TLS-004", sslv3),
    Check("PS-TLS-005", no_modern),
    Check("PS-TLS-006", expired),
    Check("PS-TLS-007", not_yet_valid),
    Check("PS-TLS-008", weak_key),
    Check("PS-TLS-009", weak_signature),
    Check("PS-TLS-010", self_signed),
    Check("PS-TLS-011", name_mismatch),
)

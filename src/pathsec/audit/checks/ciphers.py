"""PS-TLS-012…024: cipher suites, key exchange and the chain, from the ``ciphers`` probe.

Each check reads :class:`~pathsec.probes.ciphers.CipherObservation` (every version's
accepted suites, the DH group sizes and curves, the chain as sent) and says nothing where
the enumeration did not run (``--tls quick``, or TLS not reached).
"""

from __future__ import annotations

from pathsec.audit.checks.model import Check, CheckFn, Context, Evidence
from pathsec.probes.chain import ChainFacts
from pathsec.probes.cipher_results import CipherObservation
from pathsec.probes.tls import TlsObservation

#: Suites listed as evidence at most (the rest counted).
_SHOWN = 8


def _listed(found: tuple[str, ...], what: str) -> Evidence:
    if not found:
        return []
    more = f" (+{len(found) - _SHOWN} more)" if len(found) > _SHOWN else ""
    return [f"{len(found)} {what} suite(s) accepted{more}", *found[:_SHOWN]]


def _flagged(flag: str, what: str) -> CheckFn:
    """A check listing the accepted suites that carry ``flag``."""

    def check(ctx: Context) -> Evidence:
        obs = ctx.obs(CipherObservation)
        return _listed(obs.with_flag(flag), what) if obs is not None else []

    check.__doc__ = f"Accepted {what} suites."
    return check


def des(ctx: Context) -> Evidence:
    """PS-TLS-016: 3DES or single DES (64-bit blocks: SWEET32; DES: 56-bit keys)."""
    obs = ctx.obs(CipherObservation)
    if obs is None:
        return []
    return _listed(tuple(sorted(set(obs.with_flag("3des") + obs.with_flag("des")))), "DES/3DES")


def cbc_only(ctx: Context) -> Evidence:
    """PS-TLS-017: no AEAD suite (AES-GCM, ChaCha20-Poly1305, CCM) at any version."""
    obs = ctx.obs(CipherObservation)
    if obs is None or not obs.suites():
        return []
    if any("aead" in s.flags for _, s in obs.suites()):
        return []
    modes = sorted({s.mode for _, s in obs.suites()})
    return [f"no AEAD suite accepted; modes seen: {', '.join(modes)}", *_versions(ctx)]


def no_forward_secrecy(ctx: Context) -> Evidence:
    """PS-TLS-018: no accepted suite has an ephemeral key exchange."""
    obs = ctx.obs(CipherObservation)
    if obs is None or obs.forward_secrecy != "none":
        return []
    kx = sorted({s.kx for _, s in obs.suites()})
    return [f"no ECDHE/DHE suite accepted; key exchange: {', '.join(kx)}", *_versions(ctx)]


def weak_key_exchange(ctx: Context) -> Evidence:
    """PS-TLS-019: a DH group or an elliptic curve below the profile's minimum."""
    obs = ctx.obs(CipherObservation)
    if obs is None:
        return []
    out = [
        f"DH group of {bits} bits (minimum {ctx.profile.min_dh_bits})"
        for bits in obs.dh_sizes()
        if bits < ctx.profile.min_dh_bits
    ]
    out += [
        f"curve {name} ({bits} bits, minimum {ctx.profile.min_ec_bits})"
        for name, bits in obs.curves()
        if bits and bits < ctx.profile.min_ec_bits
    ]
    exports = sorted(
        {s.rsa_export_bits for v in obs.versions for s in v.suites if s.rsa_export_bits}
    )
    out += [f"temporary RSA key of {bits} bits (export suites)" for bits in exports]
    return out


def sslv2(ctx: Context) -> Evidence:
    """PS-TLS-020: SSL 2.0 accepted."""
    tls = ctx.obs(TlsObservation)
    if tls is None or tls.versions.get("SSLv2") != "accepted":
        return []
    return ["SSLv2 accepted", tls.version_reasons.get("SSLv2", "")]


def _chain(ctx: Context) -> ChainFacts | None:
    obs = ctx.obs(CipherObservation)
    return obs.chain if obs is not None else None


def _links(ctx: Context) -> list[str]:
    chain = _chain(ctx)
    if chain is None:
        return []
    return [
        f"sent #{i}: {link.subject} (issuer {link.issuer})" for i, link in enumerate(chain.links)
    ][:6]


def chain_incomplete(ctx: Context) -> Evidence:
    """PS-TLS-021: an issuer was neither sent nor trusted: a missing intermediate."""
    chain = _chain(ctx)
    if chain is None or chain.trust != "incomplete":
        return []
    out = [f"issuer not sent and not a trusted root: {chain.missing_issuer or '(unknown)'}"]
    if chain.aia_issuer_url:
        out.append(f"the certificate names its issuer at {chain.aia_issuer_url}")
    if chain.error:
        out.append(f"verification: {chain.error}")
    return out + _links(ctx)


def chain_untrusted(ctx: Context) -> Evidence:
    """PS-TLS-022: the chain ends in a root the trust store does not hold (a self-signed
    leaf is PS-TLS-010)."""
    chain = _chain(ctx)
    if chain is None or chain.trust != "untrusted_root":
        return []
    root = chain.links[-1].subject if chain.links else "(not sent)"
    return [f"chain ends in an untrusted root: {root}", *_links(ctx)]


def chain_weak_links(ctx: Context) -> Evidence:
    """PS-TLS-023: a certificate of the chain beyond the leaf expired or signed with a
    hash the profile calls weak (the leaf itself: PS-TLS-006, PS-TLS-009)."""
    chain = _chain(ctx)
    if chain is None:
        return []
    weak = ctx.profile.weak_signature_hashes
    out = [
        f"{link.subject}: signed with {link.signature_algorithm}"
        for link in chain.links[1:]
        if not link.self_signed and (link.signature_algorithm or "").lower() in weak
    ]
    out += [f"{link.subject}: expired {link.not_after}" for link in chain.links[1:] if link.expired]
    return out


def chain_order(ctx: Context) -> Evidence:
    """PS-TLS-024: the chain is not sent leaf first, each certificate followed by its issuer."""
    chain = _chain(ctx)
    if chain is None or chain.in_order or len(chain.links) < 2:
        return []
    return ["certificates not sent in issuing order", *_links(ctx)]


def _versions(ctx: Context) -> list[str]:
    obs = ctx.obs(CipherObservation)
    if obs is None:
        return []
    return [f"{v.version}: {', '.join(s.name for s in v.suites[:6])}" for v in obs.versions][:5]


CHECKS = (
    Check("PS-TLS-012", _flagged("null", "NULL-encryption")),
    Check("PS-TLS-013", _flagged("anon", "anonymous (unauthenticated)")),
    Check("PS-TLS-014", _flagged("export", "export-grade")),
    Check("PS-TLS-015", _flagged("rc4", "RC4")),
    Check("PS-TLS-016", des),
    Check("PS-TLS-017", cbc_only),
    Check("PS-TLS-018", no_forward_secrecy),
    Check("PS-TLS-019", weak_key_exchange),
    Check("PS-TLS-020", sslv2),
    Check("PS-TLS-021", chain_incomplete),
    Check("PS-TLS-022", chain_untrusted),
    Check("PS-TLS-023", chain_weak_links),
    Check("PS-TLS-024", chain_order),
)

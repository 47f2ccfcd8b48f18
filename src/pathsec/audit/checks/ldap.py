"""PS-LDAP: StartTLS, SASL before TLS, what the anonymous rootDSE tells, Kerberos SASL."""

from __future__ import annotations

from pathsec.audit.checks.model import Check, Context, Evidence, only
from pathsec.probes.interface import ProbeKind
from pathsec.probes.ldap import STARTTLS_OID, LdapObservation

SASL_PLAINTEXT = ("PLAIN", "LOGIN")


def starttls_failed(ctx: Context) -> Evidence:
    """PS-LDAP-001: StartTLS advertised but it failed."""
    lo = ctx.obs(LdapObservation)
    if lo is None or not lo.starttls_advertised or lo.starttls_performed or ctx.implicit_tls:
        return []
    return [f"StartTLS advertised but failed: {lo.starttls_error}"]


def plain_sasl(ctx: Context) -> Evidence:
    """PS-LDAP-002: PLAIN or LOGIN offered before TLS."""
    lo = ctx.obs(LdapObservation)
    if lo is None or lo.root_dse is None or ctx.implicit_tls:
        return []
    bad = [m for m in lo.root_dse.sasl_mechanisms if m.upper() in SASL_PLAINTEXT]
    return [f"SASL before TLS: {' '.join(lo.root_dse.sasl_mechanisms)}"] if bad else []


def no_starttls(ctx: Context) -> Evidence:
    """PS-LDAP-003: no StartTLS on a plain LDAP port."""
    lo = ctx.obs(LdapObservation)
    if lo is None or lo.root_dse is None or ctx.implicit_tls or lo.starttls_performed:
        return []
    return [
        f"StartTLS ({STARTTLS_OID}) "
        + ("advertised" if lo.starttls_advertised else "not advertised")
        + f", not performed: {lo.starttls_error or 'no TLS'}"
    ]


def identified(ctx: Context) -> Evidence:
    """PS-LDAP-004: the rootDSE says Active Directory (or AD LDS)."""
    lo = ctx.obs(LdapObservation)
    if lo is None or lo.root_dse is None or not lo.active_directory:
        return []
    r = lo.root_dse
    return [
        f"dnsHostName: {r.dns_host_name}",
        f"functionality domain/forest/DC: {r.domain_functionality}/{r.forest_functionality}/"
        f"{r.dc_functionality}",
        f"capabilities: {' '.join(c.rsplit('.', 1)[-1] for c in r.capabilities)}",
    ]


def no_kerberos(ctx: Context) -> Evidence:
    """PS-LDAP-005: the path defaults to Kerberos but no GSSAPI or GSS-SPNEGO is offered."""
    lo, exp = ctx.obs(LdapObservation), ctx.auth_rows()
    if lo is None or lo.root_dse is None or exp is None or "kerberos" not in exp.default_auth:
        return []
    mechs = {m.upper() for m in lo.root_dse.sasl_mechanisms} | {
        m.upper() for m in lo.sasl_after_tls or ()
    }
    if mechs & {"GSSAPI", "GSS-SPNEGO"}:
        return []
    return [f"SASL mechanisms: {' '.join(sorted(mechs)) or '(none)'}; no GSSAPI or GSS-SPNEGO"]


_LDAP = only(ProbeKind.ldap)
CHECKS = (
    Check("PS-LDAP-001", starttls_failed, _LDAP),
    Check("PS-LDAP-002", plain_sasl, _LDAP),
    Check("PS-LDAP-003", no_starttls, _LDAP),
    Check("PS-LDAP-004", identified, _LDAP),
    Check("PS-LDAP-005", no_kerberos, _LDAP),
)

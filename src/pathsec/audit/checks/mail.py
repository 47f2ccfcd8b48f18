"""PS-SMTP, PS-POP3, PS-IMAP: logins before TLS and against the reference; Exchange markers.

The three login checks are the same for every protocol whose observation lists its logins
(:class:`~pathsec.probes.interface.StartTlsObservation`); each protocol has its own ids.
"""

from __future__ import annotations

from pathsec.audit.checks.model import Check, Context, Evidence, only
from pathsec.probes.interface import ProbeKind, StartTlsObservation
from pathsec.probes.smtp import SmtpObservation

#: SASL / login mechanism -> catalog authentication method.
MECH_AUTH: dict[str, str] = {
    "PLAIN": "basic",
    "LOGIN": "basic",
    "USER": "basic",
    "NTLM": "ntlm",
    "GSSAPI": "kerberos",
    "GSS-SPNEGO": "negotiate",
    "KERBEROS_V4": "kerberos",
    "CRAM-MD5": "digest",
    "DIGEST-MD5": "digest",
    "EXTERNAL": "certificate",
    "ANONYMOUS": "anonymous",
}
PLAINTEXT_MECHS = ("PLAIN", "LOGIN", "USER")


def _offered(ctx: Context, before: bool) -> tuple[str, ...]:
    obs = ctx.app()
    if not isinstance(obs, StartTlsObservation):
        return ()
    return obs.auth_before_tls() if before else obs.auth_after_tls()


def _auth_lines(ctx: Context) -> list[str]:
    obs = ctx.app()
    out = []
    for line in obs.transcript if obs is not None else ():
        up = line.upper()
        if "AUTH" in up or "CAPABILITY" in up or "USER" in up or "SASL" in up:
            out.append(line)
    return out[:6]


def plaintext_before_tls(ctx: Context) -> Evidence:
    """PS-<area>-001: a plain-text login (PLAIN, LOGIN, USER) offered before TLS."""
    if not ctx.app_ok() or ctx.implicit_tls:
        return []
    offered = _offered(ctx, before=True)
    if not any(m in PLAINTEXT_MECHS for m in offered):
        return []
    return [f"offered before TLS: {' '.join(offered)}", *_auth_lines(ctx)]


def outside_supported(ctx: Context) -> Evidence:
    """PS-<area>-002: a login outside the path's supported authentication."""
    exp = ctx.auth_rows()
    if exp is None or not ctx.app_ok():
        return []
    offered = dict.fromkeys([*_offered(ctx, True), *_offered(ctx, False)])
    bad = []
    for mech in offered:
        auth = MECH_AUTH.get(mech)
        if auth is None or auth not in exp.supported_auth:
            bad.append(f"{mech} ({auth or 'unknown method'})")
    if not bad:
        return []
    return [
        f"offered outside the supported set: {', '.join(bad)}",
        f"supported by the reference: {', '.join(exp.supported_auth)}",
    ]


def default_missing(ctx: Context) -> Evidence:
    """PS-<area>-003: none of the path's default authentication methods offered."""
    exp = ctx.auth_rows()
    if exp is None or not ctx.app_ok():
        return []
    offered = {MECH_AUTH.get(m) for m in [*_offered(ctx, True), *_offered(ctx, False)]}
    if any(a in offered for a in exp.default_auth):
        return []
    offered_all = ", ".join(dict.fromkeys([*_offered(ctx, True), *_offered(ctx, False)]))
    return [
        f"none of the default methods offered: {', '.join(exp.default_auth)}",
        f"offered: {offered_all or '(none)'}",
    ]


def exchange_markers(ctx: Context) -> Evidence:
    """PS-SMTP-004: EHLO keywords that identify Microsoft Exchange."""
    smtp = ctx.obs(SmtpObservation)
    if smtp is None or not smtp.exchange_markers:
        return []
    return [f"Exchange EHLO keywords: {', '.join(smtp.exchange_markers)}", f"banner: {smtp.banner}"]


def login_checks(kind: ProbeKind, area: str) -> tuple[Check, ...]:
    """PS-<area>-001/002/003 for the endpoints of ``kind``."""
    return (
        Check(f"PS-{area}-001", plaintext_before_tls, only(kind)),
        Check(f"PS-{area}-002", outside_supported, only(kind)),
        Check(f"PS-{area}-003", default_missing, only(kind)),
    )


CHECKS = (
    *login_checks(ProbeKind.smtp, "SMTP"),
    Check("PS-SMTP-004", exchange_markers, only(ProbeKind.smtp)),
    *login_checks(ProbeKind.pop3, "POP3"),
    *login_checks(ProbeKind.imap, "IMAP"),
)

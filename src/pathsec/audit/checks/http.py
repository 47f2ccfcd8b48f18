"""PS-HTTP: web virtual directories — authentication over plain HTTP, redirects, versions."""

from __future__ import annotations

from pathsec.audit.checks.model import Check, Context, Evidence, only
from pathsec.probes.http import VERSION_HEADERS, HttpObservation
from pathsec.probes.interface import AppProtocol, ProbeKind, Status

#: HTTP authentication scheme -> catalog authentication methods it can carry.
SCHEME_AUTH: dict[str, tuple[str, ...]] = {
    "Basic": ("basic",),
    "Digest": ("digest",),
    "NTLM": ("ntlm",),
    "Negotiate": ("negotiate", "kerberos", "ntlm"),
    "forms": ("forms",),
}


def basic_over_plain_http(ctx: Context) -> Evidence:
    """PS-HTTP-001: Basic offered on a plain-HTTP directory."""
    h = ctx.obs(HttpObservation)
    if h is None or ctx.target.protocol is not AppProtocol.http:
        return []
    return [
        f"{r.path}: {r.status} WWW-Authenticate: Basic realm={r.basic_realm!r} over plain HTTP"
        for r in h.responses
        if "Basic" in r.auth_schemes
    ]


def no_https_redirect(ctx: Context) -> Evidence:
    """PS-HTTP-002: plain HTTP on a path encrypted by default does not redirect to HTTPS."""
    h, exp = ctx.obs(HttpObservation), ctx.target.expectations
    if h is None or exp is None or ctx.target.protocol is not AppProtocol.http:
        return []
    if exp.encryption_by_default is not True:
        return []
    return [
        f"{r.path}: {r.status}" + (f" Location: {r.location}" if r.location else "")
        for r in h.responses
        if not r.redirect_to_https
    ]


def version_headers(ctx: Context) -> Evidence:
    """PS-HTTP-003: a version header (:data:`VERSION_HEADERS`) carries a version number."""
    h = ctx.obs(HttpObservation)
    if h is None:
        return []
    seen: dict[str, str] = {}
    for r in h.responses:
        for k, v in r.headers.items():
            if k in VERSION_HEADERS and any(ch.isdigit() for ch in v):
                seen.setdefault(k, v)
    return [f"{k}: {v}" for k, v in seen.items()]


def _schemes(h: HttpObservation) -> tuple[str, ...]:
    out = list(h.auth_schemes)
    if any(r.forms_logon for r in h.responses):
        out.append("forms")
    return tuple(dict.fromkeys(out))


def outside_supported(ctx: Context) -> Evidence:
    """PS-HTTP-004: a scheme outside the path's supported authentication."""
    exp, h = ctx.auth_rows(), ctx.obs(HttpObservation)
    if exp is None or h is None or h.status is not Status.ok:
        return []
    bad = [
        s
        for s in _schemes(h)
        if not any(a in exp.supported_auth for a in SCHEME_AUTH.get(s, (s.lower(),)))
    ]
    if not bad:
        return []
    return [
        f"offered outside the supported set: {', '.join(bad)}",
        f"supported by the reference: {', '.join(exp.supported_auth)}",
    ]


def default_missing(ctx: Context) -> Evidence:
    """PS-HTTP-005: none of the path's default authentication methods offered."""
    exp, h = ctx.auth_rows(), ctx.obs(HttpObservation)
    if exp is None or h is None or h.status is not Status.ok or not exp.default_auth:
        return []
    if ctx.target.protocol is AppProtocol.http and any(r.redirect_to_https for r in h.responses):
        return []  # the methods are offered on the HTTPS side
    if "anonymous" in exp.default_auth or "certificate" in exp.default_auth:
        return []
    offered = {a for s in _schemes(h) for a in SCHEME_AUTH.get(s, ())}
    if offered & set(exp.default_auth):
        return []
    return [
        f"none of the default methods offered: {', '.join(exp.default_auth)}",
        f"offered: {', '.join(_schemes(h)) or '(none)'}",
    ]


def ntlm_disclosure(ctx: Context) -> Evidence:
    """PS-HTTP-006: an NTLM challenge names hosts, domains or the OS to an untrusted zone."""
    h = ctx.obs(HttpObservation)
    if h is None or ctx.target.trusted_source:
        return []
    out = []
    for n in h.ntlm:
        c = n.challenge
        if c is not None and c.discloses:
            out.append(
                f"{n.path} via {n.scheme}: domain {c.netbios_domain or c.dns_domain}, "
                f"computer {c.dns_computer or c.netbios_computer}, OS {c.os_version}"
            )
    return out


def vdir_missing(ctx: Context) -> Evidence:
    """PS-HTTP-007: a virtual directory of the path answers 404."""
    h = ctx.obs(HttpObservation)
    if h is None or ctx.target.path_id is None:
        return []
    exp = ctx.target.expectations
    if exp is not None and exp.assumed and ctx.auth_rows() is None:
        return []  # a bare target that is not IIS/Exchange: its paths are not Exchange's
    return [f"{r.path}: {r.status}" for r in h.responses if r.status == 404]


_HTTP = only(ProbeKind.http)
#: HSTS max-age below this (180 days) protects too briefly (RFC 6797 section 11.2 advice).
HSTS_MIN_AGE = 180 * 86400


def hsts_missing(ctx: Context) -> Evidence:
    """PS-HTTP-008: HTTPS answers without Strict-Transport-Security, or with a short max-age."""
    h = ctx.obs(HttpObservation)
    if h is None or ctx.target.protocol is not AppProtocol.https or not h.responses:
        return []
    ages = [(r.path, r.hsts_max_age) for r in h.responses if r.hsts is not None]
    if not ages:
        paths = ", ".join(f"{r.path} {r.status}" for r in h.responses[:5])
        return [f"no Strict-Transport-Security header on any response ({paths})"]
    short = [(p, a) for p, a in ages if a is None or a < HSTS_MIN_AGE]
    if len(short) < len(ages):
        return []
    return [f"{p}: Strict-Transport-Security max-age={a} (below {HSTS_MIN_AGE})" for p, a in short]


CHECKS = (
    Check("PS-HTTP-001", basic_over_plain_http, _HTTP),
    Check("PS-HTTP-002", no_https_redirect, _HTTP),
    Check("PS-HTTP-003", version_headers, _HTTP),
    Check("PS-HTTP-004", outside_supported, _HTTP),
    Check("PS-HTTP-005", default_missing, _HTTP),
    Check("PS-HTTP-006", ntlm_disclosure, _HTTP),
    Check("PS-HTTP-007", vdir_missing, _HTTP),
    Check("PS-HTTP-008", hsts_missing, _HTTP),
)

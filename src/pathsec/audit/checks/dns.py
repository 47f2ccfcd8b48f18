"""PS-DNS: the AD domain's zone and the SRV records clients locate domain controllers by."""

from __future__ import annotations

from pathsec.audit.checks.model import Check, Context, Evidence, only
from pathsec.probes.dns import DnsObservation
from pathsec.probes.interface import ProbeKind, Status


def no_soa(ctx: Context) -> Evidence:
    """PS-DNS-001: no authoritative SOA for the AD domain."""
    d, dom = ctx.obs(DnsObservation), ctx.target.domain
    if d is None or dom is None or d.status is not Status.ok:
        return []
    a = d.answer(dom, "SOA")
    if a is not None and a.rcode == "NOERROR" and a.answers and a.authoritative:
        return []
    got = f"{a.rcode}, {len(a.answers)} answers, AA={a.authoritative}" if a else "no answer"
    return [f"SOA {dom}: {got}"]


def srv_missing(ctx: Context) -> Evidence:
    """PS-DNS-002: the ``_ldap._tcp`` or ``_kerberos._tcp`` SRV records are missing."""
    d, dom = ctx.obs(DnsObservation), ctx.target.domain
    if d is None or dom is None or d.status is not Status.ok:
        return []
    out = []
    for name in (f"_ldap._tcp.{dom}", f"_kerberos._tcp.{dom}"):
        a = d.answer(name, "SRV")
        if a is None or a.rcode != "NOERROR" or not a.answers:
            out.append(f"SRV {name}: {a.rcode if a else 'no answer'}")
    return out


_DNS = only(ProbeKind.dns)
CHECKS = (Check("PS-DNS-001", no_soa, _DNS), Check("PS-DNS-002", srv_missing, _DNS))

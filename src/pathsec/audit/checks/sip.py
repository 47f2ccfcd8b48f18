"""PS-SIP: Unified Messaging signalling over plain TCP, and the product it names."""

from __future__ import annotations

from pathsec.audit.checks.model import Check, Context, Evidence, only
from pathsec.probes.interface import AppProtocol, ProbeKind, Status
from pathsec.probes.sip import SipObservation


def plain_tcp(ctx: Context) -> Evidence:
    """PS-SIP-001: OPTIONS answered over plain TCP where the path supports TLS."""
    s, exp = ctx.obs(SipObservation), ctx.target.expectations
    if s is None or s.status is not Status.ok or ctx.target.protocol is not AppProtocol.sip:
        return []
    if exp is not None and not exp.encryption_supported:
        return []
    return [f"OPTIONS over plain TCP answered: {s.status_line}"]


def identified(ctx: Context) -> Evidence:
    """PS-SIP-002: Server or User-Agent names the product."""
    s = ctx.obs(SipObservation)
    if s is None or not (s.server or s.user_agent):
        return []
    return [
        x
        for x in (
            f"Server: {s.server}" if s.server else "",
            f"User-Agent: {s.user_agent}" if s.user_agent else "",
        )
        if x
    ]


_SIP = only(ProbeKind.sip)
CHECKS = (Check("PS-SIP-001", plain_tcp, _SIP), Check("PS-SIP-002", identified, _SIP))

"""PS-RPC: the endpoint mapper, and the dynamic ports it hands out (KB 154596)."""

from __future__ import annotations

from pathsec.audit.checks.model import Check, Context, Evidence, only
from pathsec.probes.interface import ProbeKind, Status
from pathsec.probes.rpc import RpcObservation


def disclosure(ctx: Context) -> Evidence:
    """PS-RPC-001: the mapper lists its endpoints without credentials."""
    r = ctx.obs(RpcObservation)
    if r is None or r.status is not Status.ok or not r.entries:
        return []
    return [
        f"{r.entries} endpoints listed without credentials",
        f"TCP ports: {', '.join(map(str, r.tcp_ports[:30]))}",
    ]


def outside_range(ctx: Context) -> Evidence:
    """PS-RPC-002: dynamic ports outside the host's configured RPC range."""
    r, rng = ctx.obs(RpcObservation), ctx.target.rpc_range
    if r is None or rng is None or r.status is not Status.ok:
        return []
    outside = [p for p in r.tcp_ports if not rng[0] <= p <= rng[1]]
    if not outside:
        return []
    return [
        f"dynamic ports outside {rng[0]}-{rng[1]}: {', '.join(map(str, outside[:30]))}",
        "KB 154596: HKLM\\Software\\Microsoft\\Rpc\\Internet Ports",
    ]


_RPC = only(ProbeKind.rpc)
CHECKS = (Check("PS-RPC-001", disclosure, _RPC), Check("PS-RPC-002", outside_range, _RPC))

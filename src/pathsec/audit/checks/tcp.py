"""PS-TCP: the port answers (or not) and the protocol dialogue works."""

from __future__ import annotations

from pathsec.audit.checks.model import Check, Context, Evidence
from pathsec.probes.interface import Status
from pathsec.probes.tcp import TcpObservation
from pathsec.probes.udp import UdpObservation


def closed(ctx: Context) -> Evidence:
    """PS-TCP-001: the connection was refused (UDP: ICMP port unreachable)."""
    if ctx.udp:
        udp, app = ctx.obs(UdpObservation), ctx.app()
        if (udp is not None and udp.state == "closed") or (
            app is not None and app.status is Status.refused
        ):
            return ["UDP: ICMP port unreachable"]
        return []
    tcp = ctx.obs(TcpObservation)
    return [f"connect: {tcp.reason}"] if tcp and tcp.state == "closed" else []


def filtered(ctx: Context) -> Evidence:
    """PS-TCP-002: no answer to the connect within the timeout."""
    tcp = ctx.obs(TcpObservation)
    return [f"connect: {tcp.reason}"] if tcp and tcp.state == "filtered" else []


def dialogue_failed(ctx: Context) -> Evidence:
    """PS-TCP-003: the application probe's dialogue ended in an error."""
    obs = ctx.app()
    if obs is None or obs.status is Status.ok:
        return []
    if ctx.udp and obs.status is Status.refused:
        return []  # a closed UDP port: PS-TCP-001
    return [f"{obs.status}: {obs.reason}", *obs.transcript[-6:]]


def not_attempted(ctx: Context) -> Evidence:
    """PS-TCP-004: the name did not resolve or the connect could not start."""
    tcp = ctx.obs(TcpObservation)
    if tcp is None or tcp.state != "error":
        return []
    return [f"{ctx.target.host}: {tcp.reason}", "no connection was attempted"]


CHECKS = (
    Check("PS-TCP-001", closed),
    Check("PS-TCP-002", filtered),
    Check("PS-TCP-003", dialogue_failed),
    Check("PS-TCP-004", not_attempted),
)

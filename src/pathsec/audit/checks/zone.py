"""PS-ZONE: from one zone, the ports the plan keeps closed to it are closed."""

from __future__ import annotations

from pathsec.audit.checks.model import Check, Context, Evidence
from pathsec.probes.tcp import TcpObservation


def open_to_zone(ctx: Context) -> Evidence:
    """PS-ZONE-001: a port the plan opens only to other zones accepts the connection."""
    t = ctx.target
    tcp = ctx.obs(TcpObservation)
    if tcp is None or tcp.state != "open":
        return []
    return [
        f"{t.host}:{t.port}/tcp accepts connections from zone {t.from_zone}",
        "the plan opens this port only to other zones",
    ]


#: Grades only targets the plan keeps closed (``expect: closed``); they get no other check.
CHECKS = (Check("PS-ZONE-001", open_to_zone, when="closed"),)

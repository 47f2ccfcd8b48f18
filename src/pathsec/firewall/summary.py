"""The summary of a firewall run: per enforcement point, flows in, rules out, flows refused.

As a table for people (:func:`summary_table`, with the refusals listed under it) and as
JSON for machines (:func:`summary_json`); both from :class:`Rendering`.
"""

from __future__ import annotations

from typing import Any

from pathsec.firewall.interface import Rendering
from pathsec.quoting import json_text


def summary_data(rendering: Rendering, target: str) -> dict[str, Any]:
    """The summary as JSON-ready data."""
    points = [
        {
            "kind": p.kind,
            "name": p.name,
            "format": p.format,
            "flows": p.flows,
            "per_flow_rules": p.flow_rules,
            "rules": p.rules,
            "refused": [{"flow": r.flow, "reason": r.reason} for r in p.refused],
        }
        for p in rendering.points
    ]
    return {
        "target": target,
        "points": points,
        "totals": {
            "flows": sum(p.flows for p in rendering.points),
            "per_flow_rules": sum(p.flow_rules for p in rendering.points),
            "rules": sum(p.rules for p in rendering.points),
            "refused": sum(len(p.refused) for p in rendering.points),
        },
        "skipped_hosts": list(rendering.skipped),
        "files": [f.name for f in rendering.files],
    }


def summary_json(rendering: Rendering, target: str) -> str:
    """The summary as JSON text (C1, line-separator and bidi controls escaped)."""
    return json_text(summary_data(rendering, target)) + "\n"


def summary_rows(rendering: Rendering) -> list[list[str]]:
    """Table rows: enforced at, format, flows, per-flow rules -> rules, refused."""
    rows = []
    for p in rendering.points:
        where = f"{'firewall' if p.kind == 'network' else 'host'} {p.name}"
        rows.append(
            [where, p.format, str(p.flows), f"{p.flow_rules} -> {p.rules}", str(len(p.refused))]
        )
    return rows


SUMMARY_HEADERS = ("enforced at", "format", "flows", "per-flow rules -> rules", "refused")


def refusal_lines(rendering: Rendering) -> list[str]:
    """One line per refused flow: where, flow, reason."""
    return [f"{p.name}: {r.flow}: {r.reason}" for p in rendering.points for r in p.refused]

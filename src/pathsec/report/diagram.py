"""Layout of the data-path diagram: boxes and edges with coordinates, drawn by the template.

With a plan, servers and client populations are boxes stacked in one column per zone and
each flow is one edge from its source box to its destination box. Without a plan, hosts
are boxes listing their endpoints, each endpoint an edge from the vantage point.
"""

from __future__ import annotations

from dataclasses import dataclass

from pathsec.plan.models import Plan
from pathsec.report.checks import Check, CheckStatus

COL_W = 190
COL_GAP = 110
BOX_H = 46
BOX_GAP = 18
TOP = 56
LEFT = 20
ROW_H = 18
_DRAW_ORDER = (
    CheckStatus.not_observable,
    CheckStatus.passed,
    CheckStatus.closed,
    CheckStatus.finding,
)


@dataclass(frozen=True)
class Box:
    """A host (or the vantage point) at x, y with width w and height h."""

    name: str
    kind: str
    roles: str
    x: float
    y: float
    w: float
    h: float
    #: Endpoint rows (text, anchor, status) of a host box drawn without a plan.
    rows: tuple[tuple[str, str, CheckStatus], ...] = ()


@dataclass(frozen=True)
class Column:
    """A zone column with its title."""

    name: str
    kind: str
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Edge:
    """One check drawn as a cubic curve; ``mx, my`` is its midpoint (the click target)."""

    anchor: str
    label: str
    status: CheckStatus
    d: str
    mx: float
    my: float


@dataclass(frozen=True)
class Diagram:
    """Everything the template needs to draw the SVG."""

    width: float
    height: float
    columns: tuple[Column, ...]
    boxes: tuple[Box, ...]
    edges: tuple[Edge, ...]


def _curve(x1: float, y1: float, x2: float, y2: float, bend: float) -> tuple[str, float, float]:
    if abs(x2 - x1) < 1:  # same column: bulge out to the right
        c1x, c1y, c2x, c2y = x1 + bend, y1, x2 + bend, y2
    else:
        dx = (x2 - x1) / 2
        c1x, c1y, c2x, c2y = x1 + dx, y1 + bend / 4, x2 - dx, y2 + bend / 4
    mx = (x1 + 3 * c1x + 3 * c2x + x2) / 8
    my = (y1 + 3 * c1y + 3 * c2y + y2) / 8
    d = f"M{x1:.1f},{y1:.1f} C{c1x:.1f},{c1y:.1f} {c2x:.1f},{c2y:.1f} {x2:.1f},{y2:.1f}"
    return d, round(mx, 1), round(my, 1)


def plan_diagram(plan: Plan, checks: list[Check]) -> Diagram:
    """Zones as columns, hosts as boxes, one edge per flow check."""
    zone_names = [z.name for z in plan.zones]
    for h in plan.hosts:
        if h.zone not in zone_names:
            zone_names.append(h.zone)
    kinds = {z.name: z.kind for z in plan.zones}
    by_zone = {z: [h for h in plan.hosts if h.zone == z] for z in zone_names}
    zone_names = [z for z in zone_names if by_zone[z]]
    columns: list[Column] = []
    boxes: dict[str, Box] = {}
    tallest = max((len(v) for v in by_zone.values()), default=1)
    col_h = 34 + tallest * (BOX_H + BOX_GAP)
    for i, z in enumerate(zone_names):
        x = LEFT + i * (COL_W + COL_GAP)
        columns.append(Column(z, kinds.get(z, ""), x, TOP - 40, COL_W, col_h))
        for j, h in enumerate(by_zone[z]):
            boxes[h.name] = Box(
                h.name,
                h.kind.value,
                ", ".join(h.roles),
                x + 12,
                TOP + j * (BOX_H + BOX_GAP),
                COL_W - 24,
                BOX_H,
            )
    edges: list[Edge] = []
    seen: dict[tuple[str, str], int] = {}
    # Edges inside one column bulge out to the right, each a little further.
    inside: dict[float, int] = {}
    for c in checks:
        if c.flow is None:
            continue
        src, dst = boxes.get(c.flow.source), boxes.get(c.flow.destination)
        if src is None or dst is None:
            continue
        n = seen.get((src.name, dst.name), 0)
        seen[(src.name, dst.name)] = n + 1
        sy, dy = src.y + src.h / 2, dst.y + dst.h / 2
        if src.x < dst.x:
            x1, x2 = src.x + src.w, dst.x
        elif src.x > dst.x:
            x1, x2 = src.x, dst.x + dst.w
        else:
            x1 = x2 = src.x + src.w
            n = inside.get(src.x, 0)
            inside[src.x] = n + 1
        d, mx, my = _curve(x1, sy, x2, dy, 30 + 16 * n)
        edges.append(Edge(c.anchor, c.label, c.status, d, mx, my))
    width = LEFT * 2 + len(zone_names) * (COL_W + COL_GAP)
    # Grey edges first, so that coloured ones are drawn on top of them.
    edges.sort(key=lambda e: _DRAW_ORDER.index(e.status))
    return Diagram(width, TOP + col_h, tuple(columns), tuple(boxes.values()), tuple(edges))


def endpoint_diagram(checks: list[Check], vantage: str) -> Diagram:
    """Without a plan: the vantage point on the left, hosts with their endpoints on the right.

    Each endpoint is a row in its host's box; its edge runs from the vantage point to it.
    """
    hosts: dict[str, list[Check]] = {}
    for c in checks:
        hosts.setdefault(c.host, []).append(c)
    x_host = LEFT + COL_W + COL_GAP * 2
    vant = Box(vantage, "vantage", "", LEFT, TOP, COL_W, BOX_H)
    vy = vant.y + vant.h / 2
    boxes: list[Box] = [vant]
    edges: list[Edge] = []
    y = float(TOP)
    for host, cs in hosts.items():
        h = 28 + ROW_H * len(cs)
        rows = tuple((f"{c.port}/{c.protocol}", c.anchor, c.status) for c in cs)
        boxes.append(Box(host, "host", "", x_host, y, COL_W + 60, h, rows))
        for k, c in enumerate(cs):
            ty = y + 28 + ROW_H * k + ROW_H / 2
            d, mx, my = _curve(LEFT + COL_W, vy, x_host, ty, 0)
            edges.append(Edge(c.anchor, c.label, c.status, d, mx, my))
        y += h + BOX_GAP
    height = max(y, TOP + BOX_H + 20)
    return Diagram(x_host + COL_W + 60 + LEFT, height, (), tuple(boxes), tuple(edges))

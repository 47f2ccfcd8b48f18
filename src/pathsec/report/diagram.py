"""Layout of the data-path diagram: boxes, chips and edges with coordinates, drawn by the template.

With a plan, zones are columns (internet, perimeter, internal, then the others, each group in
the order the plan's firewalls reach them from the internet) and servers and client
populations are boxes stacked in their zone's column. Every flow between two hosts is one
edge: a cubic Bézier from a side of the source box to the nearest side of the destination
box, ending on the box border (where the template puts an arrow head). Each edge has its own
attachment point ("port") on both boxes, so parallel flows fan out instead of overlapping and
every edge stays clickable; a box grows tall enough for its ports. Flows between two hosts of
one zone are arcs in a lane to the right of the boxes, inside the zone. A flow from a host to
itself is not an edge but a chip (a small link coloured by status) inside the host's box.

Without a plan, the vantage point is a box on the left and hosts are boxes listing their
endpoints, each endpoint an edge from the vantage point.

The SVG's view box is computed from the content (edges by their control polygons, which
contain the curves), so nothing is drawn outside it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from pathsec.plan.models import Flow, Plan
from pathsec.report.checks import Check, CheckStatus, path_names, safe
from pathsec.report.i18n import STATUS_LABELS

BOX_W = 200
BOX_MIN_H = 46
BOX_GAP = 22
#: Header of a host box: name and roles; chips start below it.
BOX_HEAD = 40
#: Vertical distance between two edge ends on one side of a box.
PITCH = 5.0
PORT_PAD = 8.0
CHIP_H = 15
CHIP_GAP = 4
COL_PAD = 12
COL_HEAD = 32
#: Gap between two zone columns, where the edges between zones run.
COL_GAP = 150
#: Width of the lane right of the boxes where a zone's internal arcs run.
LANE = 40
LANE_PER_ARC = 1.5
LANE_MAX = 300
#: Smallest reach of an arc beyond the box.
ARC_MIN = 14
TOP = 12
LEFT = 12
MARGIN = 12
ROW_H = 18
MIN_REACH = 40.0
#: Clearance between a box and an edge passing its column.
BAND_PAD = 6.0
HEAD_L = 7.0
HEAD_W = 5.0
#: Edges are drawn grey first, so that coloured ones lie on top of them.
_DRAW_ORDER = (
    CheckStatus.not_observable,
    CheckStatus.passed,
    CheckStatus.closed,
    CheckStatus.finding,
)
_KIND_RANK = {"internet": 0, "perimeter": 1, "internal": 2}


@dataclass(frozen=True)
class Chip:
    """A flow from a host to itself, drawn as a small link inside the host's box."""

    anchor: str
    text: str
    title: str
    status: CheckStatus
    x: float
    y: float
    w: float
    h: float


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
    #: Local flows of the host.
    chips: tuple[Chip, ...] = ()


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
    """One check drawn as a cubic curve ``d``; ``title`` is its tooltip."""

    anchor: str
    label: str
    title: str
    status: CheckStatus
    d: str
    #: The arrow head at the destination end, a small triangle.
    head: str
    #: Bounding box of the control polygon and the head (contains the drawing).
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Diagram:
    """Everything the template needs to draw the SVG; the view box is ``x y width height``."""

    x: float
    y: float
    width: float
    height: float
    columns: tuple[Column, ...]
    boxes: tuple[Box, ...]
    edges: tuple[Edge, ...]


def _r(v: float) -> float:
    return round(v, 1)


Point = tuple[float, float]
#: A piece of an edge: a cubic ("C", control 1, control 2, end) or a straight line ("L", end).
Segment = tuple[str, Point, Point, Point]


def _edge(check: Check, title: str, start: Point, segments: list[Segment]) -> Edge:
    """The edge from ``start`` through ``segments``, with its arrow head.

    Every piece ends horizontally, so the head points left or right.
    """
    ax, ay = _r(start[0]), _r(start[1])
    parts = [f"M{ax},{ay}"]
    xs, ys = [ax], [ay]
    prev_x = ax
    for kind, c1, c2, end in segments:
        (bx, by), (cx, cy), (dx, dy) = ((_r(x), _r(y)) for x, y in (c1, c2, end))
        if kind == "C":
            parts.append(f"C{bx},{by} {cx},{cy} {dx},{dy}")
            xs += [bx, cx]
            ys += [by, cy]
            prev_x = cx
        else:
            parts.append(f"L{dx},{dy}")
            prev_x = xs[-1]
        xs.append(dx)
        ys.append(dy)
    dx, dy = xs[-1], ys[-1]
    back = _r(dx - HEAD_L if prev_x < dx else dx + HEAD_L)
    hy0, hy1 = _r(dy - HEAD_W / 2), _r(dy + HEAD_W / 2)
    head = f"M{dx},{dy} L{back},{hy0} L{back},{hy1} Z"
    xs.append(back)
    ys += [hy0, hy1]
    return Edge(
        check.anchor,
        check.label,
        title,
        check.status,
        " ".join(parts),
        head,
        min(xs),
        min(ys),
        max(xs),
        max(ys),
    )


def _curve(a: Point, b: Point) -> Segment:
    """A cubic from ``a`` to ``b`` leaving and entering horizontally."""
    reach = max(MIN_REACH, abs(b[0] - a[0]) * 0.45)
    sgn = 1 if b[0] > a[0] else -1
    return ("C", (a[0] + sgn * reach, a[1]), (b[0] - sgn * reach, b[1]), b)


def port_text(flow: Flow) -> str:
    """``tcp/25``, ``tcp/49152-65535`` or ``any/local``: the port part of a flow."""
    proto = flow.protocol or "any"
    if flow.port is not None:
        return f"{proto}/{flow.port}"
    if flow.port_range is not None:
        return f"{proto}/{flow.port_range.start}-{flow.port_range.end}"
    return f"{proto}/local"


def _title(check: Check) -> str:
    """Tooltip: flow id, path, port and status, one per line."""
    lines = [safe(check.label)]
    if check.path_id:
        name = path_names().get(check.path_id)
        lines.append(f"path: {check.path_id}" + (f" ({name[0]})" if name else ""))
    if check.flow is not None:
        lines.append(f"port: {port_text(check.flow)}")
    elif check.port is not None:
        lines.append(f"port: {check.protocol}/{check.port}")
    lines.append(f"status: {STATUS_LABELS[check.status].en}")
    return "\n".join(lines)


def _zone_order(plan: Plan) -> list[str]:
    """Zones left to right: by kind (internet, perimeter, internal, others), then firewall hops."""
    names = [z.name for z in plan.zones]
    for h in plan.hosts:
        if h.zone not in names:
            names.append(h.zone)
    kinds = {z.name: z.kind for z in plan.zones}
    # Breadth-first from the internet zones over the firewalls' zone pairs.
    hops = {n: 0 for n in names if kinds.get(n) == "internet"}
    frontier = list(hops)
    while frontier:
        nxt: list[str] = []
        for fw in plan.firewalls:
            if any(z in frontier for z in fw.zones):
                for z in fw.zones:
                    if z not in hops:
                        hops[z] = min(hops[f] for f in frontier if f in fw.zones) + 1
                        nxt.append(z)
        frontier = nxt
    unreached = len(names) + 1
    return sorted(
        names,
        key=lambda n: (
            _KIND_RANK.get(kinds.get(n, ""), 3),
            hops.get(n, unreached),
            names.index(n),
        ),
    )


def _chip_texts(checks: Iterable[Check]) -> list[tuple[Check, str, float]]:
    out = []
    for c in checks:
        text = port_text(c.flow).split("/", 1)[1] if c.flow is not None else str(c.port)
        out.append((c, text, 10 + 6.2 * len(text)))
    return out


def _chip_rows(widths: list[float], inner: float) -> list[tuple[int, float]]:
    """Row and x offset of each chip, wrapped to ``inner`` width."""
    pos: list[tuple[int, float]] = []
    row, x = 0, 0.0
    for w in widths:
        if x > 0 and x + w > inner:
            row, x = row + 1, 0.0
        pos.append((row, x))
        x += w + CHIP_GAP
    return pos


@dataclass(frozen=True)
class _Link:
    check: Check
    src: str
    dst: str
    arc: bool
    #: Side of the source and of the destination box: "L" or "R".
    s_side: str
    d_side: str
    #: Index among the links of the same (unordered) host pair.
    k: int


def plan_diagram(plan: Plan, checks: list[Check]) -> Diagram:
    """Zones as columns, hosts as boxes, one edge or chip per flow check."""
    zones = _zone_order(plan)
    kinds = {z.name: z.kind for z in plan.zones}
    by_zone = {z: [h for h in plan.hosts if h.zone == z] for z in zones}
    zones = [z for z in zones if by_zone[z]]
    col_of = {h.name: i for i, z in enumerate(zones) for h in by_zone[z]}

    local: dict[str, list[Check]] = {}
    links: list[_Link] = []
    pair_n: dict[frozenset[str], int] = {}
    for c in checks:
        f = c.flow
        if f is None or f.source not in col_of or f.destination not in col_of:
            continue
        if f.source == f.destination:
            local.setdefault(f.source, []).append(c)
            continue
        pair = frozenset((f.source, f.destination))
        k = pair_n.get(pair, 0)
        pair_n[pair] = k + 1
        cs, cd = col_of[f.source], col_of[f.destination]
        if cs == cd:
            links.append(_Link(c, f.source, f.destination, True, "R", "R", k))
        elif cs < cd:
            links.append(_Link(c, f.source, f.destination, False, "R", "L", k))
        else:
            links.append(_Link(c, f.source, f.destination, False, "L", "R", k))

    ports: dict[tuple[str, str], int] = {}
    for ln in links:
        ports[(ln.src, ln.s_side)] = ports.get((ln.src, ln.s_side), 0) + 1
        ports[(ln.dst, ln.d_side)] = ports.get((ln.dst, ln.d_side), 0) + 1
    # A zone's arc lane widens with its number of arcs, up to a limit.
    n_arcs: dict[int, int] = {}
    for ln in links:
        if ln.arc:
            n_arcs[col_of[ln.src]] = n_arcs.get(col_of[ln.src], 0) + 1
    lane = {i: min(LANE_MAX, LANE + LANE_PER_ARC * n) for i, n in n_arcs.items()}

    # Columns and boxes.
    inner = BOX_W - 16
    boxes: dict[str, Box] = {}
    x = float(LEFT)
    col_geo: list[tuple[float, float]] = []
    bottoms: list[float] = []
    for i, z in enumerate(zones):
        w = COL_PAD + BOX_W + lane.get(i, COL_PAD)
        col_geo.append((x, w))
        y = float(TOP + COL_HEAD)
        for h in by_zone[z]:
            chips = _chip_texts(local.get(h.name, []))
            pos = _chip_rows([cw for _, _, cw in chips], inner)
            chip_h = (pos[-1][0] + 1) * (CHIP_H + CHIP_GAP) + 4 if pos else 0
            n_ports = max(ports.get((h.name, "L"), 0), ports.get((h.name, "R"), 0))
            bh = max(BOX_MIN_H + chip_h, n_ports * PITCH + 2 * PORT_PAD)
            bx = x + COL_PAD
            chip_objs = tuple(
                Chip(
                    c.anchor,
                    text,
                    _title(c),
                    c.status,
                    _r(bx + 8 + cx),
                    _r(y + BOX_HEAD + row * (CHIP_H + CHIP_GAP)),
                    _r(cw),
                    CHIP_H,
                )
                for (c, text, cw), (row, cx) in zip(chips, pos, strict=True)
            )
            boxes[h.name] = Box(
                h.name, h.kind.value, ", ".join(h.roles), bx, y, BOX_W, _r(bh), chips=chip_objs
            )
            y += bh + BOX_GAP
        bottoms.append(y - BOX_GAP + COL_PAD)
        x += w + COL_GAP
    col_bottom = max(bottoms, default=TOP + COL_HEAD + BOX_MIN_H)

    def cy(name: str) -> float:
        b = boxes[name]
        return b.y + b.h / 2

    # Attachment points. On each side: arcs going up first, then edges to other columns
    # ordered by the other end's height, then arcs going down. Arcs nest: a longer arc
    # (and, between one pair of hosts, a later one) reaches further out, so it leaves the
    # upper box higher and enters the lower box lower.
    ends: dict[tuple[str, str], list[tuple[tuple[float, float, float, int], int, bool]]] = {}
    for i, ln in enumerate(links):
        for me, other, side, is_src in (
            (ln.src, ln.dst, ln.s_side, True),
            (ln.dst, ln.src, ln.d_side, False),
        ):
            oy = cy(other)
            if ln.arc:
                key = (0.0, -oy, 0.0, ln.k) if oy < cy(me) else (2.0, -oy, 0.0, -ln.k)
            else:
                key = (1.0, oy, boxes[other].x, ln.k)
            ends.setdefault((me, side), []).append((key, i, is_src))
    at: dict[tuple[int, bool], Point] = {}
    for (name, side), items in ends.items():
        b = boxes[name]
        items.sort(key=lambda t: t[0])
        step = (b.h - 2 * PORT_PAD) / len(items)
        px = b.x + b.w if side == "R" else b.x
        for n, (_, i, is_src) in enumerate(items):
            at[(i, is_src)] = (px, b.y + PORT_PAD + (n + 0.5) * step)

    # Arc reach: spread evenly over the lane by rank of length (an arc reaches 3/4 of its
    # control offset).
    arc_order: dict[int, list[tuple[float, int, int]]] = {}
    for i, ln in enumerate(links):
        if ln.arc:
            length = abs(cy(ln.dst) - cy(ln.src))
            arc_order.setdefault(col_of[ln.src], []).append((length, ln.k, i))
    bend: dict[int, float] = {}
    for col, order in arc_order.items():
        order.sort()
        for n, (_, _, i) in enumerate(order):
            rank = n / max(1, len(order) - 1)
            bend[i] = (ARC_MIN + rank * (lane[col] - 12 - ARC_MIN)) / 0.75

    # Edges across more than one gap pass the zones in between horizontally through a
    # free band (between two boxes, or below the last one) instead of over their boxes.
    col_boxes = [[boxes[h.name] for h in by_zone[z]] for z in zones]
    passing: dict[int, list[tuple[float, int]]] = {}
    for i, ln in enumerate(links):
        c1, c2 = col_of[ln.src], col_of[ln.dst]
        if abs(c1 - c2) < 2:
            continue
        (x1, y1), (x2, y2) = at[(i, True)], at[(i, False)]
        for k in range(min(c1, c2) + 1, max(c1, c2)):
            mid = col_geo[k][0] + col_geo[k][1] / 2
            ideal = y1 + (y2 - y1) * (mid - x1) / (x2 - x1)
            passing.setdefault(k, []).append((ideal, i))
    through: dict[tuple[int, int], float] = {}
    for k, crossing in passing.items():
        for _, i, y in _assign(sorted(crossing), _bands(col_boxes[k])):
            through[(i, k)] = y
            col_bottom = max(col_bottom, y + COL_PAD)
    columns = [
        Column(z, kinds.get(z, ""), cx, TOP, cw, _r(col_bottom - TOP))
        for z, (cx, cw) in zip(zones, col_geo, strict=True)
    ]

    edges: list[Edge] = []
    for i, ln in enumerate(links):
        (x1, y1), (x2, y2) = at[(i, True)], at[(i, False)]
        if ln.arc:
            seg: Segment = ("C", (x1 + bend[i], y1), (x2 + bend[i], y2), (x2, y2))
            edges.append(_edge(ln.check, _title(ln.check), (x1, y1), [seg]))
            continue
        c1, c2 = col_of[ln.src], col_of[ln.dst]
        step = 1 if c2 > c1 else -1
        segments: list[Segment] = []
        here: Point = (x1, y1)
        for k in range(c1 + step, c2, step):
            y = through[(i, k)]
            left, right = col_geo[k][0], col_geo[k][0] + col_geo[k][1]
            enter, leave = ((left, y), (right, y)) if step > 0 else ((right, y), (left, y))
            segments += [_curve(here, enter), ("L", enter, enter, leave)]
            here = leave
        segments.append(_curve(here, (x2, y2)))
        edges.append(_edge(ln.check, _title(ln.check), (x1, y1), segments))
    edges.sort(key=lambda e: _DRAW_ORDER.index(e.status))
    return _framed(columns, list(boxes.values()), edges)


def _bands(col: list[Box]) -> list[tuple[float, float]]:
    """Free vertical bands of a column: between its boxes, and an open one below the last."""
    bands = [
        (a.y + a.h + BAND_PAD, b.y - BAND_PAD)
        for a, b in itertools.pairwise(col)
        if b.y - BAND_PAD - (a.y + a.h + BAND_PAD) >= PITCH
    ]
    last = col[-1]
    bands.append((last.y + last.h + BAND_PAD + 2, float("inf")))
    return bands


def _assign(
    items: list[tuple[float, int]], bands: list[tuple[float, float]]
) -> list[tuple[float, int, float]]:
    """Give each (ideal height, edge) a height in a band, ``PITCH`` apart, near its ideal."""
    load: list[list[tuple[float, int]]] = [[] for _ in bands]
    for ideal, i in items:
        best, best_cost = len(bands) - 1, float("inf")
        for n, (lo, hi) in enumerate(bands):
            if (len(load[n]) + 1) * PITCH > hi - lo:
                continue
            cost = 0.0 if lo <= ideal <= hi else min(abs(ideal - lo), abs(ideal - hi))
            if cost < best_cost:
                best, best_cost = n, cost
        load[best].append((ideal, i))
    out: list[tuple[float, int, float]] = []
    for (lo, hi), members in zip(bands, load, strict=True):
        members.sort()
        # A band between two boxes is filled from its middle, the open one from its top.
        top = lo if hi == float("inf") else (lo + hi) / 2 - len(members) * PITCH / 2
        for n, (ideal, i) in enumerate(members):
            out.append((ideal, i, top + (n + 0.5) * PITCH))
    return out


def _framed(columns: list[Column], boxes: list[Box], edges: list[Edge]) -> Diagram:
    """The diagram with a view box around everything in it."""
    x0 = [c.x for c in columns] + [b.x for b in boxes] + [e.x0 for e in edges]
    y0 = [c.y for c in columns] + [b.y for b in boxes] + [e.y0 for e in edges]
    x1 = [c.x + c.w for c in columns] + [b.x + b.w for b in boxes] + [e.x1 for e in edges]
    y1 = [c.y + c.h for c in columns] + [b.y + b.h for b in boxes] + [e.y1 for e in edges]
    left, top = min(x0, default=0) - MARGIN, min(y0, default=0) - MARGIN
    right, bottom = max(x1, default=0) + MARGIN, max(y1, default=0) + MARGIN
    return Diagram(
        _r(left),
        _r(top),
        _r(right - left),
        _r(bottom - top),
        tuple(columns),
        tuple(boxes),
        tuple(edges),
    )


def endpoint_diagram(checks: list[Check], vantage: str) -> Diagram:
    """Without a plan: the vantage point on the left, hosts with their endpoints on the right.

    Each endpoint is a row in its host's box; its edge runs from the vantage point to it.
    """
    hosts: dict[str, list[Check]] = {}
    for c in checks:
        hosts.setdefault(c.host, []).append(c)
    x_host = LEFT + BOX_W + COL_GAP * 2
    boxes: list[Box] = []
    targets: list[tuple[Check, float]] = []
    y = float(TOP)
    for host, cs in hosts.items():
        h = 28 + ROW_H * len(cs)
        rows = tuple((f"{c.port}/{c.protocol}", c.anchor, c.status) for c in cs)
        boxes.append(Box(host, "host", "", x_host, y, BOX_W + 60, h, rows))
        for k, c in enumerate(cs):
            targets.append((c, y + 28 + ROW_H * k + ROW_H / 2))
        y += h + BOX_GAP
    vant_h = max(float(BOX_MIN_H), len(targets) * PITCH + 2 * PORT_PAD)
    vant = Box(vantage, "vantage", "", LEFT, TOP, BOX_W, vant_h)
    step = (vant_h - 2 * PORT_PAD) / max(1, len(targets))
    edges: list[Edge] = []
    x1 = LEFT + BOX_W
    reach = (x_host - x1) * 0.45
    for n, (c, ty) in enumerate(targets):
        y1 = TOP + PORT_PAD + (n + 0.5) * step
        seg: Segment = ("C", (x1 + reach, y1), (x_host - reach, ty), (x_host, ty))
        edges.append(_edge(c, _title(c), (x1, y1), [seg]))
    edges.sort(key=lambda e: _DRAW_ORDER.index(e.status))
    return _framed([], [vant, *boxes], edges)

"""Geometry of the data-path diagram on a real-sized plan (examples/two-sites.yaml, 342 flows)."""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

import pytest

from pathsec.plan.models import Plan
from pathsec.report import ReportFormat, ReportInput, render
from pathsec.report.checks import Check, build_checks
from pathsec.report.diagram import Box, Diagram, Edge, endpoint_diagram, plan_diagram
from report.sample import sample_result, two_sites_plan, two_sites_result

_CMD = re.compile(r"([MCL])([^MCL]*)")


@lru_cache(maxsize=1)
def _two_sites() -> tuple[Plan, list[Check], Diagram]:
    plan = two_sites_plan()
    checks = build_checks(two_sites_result(plan), plan)
    return plan, checks, plan_diagram(plan, checks)


def _segments(e: Edge) -> list[tuple[str, list[tuple[float, float]]]]:
    """The path's commands with their points: M (1), C (3), L (1)."""
    out = []
    for cmd, args in _CMD.findall(e.d):
        pts = [(float(a), float(b)) for a, b in (p.split(",") for p in args.split())]
        assert len(pts) == {"M": 1, "C": 3, "L": 1}[cmd], e.d
        out.append((cmd, pts))
    assert out[0][0] == "M" and all(c != "M" for c, _ in out[1:]), e.d
    return out


def _points(e: Edge) -> list[tuple[float, float]]:
    """Start, first control, last control and end of an edge."""
    segs = _segments(e)
    curves = [pts for cmd, pts in segs if cmd == "C"]
    return [segs[0][1][0], curves[0][0], curves[-1][1], segs[-1][1][-1]]


def _on_border(b: Box, x: float, y: float) -> str | None:
    """``L`` or ``R`` when (x, y) lies on that vertical border of ``b``, else None."""
    if not b.y <= y <= b.y + b.h:
        return None
    if abs(x - b.x) < 0.11:
        return "L"
    if abs(x - (b.x + b.w)) < 0.11:
        return "R"
    return None


def _inside(d: Diagram, x0: float, y0: float, x1: float, y1: float) -> bool:
    return d.x <= x0 and d.y <= y0 and x1 <= d.x + d.width and y1 <= d.y + d.height


def test_zones_left_to_right_follow_the_firewalls() -> None:
    _, _, d = _two_sites()
    assert [c.name for c in d.columns] == [
        "internet",
        "perimeter",
        "hq-internal",
        "branch-internal",
        "management",
        "voice",
    ]
    xs = [c.x for c in d.columns]
    assert xs == sorted(xs)


def test_one_edge_per_flow_and_one_chip_per_local_flow() -> None:
    _, checks, d = _two_sites()
    local = {c.anchor for c in checks if c.flow and c.flow.source == c.flow.destination}
    remote = {c.anchor for c in checks if c.flow and c.flow.source != c.flow.destination}
    assert len(local) == 22 and len(remote) == 342 - 22
    edges = [e.anchor for e in d.edges]
    chips = [c.anchor for b in d.boxes for c in b.chips]
    assert len(edges) == len(set(edges)) and set(edges) == remote
    assert len(chips) == len(set(chips)) and set(chips) == local
    # Each chip sits inside its own host's box and chips of one box do not overlap.
    host_of = {c.anchor: c.flow.source for c in checks if c.flow}
    for b in d.boxes:
        for c in b.chips:
            assert host_of[c.anchor] == b.name
            assert b.x <= c.x and c.x + c.w <= b.x + b.w and b.y <= c.y and c.y + c.h <= b.y + b.h
        rects = [(c.x, c.y, c.x + c.w, c.y + c.h) for c in b.chips]
        for i, r in enumerate(rects):
            for s in rects[i + 1 :]:
                assert r[2] <= s[0] or s[2] <= r[0] or r[3] <= s[1] or s[3] <= r[1], (r, s)


def test_edges_run_from_border_to_border_with_their_own_ends() -> None:
    plan, checks, d = _two_sites()
    boxes = {b.name: b for b in d.boxes}
    col = {h.name: next(c.x for c in d.columns if c.name == h.zone) for h in plan.hosts}
    flow_of = {c.anchor: c.flow for c in checks if c.flow}
    ends: set[tuple[float, float]] = set()
    for e in d.edges:
        f = flow_of[e.anchor]
        assert f is not None
        (x1, y1), c1, c2, (x2, y2) = _points(e)
        src, dst = boxes[f.source], boxes[f.destination]
        s_side, d_side = _on_border(src, x1, y1), _on_border(dst, x2, y2)
        assert s_side and d_side, (e.anchor, e.d)
        # The destination side faces the source; one zone: an arc on the right.
        if col[f.source] < col[f.destination]:
            assert (s_side, d_side) == ("R", "L")
        elif col[f.source] > col[f.destination]:
            assert (s_side, d_side) == ("L", "R")
        else:
            assert (s_side, d_side) == ("R", "R")
            assert len(_segments(e)) == 2, "an arc is one curve"
            zone = next(c for c in d.columns if c.x == col[f.source])
            assert zone.x <= min(c1[0], c2[0]) and max(c1[0], c2[0]) * 0.75 + x1 * 0.25 <= (
                zone.x + zone.w
            ), "an arc stays inside its zone"
        # Leaves and enters horizontally, so the arrow head lies along the curve.
        assert c1[1] == y1 and c2[1] == y2
        for p in ((x1, y1), (x2, y2)):
            assert p not in ends, f"two edges share the end {p}"
            ends.add(p)
        assert e.head.startswith(f"M{x2},{y2} ")


def test_edges_pass_other_zones_between_their_boxes() -> None:
    _, _, d = _two_sites()
    passing = 0
    for e in d.edges:
        segs = _segments(e)
        for (_, before), (cmd, after) in itertools.pairwise(segs):
            if cmd != "L":
                continue
            (ax, ay), (bx, by) = before[-1], after[0]
            assert ay == by, "a straight piece is horizontal"
            zone = next(c for c in d.columns if {ax, bx} == {c.x, c.x + c.w})
            for b in d.boxes:
                if zone.x <= b.x <= zone.x + zone.w:
                    assert not b.y <= ay <= b.y + b.h, f"{e.anchor} crosses {b.name}"
            passing += 1
    assert passing >= 20  # hq-internal to voice passes branch-internal and management


def test_everything_lies_inside_the_view_box() -> None:
    _, _, d = _two_sites()
    for e in d.edges:
        xs = [p[0] for _, pts in _segments(e) for p in pts]
        ys = [p[1] for _, pts in _segments(e) for p in pts]
        assert e.x0 <= min(xs) and e.y0 <= min(ys) and e.x1 >= max(xs) and e.y1 >= max(ys)
        assert _inside(d, e.x0, e.y0, e.x1, e.y1), e.anchor
    for b in d.boxes:
        assert _inside(d, b.x, b.y, b.x + b.w, b.y + b.h)
        zone = next(c for c in d.columns if c.x <= b.x <= c.x + c.w)
        assert zone.y <= b.y and b.y + b.h <= zone.y + zone.h
    for c in d.columns:
        assert _inside(d, c.x, c.y, c.x + c.w, c.y + c.h)


def test_endpoint_diagram_fans_out_from_the_vantage_point() -> None:
    checks = build_checks(sample_result())
    d = endpoint_diagram(checks, "vantage")
    vant = d.boxes[0]
    starts = [_points(e)[0] for e in d.edges]
    assert len(set(starts)) == len(d.edges) == len(checks)
    assert all(_on_border(vant, x, y) == "R" for x, y in starts)
    for e in d.edges:
        assert _inside(d, e.x0, e.y0, e.x1, e.y1)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_html_links_every_edge_and_chip_to_its_detail(lang: str) -> None:
    plan, _, _ = _two_sites()
    page = render(ReportFormat.html, ReportInput(two_sites_result(plan), plan, lang=lang))
    ids = set(re.findall(r'id="([^"]+)"', page))
    edges = re.findall(r'<a href="#([^"]+)" class="edge-link"', page)
    chips = re.findall(r'<a href="#([^"]+)" class="chip-link"', page)
    assert len(edges) == 342 - 22 and len(chips) == 22
    assert all(a in ids for a in edges + chips)
    # Tooltips name the flow id, the path, the port and the status.
    title = re.search(r'class="edge-link" data-status="(\w+)"><title>([^<]*)</title>', page)
    assert title is not None
    lines = title.group(2).split("\n")
    assert lines[0].count(":") >= 2 and lines[1].startswith("path: ")
    assert lines[2].startswith("port: ") and lines[3].startswith("status: ")
    m = re.search(r'viewBox="([-0-9. ]+)"', page)
    assert m is not None and len(m.group(1).split()) == 4

"""The HTML reports in a real browser: headless Chromium (Debian package) via Playwright.

The audit report (hostile text inert, language switch, grouped findings, diagram to
detail), and the plan report at three sizes — the demo's lab, examples/two-sites-large.yaml
(about 540 flows) and the 500-server bench plan (about 75,000 flows) — with geometry checks,
load times and screenshots in test-artifacts/ (figures in test-artifacts/browser-figures.json).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pathsec.catalog import load_builtin
from pathsec.plan import build_plan
from pathsec.plan.models import Plan
from pathsec.report import ReportFormat, ReportInput, render
from pathsec.report.checks import build_checks
from pathsec.report.load import load_plan
from pathsec.report.plan_html import render_plan_html
from pathsec.report.plan_rules import plan_rules
from pathsec.topology import load_deployment_text
from report.sample import HOSTILE, sample_plan, sample_result, two_sites_plan, two_sites_result

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = REPO / "test-artifacts"
VIEWPORT = {"width": 1280, "height": 900}

#: A point where a click lands on link ``a`` (an edge or a chip) in the current view, or null.
CLICKABLE_POINT = """a => {
  const shape = a.querySelector("path.hit, rect.chip");
  const pts = [];
  if (shape.tagName === "rect") {
    const b = shape.getBBox();
    pts.push({x: b.x + 3, y: b.y + 3}, {x: b.x + b.width / 2, y: b.y + b.height / 2});
  } else {
    const len = shape.getTotalLength();
    for (let i = 1; i < 64; i++) { pts.push(shape.getPointAtLength(len * i / 64)); }
  }
  for (const p of pts) {
    let m = shape.getScreenCTM();
    let y = m.b * p.x + m.d * p.y + m.f;
    if (y < 0 || y > innerHeight) { window.scrollBy(0, y - innerHeight / 2); m = shape.getScreenCTM(); }
    const x = m.a * p.x + m.c * p.y + m.e;
    y = m.b * p.x + m.d * p.y + m.f;
    const hit = document.elementFromPoint(x, y);
    if (hit && hit.closest(".edge-link, .chip-link") === a) { return [x, y]; }
  }
  return null;
}"""

#: Problems of the drawing: overlapping boxes, zones, walls or labels; anything outside
#: the frame (data-bounds, which "fit all" shows whole).
GEOMETRY = """svg => {
  const out = [];
  const b = svg.getAttribute("data-bounds").split(" ").map(Number);
  const frame = [b[0], b[1], b[0] + b[2], b[1] + b[3]];
  const rects = sel => Array.from(svg.querySelectorAll(sel)).map(e => {
    const r = e.getBBox();
    return {r: [r.x, r.y, r.x + r.width, r.y + r.height], e: e};
  });
  const over = (p, q) => p[0] < q[2] - 0.05 && q[0] < p[2] - 0.05 && p[1] < q[3] - 0.05 && q[1] < p[3] - 0.05;
  const inside = p => p[0] >= frame[0] - 0.05 && p[1] >= frame[1] - 0.05 && p[2] <= frame[2] + 0.05 && p[3] <= frame[3] + 0.05;
  const boxes = rects(".node rect.box"), zones = rects("rect.zone-box"), walls = rects("rect.wall");
  const labels = rects(".fw-label rect"), edges = rects(".edge-link path.edge, .edge-link path.head");
  const name = x => {
    const g = x.e.closest("[data-node], [data-zone], [data-firewall]");
    return g ? (g.getAttribute("data-node") || g.getAttribute("data-zone") || g.getAttribute("data-firewall")) : "?";
  };
  const pairs = (list, what) => { for (let i = 0; i < list.length; i++) { for (let j = i + 1; j < list.length; j++) {
    if (over(list[i].r, list[j].r)) { out.push(what + " overlap: " + name(list[i]) + " / " + name(list[j])); } } } };
  pairs(boxes, "box"); pairs(zones, "zone"); pairs(walls, "wall"); pairs(labels, "firewall label");
  for (const w of walls.concat(labels)) {
    for (const z of zones) { if (over(w.r, z.r)) { out.push("firewall " + name(w) + " over zone " + name(z)); } }
  }
  for (const l of labels) { for (const w of walls) {
    if (name(l) !== name(w) && over(l.r, w.r)) { out.push("label " + name(l) + " over wall " + name(w)); } } }
  for (const x of boxes) {
    if (!zones.some(q => q.r[0] <= x.r[0] && q.r[1] <= x.r[1] && q.r[2] >= x.r[2] && q.r[3] >= x.r[3])) {
      out.push("box outside every zone: " + name(x));
    }
  }
  for (const x of boxes.concat(zones, walls, labels, edges)) {
    if (!inside(x.r)) { out.push("outside the frame: " + (x.e.getAttribute("class") || "") + " " + name(x)); }
  }
  return out;
}"""

#: The flow ids of every drawn edge and chip.
DRAWN_FLOWS = """() => ({
  edges: Array.from(document.querySelectorAll("#diagram-svg .edge-link")).map(e => e.getAttribute("data-flows").split(" ")),
  chips: Array.from(document.querySelectorAll("#diagram-svg .chip-link")).map(e => e.getAttribute("data-flows").split(" "))
})"""

#: The smallest rendered text of the diagram, in CSS pixels, in the current view.
MIN_TEXT_PX = """svg => {
  const k = svg.getScreenCTM().a;
  return Math.min(...Array.from(svg.querySelectorAll("text")).map(t => parseFloat(getComputedStyle(t).fontSize) * k));
}"""


def _missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required in CI")
    pytest.skip(f"{what} not available")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package")
    if shutil.which(CHROMIUM) is None:
        _missing(CHROMIUM + " (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


class Opened:
    """A page with what it did: dialogs, requests, errors, console messages, load time."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport=VIEWPORT)
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.console: list[str] = []

        def on_dialog(d: Any) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", on_dialog)
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        t0 = time.monotonic()
        self.page.goto(path.as_uri())
        # Polled from outside: the page's CSP forbids the eval a wait_for_function needs.
        for _ in range(3000):
            if self.page.evaluate("document.documentElement.getAttribute('data-ready')") == "1":
                break
            time.sleep(0.01)
        self.seconds = time.monotonic() - t0
        assert self.page.evaluate("document.documentElement.getAttribute('data-ready')") == "1"

    def clean(self) -> None:
        """Nothing fetched, no dialog, no script error, no CSP complaint."""
        assert all(u.startswith("file://") for u in self.requests), self.requests
        assert self.dialogs == [] and self.errors == []
        assert not [
            m for m in self.console if "Content Security Policy" in m or m.startswith("error")
        ]


def _click(page: Any, link: Any) -> None:
    point = link.evaluate(CLICKABLE_POINT)
    assert point is not None, "no visible point of the edge"
    page.mouse.click(*point)


def test_audit_report_in_chromium(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(render(ReportFormat.html, ReportInput(sample_result(), sample_plan())), "utf-8")
    o = Opened(browser, path)
    page = o.page

    # Hostile server text is inert: shown literally, no dialog, no element created.
    evidence = page.locator("pre.evidence").first.inner_text()
    assert (
        '<script>alert(1)</script> "><img src=x onerror=alert(1)> \\x1b[31mRED\\x1b[0m' in evidence
    )
    assert HOSTILE not in evidence  # the raw ESC bytes never reach the page
    assert page.locator("img").count() == 0
    assert page.locator("script:not([type])").count() == 1

    # Language switch, also of what the script draws.
    h1 = page.locator("h1")
    assert h1.inner_text() == "pathsec audit report"
    page.click("button[data-set-lang=zh]")
    assert h1.inner_text() == "pathsec 审核报告"
    assert page.get_attribute("html", "data-lang") == "zh"
    assert page.locator("#summary h2").inner_text() == "摘要"
    assert "集线器传输服务器" in page.locator("#diagram-svg").inner_html()
    assert "个流" in page.locator("#diagram-stats").inner_text()
    page.click("button[data-set-lang=en]")
    assert h1.inner_text() == "pathsec audit report"

    # Filters: severity, host, role, path, protocol; counts in findings and rows.
    rows = page.locator("#findings-table tbody tr")
    visible = page.locator("#findings-table tbody tr:not([hidden])")
    assert rows.count() == 6 and visible.count() == 6
    page.select_option("select[data-filter=severity]", "medium")
    assert visible.count() == 2
    assert page.locator("#shown-count").inner_text() == "2"
    page.select_option("select[data-filter=host]", "cas1.example.test")
    assert visible.count() == 1
    assert visible.first.get_attribute("data-id") == "PS-TCP-001"
    page.select_option("select[data-filter=severity]", "")
    page.select_option("select[data-filter=host]", "")
    page.select_option("select[data-filter=role]", "edge_transport")
    assert visible.count() == 3
    page.select_option("select[data-filter=role]", "")
    page.select_option("select[data-filter=path]", "client_access.imap4")
    assert visible.count() == 1
    page.select_option("select[data-filter=path]", "")
    page.select_option("select[data-filter=protocol]", "imap")
    assert visible.count() == 1
    page.select_option("select[data-filter=protocol]", "")
    assert visible.count() == 6

    # Sorting by severity: first click sorts most severe first, second click reverses.
    page.click("th[data-sort=rank] button")
    ranks = [int(r) for r in rows.evaluate_all("rs => rs.map(r => r.getAttribute('data-rank'))")]
    assert ranks == sorted(ranks, reverse=True)
    page.click("th[data-sort=rank] button")
    ranks = [int(r) for r in rows.evaluate_all("rs => rs.map(r => r.getAttribute('data-rank'))")]
    assert ranks == sorted(ranks)

    # A diagram edge lists its flows; each links to its detail.
    edge = page.locator(".edge-link[data-status=closed]")
    assert edge.count() == 1
    # clients -> cas1 carries three flows: IMAP4 closed, POP3 timed out, OWA not audited.
    assert (edge.get_attribute("data-flows") or "").split() == [
        "client_access.imap4:clients->cas1:tcp/143",
        "client_access.pop3:clients->cas1:tcp/110",
        "client_access.owa:clients->cas1:tcp/443",
    ]
    _click(page, edge)
    panel = page.locator("#diagram-selection")
    assert panel.is_visible()
    assert page.locator("#flows-shown").inner_text() == "3"
    link = panel.locator("a[href^='#flow-']").first
    target = link.get_attribute("href")
    assert target is not None
    link.click()
    assert page.evaluate("location.hash") == target
    assert page.evaluate("document.querySelector(':target').id") == target[1:]

    page.evaluate("window.scrollTo(0, 0)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    page.click("button[data-set-lang=zh]")
    page.screenshot(path=str(ARTIFACTS / "report-zh.png"))
    o.clean()
    page.close()


def test_report_without_plan_in_chromium(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(render(ReportFormat.html, ReportInput(sample_result(), None)), "utf-8")
    o = Opened(browser, path)
    page = o.page
    hosts = {ep.host for ep in sample_result().endpoints}
    assert page.locator(".edge-link").count() == len(hosts)
    flows = [f for fs in page.evaluate(DRAWN_FLOWS)["edges"] for f in fs]
    assert len(flows) == len(set(flows)) == len(sample_result().endpoints)
    # cas1: IMAP4 refused and POP3 timed out, one edge coloured by the most telling status.
    edge = page.locator(".edge-link[data-status=closed]")
    assert edge.count() == 1
    _click(page, edge)
    links = page.locator("#diagram-selection a[href^='#ep-']")
    assert links.count() == 2
    statuses = set()
    for k in range(2):
        target = links.nth(k).get_attribute("href")
        links.nth(k).click()
        assert page.evaluate("location.hash") == target
        statuses.add(page.locator(str(target)).get_attribute("data-status"))
    assert statuses == {"closed", "not_observable"}
    page.screenshot(path=str(ARTIFACTS / "report-noplan.png"), full_page=True)
    o.clean()
    page.close()


def _bench_plan() -> Plan:
    spec = importlib.util.spec_from_file_location("bench_plan", REPO / "bench" / "bench_plan.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return build_plan(load_builtin(), load_deployment_text(mod.generate(), "<bench>"))


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pathsec demo`` run as a user runs it (its own process: the lab has its own loop)."""
    out = tmp_path_factory.mktemp("demo")
    cli = [sys.executable, "-c", "from pathsec.cli.main import entry; entry()"]
    proc = subprocess.run(
        [*cli, "demo", "-o", str(out)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return out


SIZES = {
    # name: (plan, load time limit in seconds, smallest text at fit-to-width or None)
    "demo": (lambda d: load_plan(d / "deployment.yaml"), 2.0, 10.0),
    "two-site": (lambda d: load_plan(REPO / "examples" / "two-sites-large.yaml"), 2.0, 10.0),
    "bench": (lambda d: _bench_plan(), 10.0, None),
}


def _record(name: str, figures: dict[str, Any]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "browser-figures.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = figures
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


@pytest.mark.parametrize("size", list(SIZES))
def test_plan_report_at_scale(browser: Any, demo_dir: Path, tmp_path: Path, size: str) -> None:
    make_plan, limit, min_px = SIZES[size]
    plan = make_plan(demo_dir)
    t0 = time.monotonic()
    html = render_plan_html(plan)
    render_s = time.monotonic() - t0
    path = tmp_path / "plan.html"
    path.write_text(html, "utf-8")
    o = Opened(browser, path)
    page = o.page
    svg = page.locator("#diagram-svg")
    assert o.seconds < limit, f"{size}: ready after {o.seconds:.2f} s"

    # Geometry: nothing overlaps, everything inside the frame, no sideways page scroll.
    assert svg.evaluate(GEOMETRY) == []
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    # Every flow is drawn exactly once: a flow between two boxes by exactly one edge, a
    # flow inside one box by its chip.
    drawn = page.evaluate(DRAWN_FLOWS)
    in_edges = [f for fs in drawn["edges"] for f in fs]
    in_chips = [f for fs in drawn["chips"] for f in fs]
    ids = [f.id for f in plan.flows]
    assert sorted(in_edges + in_chips) == sorted(ids)
    assert len(set(in_edges)) == len(in_edges)
    crossing = {f.id for f in plan.flows if f.source_zone != f.destination_zone}
    assert crossing <= set(in_edges), "a flow between zones is drawn by an edge"
    assert not {f.id for f in plan.flows if f.local} & set(in_edges)
    stats = page.locator("#diagram-stats")
    edges = int(stats.get_attribute("data-edges") or 0)
    assert edges == len(drawn["edges"]) and int(stats.get_attribute("data-flows") or 0) == len(ids)
    # Firewalls drawn with their rule counts, as the firewall stage counts them.
    rules = {p.name: len(p.rules) for p in plan_rules(plan) if p.kind == "network"}
    walls = page.evaluate(
        "() => Array.from(document.querySelectorAll('#diagram-svg g.fw'))"
        ".map(g => [g.getAttribute('data-firewall'), g.getAttribute('data-rules')])"
    )
    assert {n: int(r) for n, r in walls} == rules
    # Readable at fit-to-width.
    text_px = svg.evaluate(MIN_TEXT_PX)
    if min_px is not None:
        assert text_px >= min_px, f"{size}: smallest text {text_px:.1f} px"
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#diagram").screenshot(path=str(ARTIFACTS / f"plan-{size}-fit-width.png"))
    page.click("button[data-zoom=all]")
    assert svg.evaluate(GEOMETRY) == []
    page.locator("#diagram").screenshot(path=str(ARTIFACTS / f"plan-{size}-fit-all.png"))
    _record(
        size,
        {
            "flows": len(ids),
            "edges": edges,
            "chips": len(drawn["chips"]),
            "html_bytes": len(html.encode("utf-8")),
            "render_seconds": round(render_s, 2),
            "load_seconds": round(o.seconds, 2),
            "ready_ms_in_page": int(page.get_attribute("html", "data-ready-ms") or 0),
            "min_text_px_fit_width": round(text_px, 1),
        },
    )
    o.clean()
    page.close()


@pytest.mark.parametrize("example", sorted(p.name for p in (REPO / "examples").glob("*.yaml")))
def test_every_example_draws_soundly(browser: Any, tmp_path: Path, example: str) -> None:
    plan = load_plan(REPO / "examples" / example)
    path = tmp_path / "plan.html"
    path.write_text(render_plan_html(plan, "zh"), "utf-8")
    o = Opened(browser, path)
    svg = o.page.locator("#diagram-svg")
    assert svg.evaluate(GEOMETRY) == []
    drawn = o.page.evaluate(DRAWN_FLOWS)
    assert sorted(f for fs in drawn["edges"] + drawn["chips"] for f in fs) == sorted(
        f.id for f in plan.flows
    )
    assert svg.evaluate(MIN_TEXT_PX) >= 10
    o.clean()
    o.page.close()


def test_audit_report_with_a_large_plan(browser: Any, tmp_path: Path) -> None:
    """examples/two-sites.yaml with a synthetic result: every arrow shows its most telling status."""
    plan = two_sites_plan()
    result = two_sites_result(plan)
    path = tmp_path / "report.html"
    path.write_text(render(ReportFormat.html, ReportInput(result, plan)), "utf-8")
    o = Opened(browser, path)
    page = o.page
    assert page.locator("#diagram-svg").evaluate(GEOMETRY) == []
    status = {c.key: c.status.value for c in build_checks(result, plan)}
    order = ["finding", "closed", "pass", "not_observable"]
    arrows = page.evaluate(
        "() => Array.from(document.querySelectorAll('#diagram-svg .edge-link, #diagram-svg .chip-link'))"
        ".map(e => [e.getAttribute('data-status'), e.getAttribute('data-flows').split(' ')])"
    )
    assert sorted(f for _, fs in arrows for f in fs) == sorted(f.id for f in plan.flows)
    for shown, flows in arrows:
        assert shown == min((status[f] for f in flows), key=order.index), flows
    assert {s for s, _ in arrows} == set(order)
    o.clean()
    page.close()


def test_demo_report_in_chromium(browser: Any, demo_dir: Path) -> None:
    """The report ``pathsec demo`` writes: plan sections coloured by the audit, grouped findings."""
    results = json.loads((demo_dir / "results.json").read_text("utf-8"))
    plan = load_plan(demo_dir / "deployment.yaml")
    o = Opened(browser, demo_dir / "report.html")
    page = o.page
    svg = page.locator("#diagram-svg")
    assert o.seconds < 2.0
    assert svg.evaluate(GEOMETRY) == []
    drawn = page.evaluate(DRAWN_FLOWS)
    assert sorted(f for fs in drawn["edges"] + drawn["chips"] for f in fs) == sorted(
        f.id for f in plan.flows
    )
    statuses = set(
        page.evaluate(
            "() => Array.from(document.querySelectorAll('#diagram-svg .edge-link'))"
            ".map(e => e.getAttribute('data-status'))"
        )
    )
    assert "finding" in statuses and statuses <= {"pass", "finding", "closed", "not_observable"}
    # Findings: one row per endpoint and check; the counts are the results document's.
    rows = page.evaluate(
        "() => Array.from(document.querySelectorAll('#findings-table tbody tr')).map(r => ["
        "r.dataset.id, r.dataset.host, r.dataset.port, r.dataset.protocol, Number(r.dataset.count),"
        " r.dataset.severity])"
    )
    keys = [tuple(r[:4]) for r in rows]
    assert len(keys) == len(set(keys)) < len(results["findings"])
    assert sum(r[4] for r in rows) == len(results["findings"])
    assert page.locator("#shown-count").inner_text() == str(len(results["findings"]))
    for sev in ("critical", "high", "medium", "low", "info"):
        n = sum(1 for f in results["findings"] if f["severity"] == sev)
        card = page.locator(f"[data-severity-count={sev}] .n").inner_text()
        assert card == str(n) == str(sum(r[4] for r in rows if r[5] == sev))
    basic = [r for r in rows if r[0] == "PS-HTTP-001"]
    assert basic and basic[0][4] > 1, "Basic over plain HTTP: one row for its paths"
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    page.locator("#diagram").screenshot(path=str(ARTIFACTS / "demo-report-diagram.png"))
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "demo-report.png"))
    o.clean()
    page.close()


def test_plan_report_interaction(browser: Any, tmp_path: Path) -> None:
    """Filters redraw, zoom and pan, the flows and rules tables, Chinese (two-site example)."""
    plan = load_plan(REPO / "examples" / "two-sites-large.yaml")
    path = tmp_path / "plan.html"
    path.write_text(render_plan_html(plan), "utf-8")
    o = Opened(browser, path)
    page = o.page
    svg = page.locator("#diagram-svg")
    zone_of = {h.name: h.zone for h in plan.hosts}
    all_edges = page.locator(".edge-link").count()
    # The geometry check can fail: a box moved onto another, or out of the frame, is seen.
    assert svg.evaluate(GEOMETRY) == []
    moved = svg.evaluate(
        """svg => { const r = svg.querySelectorAll(".node rect.box");
        const keep = [r[1].getAttribute("y"), r[2].getAttribute("x")];
        r[1].setAttribute("y", r[0].getAttribute("y")); r[2].setAttribute("x", "-5000");
        const found = (GEOMETRY)(svg);
        r[1].setAttribute("y", keep[0]); r[2].setAttribute("x", keep[1]);
        return found; }""".replace("GEOMETRY", GEOMETRY)
    )
    assert any(m.startswith("box overlap") for m in moved)
    assert any(m.startswith("outside the frame") for m in moved)

    # A zone filter redraws: only that zone's flows, fewer edges, still a sound drawing.
    page.select_option("select[data-dfilter=zone]", label="voice (voice network)")
    drawn = page.evaluate(DRAWN_FLOWS)
    flows = [f for fs in drawn["edges"] + drawn["chips"] for f in fs]
    expected = [f.id for f in plan.flows if "voice" in (f.source_zone, f.destination_zone)]
    assert sorted(flows) == sorted(expected)
    assert 0 < page.locator(".edge-link").count() < all_edges
    assert page.locator("#diagram-svg g.zone").count() == len(
        {zone_of[f.source] for f in plan.flows if f.id in expected}
        | {zone_of[f.destination] for f in plan.flows if f.id in expected}
    )
    assert svg.evaluate(GEOMETRY) == []
    assert page.locator("#flows-shown").inner_text() == str(len(expected))
    page.locator("#diagram").screenshot(path=str(ARTIFACTS / "plan-two-site-voice.png"))
    # Firewall and path filters.
    page.select_option("select[data-dfilter=zone]", "")
    page.select_option("select[data-dfilter=firewall]", label="fw-wan")
    drawn = page.evaluate(DRAWN_FLOWS)
    assert sorted(f for fs in drawn["edges"] for f in fs) == sorted(
        f.id for f in plan.flows if "fw-wan" in f.crosses
    )
    page.select_option("select[data-dfilter=firewall]", "")
    page.select_option("select[data-dfilter=role]", "unified_messaging")
    drawn = page.evaluate(DRAWN_FLOWS)
    um = {h.name for h in plan.hosts if "unified_messaging" in h.roles}
    assert sorted(f for fs in drawn["edges"] + drawn["chips"] for f in fs) == sorted(
        f.id for f in plan.flows if {f.source, f.destination} & um
    )
    page.select_option("select[data-dfilter=role]", "")
    assert page.locator(".edge-link").count() == all_edges

    # Zoom with the wheel, pan by dragging and with the keyboard, fit again with 0.
    def view() -> list[float]:
        return [float(x) for x in (svg.get_attribute("viewBox") or "").split()]

    def until(ok: Any) -> list[float]:
        """The view once ``ok(view)`` holds (input events land asynchronously; bounded)."""
        v = view()
        for _ in range(100):
            if ok(v):
                break
            page.wait_for_timeout(20)
            v = view()
        return v

    fit = view()
    box = svg.bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + min(box["height"], 400) / 2
    page.mouse.move(cx, cy)
    page.mouse.wheel(0, -400)
    zoomed = until(lambda v: v[2] < fit[2] * 0.8)
    assert zoomed[2] < fit[2] * 0.8
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx - 150, cy - 40, steps=5)
    page.mouse.up()
    panned = until(lambda v: v[0] > zoomed[0])
    assert panned[0] > zoomed[0] and panned[2] == zoomed[2]
    page.locator(".diagram").focus()
    page.keyboard.press("ArrowLeft")
    assert until(lambda v: v[0] < panned[0])[0] < panned[0]
    page.keyboard.press("0")
    assert until(lambda v: v == fit) == fit
    page.keyboard.press("+")
    assert until(lambda v: v[2] < fit[2])[2] < fit[2]
    page.click("button[data-zoom=width]")
    assert until(lambda v: v == fit) == fit

    # A click on an edge filters the flows table to its flows.
    edge = page.locator(".edge-link").nth(5)
    n = len((edge.get_attribute("data-flows") or "").split())
    _click(page, edge)
    assert page.locator("#flows-shown").inner_text() == str(n)
    assert page.locator("#flows-table tbody tr").count() == min(n, 100)
    page.keyboard.press("Escape")
    assert page.locator("#flows-shown").inner_text() == str(len(plan.flows))
    # Flows table: search and pages.
    assert page.locator("#flows-table tbody tr").count() == 100
    page.click("#flows-pager button[data-page=next]")
    assert (
        page.locator("#flows-table tbody tr").first.get_attribute("data-flow") == plan.flows[100].id
    )
    page.fill("#flows-search", "HQ-UM1")
    assert 0 < int(page.locator("#flows-shown").inner_text()) < len(plan.flows)
    page.fill("#flows-search", "")

    # Rule tables: the firewall stage's rules, refused flows with their reason.
    points = plan_rules(plan)
    wan = next(i for i, p in enumerate(points) if p.name == "fw-wan")
    details = page.locator(f"details.rules[data-point='{wan}']")
    details.locator("summary").click()
    # The rows are drawn when the details open (a toggle handler): wait for them (bounded).
    details.locator("table.rule-table tbody tr").first.wait_for(timeout=10_000)
    details.locator("table.refused-table tbody tr").first.wait_for(timeout=10_000)
    assert details.locator("table.rule-table tbody tr").count() == min(100, len(points[wan].rules))
    refused = details.locator("table.refused-table tbody tr")
    assert refused.count() == len(points[wan].refused) > 0
    assert "--protocol" in refused.first.inner_text()

    # Chinese: roles, zone kinds, authentication and port labels translated.
    page.click("button[data-set-lang=zh]")
    diagram = svg.inner_html()
    assert "集线器传输服务器" in diagram and "外围网络" in diagram and "条规则" in diagram
    page.fill("#flows-search", ":tcp/3268")
    assert "LDAP 全局编录" in page.locator("#flows-table").inner_text()
    page.fill("#flows-search", "client_access.owa:")
    assert "基于表单的身份验证" in page.locator("#flows-table").inner_text()
    page.fill("#flows-search", "")
    assert svg.evaluate(MIN_TEXT_PX) >= 10
    page.locator("#diagram").screenshot(path=str(ARTIFACTS / "plan-two-site-zh.png"))
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "plan-two-site-page-zh.png"), full_page=True)
    # Printed, the whole diagram fits the page width.
    page.emulate_media(media="print")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    page.emulate_media(media="screen")
    o.clean()
    page.close()

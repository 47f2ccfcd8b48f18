"""The HTML report in a real browser: headless Chromium (Debian package) via Playwright."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from pathsec.report import ReportFormat, ReportInput, render
from report.sample import HOSTILE, sample_plan, sample_result, two_sites_plan, two_sites_result

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

#: A point of link ``a`` (an edge or a chip) where a click lands on that link, scrolled into
#: view; null if every point of it is covered by something else.
CLICKABLE_POINT = """a => {
  const shape = a.querySelector("path.edge, rect.chip");
  const box = a.closest(".diagram");
  const n = 96, len = shape.getTotalLength();
  const pts = [];
  if (shape.tagName === "rect") {
    const b = shape.getBBox();
    pts.push({x: b.x + 2, y: b.y + 2}, {x: b.x + b.width / 2, y: b.y + b.height / 2});
  } else {
    for (let i = 1; i < n; i++) { pts.push(shape.getPointAtLength(len * i / n)); }
  }
  for (const p of pts) {
    const m = shape.getScreenCTM();
    let x = m.a * p.x + m.c * p.y + m.e, y = m.b * p.x + m.d * p.y + m.f;
    box.scrollLeft += x - innerWidth / 2;
    window.scrollBy(0, y - innerHeight / 2);
    const m2 = shape.getScreenCTM();
    x = m2.a * p.x + m2.c * p.y + m2.e; y = m2.b * p.x + m2.d * p.y + m2.f;
    const hit = document.elementFromPoint(x, y);
    if (hit && hit.closest("a") === a) { return [x, y]; }
  }
  return null;
}"""

#: Shapes of the diagram whose bounding box leaves the SVG's view box.
OUTSIDE_VIEWBOX = """svg => {
  const v = svg.viewBox.baseVal, out = [];
  svg.querySelectorAll("path, rect").forEach(e => {
    const b = e.getBBox();
    if (b.x < v.x || b.y < v.y || b.x + b.width > v.x + v.width || b.y + b.height > v.y + v.height) {
      out.push(e.getAttribute("class") + " " + (e.getAttribute("d") || ""));
    }
  });
  return out;
}"""


def _missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required in CI")
    pytest.skip(f"{what} not available")


@pytest.fixture(scope="module")
def browser() -> Any:
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


def _open(browser: Any, path: Path) -> tuple[Any, list[str], list[str], list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []
    requests: list[str] = []
    errors: list[str] = []

    def on_dialog(d: Any) -> None:
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, dialogs, requests, errors


def test_report_in_chromium(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(render(ReportFormat.html, ReportInput(sample_result(), sample_plan())), "utf-8")
    page, dialogs, requests, errors = _open(browser, path)

    # Hostile server text is inert: shown literally, no dialog, no element created.
    evidence = page.locator("pre.evidence").first.inner_text()
    assert (
        '<script>alert(1)</script> "><img src=x onerror=alert(1)> \\x1b[31mRED\\x1b[0m' in evidence
    )
    assert HOSTILE not in evidence  # the raw ESC bytes never reach the page
    assert page.locator("img").count() == 0
    assert page.locator("script").count() == 1
    assert dialogs == [] and errors == []

    # Language switch.
    h1 = page.locator("h1")
    assert h1.inner_text() == "pathsec audit report"
    page.click("button[data-set-lang=zh]")
    assert h1.inner_text() == "pathsec 审核报告"
    assert page.get_attribute("html", "data-lang") == "zh"
    assert page.locator("#summary h2").inner_text() == "摘要"
    page.click("button[data-set-lang=en]")
    assert h1.inner_text() == "pathsec audit report"

    # Filters: severity, host, role, path, protocol.
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

    # A diagram edge leads to its detail.
    edge = page.locator("a.edge-link[data-status=closed]")
    assert edge.count() == 1
    target = edge.get_attribute("href")
    assert target is not None
    point = edge.evaluate(CLICKABLE_POINT)
    assert point is not None
    page.mouse.click(*point)
    assert page.evaluate("location.hash") == target
    detail = page.locator(target)
    assert detail.get_attribute("data-status") == "closed"
    assert page.evaluate("document.querySelector(':target').id") == target[1:]
    assert detail.evaluate(
        "e => { const r = e.getBoundingClientRect(); return r.top > -1 && r.top < innerHeight; }"
    )

    page.evaluate("window.scrollTo(0, 0)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    page.click("button[data-set-lang=zh]")
    page.screenshot(path=str(ARTIFACTS / "report-zh.png"))
    assert all(u.startswith("file://") for u in requests), requests
    assert dialogs == [] and errors == []
    page.close()


def test_report_without_plan_in_chromium(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(render(ReportFormat.html, ReportInput(sample_result(), None)), "utf-8")
    page, dialogs, requests, errors = _open(browser, path)
    assert page.locator("a.edge-link").count() == len(sample_result().endpoints)
    page.locator("a.edge-link[data-status=not_observable]").first.scroll_into_view_if_needed()
    point = page.locator("a.edge-link[data-status=not_observable]").first.evaluate(CLICKABLE_POINT)
    assert point is not None
    page.mouse.click(*point)
    target = page.evaluate("location.hash")
    assert page.locator(target).get_attribute("data-status") == "not_observable"
    page.screenshot(path=str(ARTIFACTS / "report-noplan.png"), full_page=True)
    assert dialogs == [] and errors == [] and all(u.startswith("file://") for u in requests)
    page.close()


def test_large_diagram_in_chromium(browser: Any, tmp_path: Path) -> None:
    """examples/two-sites.yaml: 317 edges and 22 local-flow chips, all inside and clickable."""
    plan = two_sites_plan()
    path = tmp_path / "report.html"
    path.write_text(render(ReportFormat.html, ReportInput(two_sites_result(plan), plan)), "utf-8")
    page, dialogs, requests, errors = _open(browser, path)
    svg = page.locator("#diagram svg")
    assert svg.evaluate(OUTSIDE_VIEWBOX) == []
    # Wider than the page: the diagram scrolls sideways, the page does not.
    assert page.evaluate("document.querySelector('.diagram').scrollWidth > innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")

    edges = page.locator("a.edge-link")
    chips = page.locator("a.chip-link")
    assert edges.count() == 342 - 22 and chips.count() == 22
    # Every edge and every chip can be clicked somewhere along it.
    hidden = page.evaluate(
        f"() => {{ const f = {CLICKABLE_POINT};"
        " return Array.from(document.querySelectorAll('a.edge-link, a.chip-link'))"
        ".filter(a => f(a) === null).map(a => a.getAttribute('href')); }"
    )
    assert hidden == []

    # Clicking an edge and a local-flow chip reaches the detail.
    for link in (edges.nth(200), chips.nth(3)):
        target = link.get_attribute("href")
        assert target is not None
        point = link.evaluate(CLICKABLE_POINT)
        assert point is not None
        page.mouse.click(*point)
        assert page.evaluate("location.hash") == target
        assert page.evaluate("document.querySelector(':target').id") == target[1:]
        detail = page.locator(target)
        assert detail.get_attribute("data-status") == link.get_attribute("data-status")
        assert detail.evaluate(  # scrolled to (within a pixel's rounding)
            "e => { const r = e.getBoundingClientRect(); return r.top > -1 && r.top < innerHeight; }"
        )
    page.evaluate("window.scrollTo(0, 0)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#diagram").screenshot(path=str(ARTIFACTS / "report-two-sites-diagram.png"))
    # Printed, the whole diagram is scaled to the page width.
    page.emulate_media(media="print")
    assert svg.evaluate("s => s.getBoundingClientRect().right <= innerWidth")
    assert page.evaluate("document.querySelector('.diagram').scrollWidth <= innerWidth")
    page.emulate_media(media="screen")
    assert dialogs == [] and errors == [] and all(u.startswith("file://") for u in requests)
    page.close()

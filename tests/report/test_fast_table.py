"""The fast table layout writes exactly what rich writes, or declines (None)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

import pathsec.report.table_writer as table_writer
from pathsec.report import ReportFormat, ReportInput, render
from pathsec.report.fast_table import render_table
from report.sample import sample_plan, sample_result

#: Letters and words, lines, wide (CJK, emoji) and zero-width (combining) characters, an
#: escape character and a tab (which rich expands: the fast layout declines those tables).
CHARS = "ab xyz MN-.:;/|()[]0123456789\n中文漢字😀\u0301\x1b\t"
WORDS = st.text(alphabet=CHARS, max_size=60)
ASCII = st.text(alphabet="ab xyz-.:/0123\n", max_size=60)


def _console(width: int, **kw: Any) -> Console:
    return Console(
        file=io.StringIO(),
        width=width,
        color_system=None,
        highlight=False,
        markup=False,
        emoji=False,
        **kw,
    )


def _by_rich(table: Table, console: Console) -> str:
    with console.capture() as capture:
        console.print(table)
    return capture.get()


@st.composite
def tables(draw: st.DrawFn, cells: st.SearchStrategy[str] = WORDS, most: int = 6) -> Table:
    ncols = draw(st.integers(1, most))
    table = Table(
        title=draw(st.none() | cells.filter(lambda t: "\t" not in t)),
        show_lines=draw(st.booleans()),
    )
    for _ in range(ncols):
        table.add_column(
            draw(st.text(alphabet="Header ab中", min_size=1, max_size=14)),
            overflow=draw(st.sampled_from(["fold", "crop", "ellipsis"])),
            no_wrap=draw(st.booleans()),
        )
    for _ in range(draw(st.integers(1, 6))):
        table.add_row(*(Text(draw(cells)) for _ in range(ncols)), end_section=draw(st.booleans()))
    return table


@settings(max_examples=300, deadline=None)
@given(table=tables(), width=st.integers(12, 140))
def test_equals_rich_or_declines(table: Table, width: int) -> None:
    console = _console(width)
    fast = render_table(table, console)
    if fast is not None:
        assert fast == _by_rich(table, console)


@settings(max_examples=200, deadline=None)
@given(table=tables(ASCII, most=4), width=st.integers(60, 140))
def test_plain_text_tables_take_the_fast_layout(table: Table, width: int) -> None:
    # Plain text: laid out here, the same as rich, unless rich squeezed a column to less
    # than a character between its padding (no_wrap columns wider than the console).
    console = _console(width)
    fast = render_table(table, console)
    by_rich = _by_rich(table, console)
    if fast is None:
        bottom = by_rich.splitlines()[-1]
        assert min(len(w) for w in bottom[1:-1].split(box.HEAVY_HEAD.bottom_divider)) < 3
    else:
        assert fast == by_rich


def test_declines_colour_other_boxes_and_styles() -> None:
    def table(**kw: Any) -> Table:
        t = Table(**kw)
        t.add_column("a")
        t.add_row(Text("x"))
        return t

    assert render_table(table(), _console(80)) is not None
    colour = Console(file=io.StringIO(), width=80, color_system="standard", force_terminal=True)
    assert render_table(table(), colour) is None
    assert render_table(table(box=box.ROUNDED), _console(80)) is None
    assert render_table(table(row_styles=["dim"]), _console(80)) is None
    plain = Table()
    plain.add_column("a")
    plain.add_row("a str cell, which rich renders with markup")
    assert render_table(plain, _console(80)) is None
    assert render_table(Table("a"), _console(80)) is None  # no rows


@pytest.mark.parametrize("kw", [{}, {"lang": "zh"}, {"plan": None}])
def test_the_table_writer_takes_the_fast_layout(
    kw: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    laid_out: list[bool] = []

    def spy(table: Table, console: Console) -> str | None:
        text = render_table(table, console)
        laid_out.append(text is not None)
        return text

    monkeypatch.setattr(table_writer, "render_table", spy)
    kw.setdefault("plan", sample_plan())
    fast = render(ReportFormat.table, ReportInput(sample_result(), **kw))
    assert laid_out == [True, True]  # the findings and the checks
    monkeypatch.setattr(table_writer, "render_table", lambda table, console: None)
    assert fast == render(ReportFormat.table, ReportInput(sample_result(), **kw))

"""A rich :class:`~rich.table.Table` of plain text, laid out as rich lays it out, faster.

rich renders every cell through its whole pipeline (padding, segments, cropping, shaping):
the terminal report of an audit of 200 endpoints (1,200 lines) took 0.1 s, a fifth of what
the whole ``pathsec audit`` process spent besides the audit itself; 0.025 s now, building
the rows included. Without colour, a cell of plain text is its lines, each padded to the
column's width. So rich still decides everything that takes judgement: the column widths,
the title and the header (from a table of the same columns with one row of the same
measurements), and the word-wrapping of every line that does not fit
(:meth:`rich.text.Text.wrap`); only the joining is done here. Tables this does not cover
(colour, other boxes, styles, alignments) return None: the caller prints them with rich.
``tests/report/test_fast_table.py`` checks the output equals rich's for generated tables.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

#: The one box drawn here (the default of :class:`rich.table.Table`).
_BOX = box.HEAVY_HEAD


def render_table(table: Table, console: Console) -> str | None:
    """``table`` as ``console.print(table)`` would write it (lines ending in ``\\n``), or
    None when the table or console is one this module does not cover."""
    cells = _body(table, console)
    if cells is None:
        return None
    head = _head(table, console, cells)
    if head is None:
        return None
    lines, widths = head
    verticals = (_BOX.mid_left, _BOX.mid_vertical, _BOX.mid_right)
    last_verticals = (_BOX.foot_left, _BOX.foot_vertical, _BOX.foot_right)
    between = _BOX.get_row(widths, "row", edge=True)
    nrows = len(table.rows)
    for r in range(nrows):
        row: list[list[str]] = []
        for c, width in enumerate(widths):
            cell = _cell_lines(cells[c][r], width - 2, table.columns[c], console)
            if cell is None:
                return None
            row.append(cell)
        height = max(len(x) for x in row)
        left, mid, right = last_verticals if r == nrows - 1 else verticals
        for i in range(height):
            parts = [
                " " + (x[i] if i < len(x) else " " * (w - 2)) + " "
                for x, w in zip(row, widths, strict=True)
            ]
            lines.append(left + mid.join(parts) + right)
        if r < nrows - 1 and (table.show_lines or table.rows[r].end_section):
            lines.append(between)
    lines.append(_BOX.get_bottom(widths))
    return "\n".join(lines) + "\n"


def _body(table: Table, console: Console) -> list[list[Text]] | None:
    """The body cells column by column, or None when the table is not plain enough."""
    if (
        console.color_system is not None
        or console.options.legacy_windows
        or console.options.ascii_only
        or table.box is not _BOX
        or not table.rows
        or table.caption is not None
        or table.width is not None
        or table.min_width is not None
        or table.expand
        or table.padding != (0, 1, 0, 1)
        or table.collapse_padding
        or not table.pad_edge
        or not table.show_header
        or table.show_footer
        or not table.show_edge
        or table.leading
        or table.row_styles
        or any(row.style for row in table.rows)
    ):
        return None
    out: list[list[Text]] = []
    for col in table.columns:
        if (
            col.width is not None
            or col.min_width is not None
            or col.max_width is not None
            or col.ratio is not None
            or col.justify != "left"
            or col.vertical != "top"
            or col.overflow == "ignore"
        ):
            return None
        cells = [cell for cell in col.cells if isinstance(cell, Text)]
        if len(cells) != len(table.rows) or not all(
            cell.justify is None
            and cell.overflow is None
            and cell.no_wrap is None
            and cell.tab_size is None
            and "\t" not in cell.plain
            for cell in cells
        ):
            return None
        out.append(cells)
    return out


def _head(
    table: Table, console: Console, cells: Sequence[Sequence[Text]]
) -> tuple[list[str], list[int]] | None:
    """Title, top border, header and header rule as rich draws them, and the column widths.

    Column widths depend on each column's widest word and widest line only, so a table of
    the same columns, title and header with one row of those measurements has the same
    widths: rich draws it, and its bottom border gives the widths.
    """
    proxy = Table(
        *(col.copy() for col in table.columns),
        title=table.title,
        title_style=table.title_style,
        title_justify=table.title_justify,
        header_style=table.header_style,
        highlight=table.highlight,
    )
    row: list[Text] = []
    options = console.options
    for column_cells in cells:
        low = high = 0
        for cell in column_cells:
            m = cell.__rich_measure__(console, options)
            low, high = max(low, m.minimum), max(high, m.maximum)
        row.append(_measuring(low, high))
    proxy.add_row(*row)
    with console.capture() as capture:
        console.print(proxy)
    lines = capture.get().split("\n")[:-1]
    bottom = lines[-1] if lines else ""
    widths = [len(part) for part in bottom[1:-1].split(_BOX.bottom_divider)]
    if bottom != _BOX.get_bottom(widths) or min(widths) < 3:
        return None
    rules = [i for i, line in enumerate(lines) if line == _BOX.get_row(widths, "head")]
    if not rules or _BOX.get_top(widths) not in lines[: rules[-1]]:
        return None
    return lines[: rules[-1] + 1], widths


def _measuring(low: int, high: int) -> Text:
    """A text whose widest word is ``low`` cells and widest line ``high`` (low <= high)."""
    if high == 0:
        return Text("")
    if low == 0:
        return Text(" " * high)
    word = "x" * low
    line = " ".join([word] * (high // (low + 1) + 1))[:high]
    return Text(f"{word}\n{line}")


def _cell_lines(cell: Text, width: int, column: Column, console: Console) -> list[str] | None:
    """The lines of one cell ``width`` cells wide (rich's wrapping where a line is too long)."""
    plain = cell.plain
    lines = plain.split("\n")
    out: list[str] = []
    for line in lines:
        n = cell_len(line)
        if n > width or not line.isprintable():
            break
        out.append(line + " " * (width - n))
    else:
        return out
    wrapped = cell.wrap(
        console, width, justify="left", overflow=column.overflow, no_wrap=column.no_wrap
    )
    out = [line.plain for line in wrapped]
    if any(cell_len(line) != width for line in out):
        return None
    return out

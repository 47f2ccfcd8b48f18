"""Render a simple table (headers + rows of text) as a terminal table, CSV or Markdown.

Every cell goes through the quoting function of its output (:mod:`pathsec.quoting`):
:func:`~pathsec.quoting.terminal` on a terminal, :func:`~pathsec.quoting.csv_cell` in
CSV, :func:`~pathsec.quoting.md_cell` in Markdown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pathsec.quoting import csv_text, md_cell, md_text, terminal, terminal_lines


@dataclass(frozen=True)
class Tabular:
    """Rows of plain text under headers, with an optional title."""

    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    title: str | None = None


def to_csv(t: Tabular) -> str:
    """CSV with a header row (RFC 4180 quoting, ``\\n`` line ends, formulas defused)."""
    return csv_text([t.headers, *t.rows])


def to_markdown(t: Tabular) -> str:
    """A GitHub-flavoured Markdown table, preceded by the title as a heading."""
    lines = []
    if t.title:
        lines += [f"## {md_text(t.title)}", ""]
    lines.append("| " + " | ".join(md_cell(h) for h in t.headers) + " |")
    lines.append("|" + "|".join("---" for _ in t.headers) + "|")
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in t.rows]
    return "\n".join(lines) + "\n"


def print_table(t: Tabular, console: Console) -> None:
    """Print a rich table; text is shown literally (no markup), controls escaped."""
    table = Table(title=Text(terminal(t.title)) if t.title else None, show_lines=True, expand=False)
    for i, h in enumerate(t.headers):
        # The first column holds ids: keep them whole so they can be copied.
        table.add_column(Text(terminal(h)), overflow="fold", no_wrap=i == 0)
    for row in t.rows:
        table.add_row(*(Text(terminal_lines(c)) for c in row))
    console.print(table)

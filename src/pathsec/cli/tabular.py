"""Render a simple table (headers + rows of text) as a terminal table, CSV or Markdown."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from rich.text import Text


@dataclass(frozen=True)
class Tabular:
    """Rows of plain text under headers, with an optional title."""

    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    title: str | None = None


def to_csv(t: Tabular) -> str:
    """CSV with a header row (RFC 4180 quoting, ``\\n`` line ends)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(t.headers)
    w.writerows(t.rows)
    return buf.getvalue()


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def to_markdown(t: Tabular) -> str:
    """A GitHub-flavoured Markdown table, preceded by the title as a heading."""
    lines = []
    if t.title:
        lines += [f"## {t.title}", ""]
    lines.append("| " + " | ".join(_md_cell(h) for h in t.headers) + " |")
    lines.append("|" + "|".join("---" for _ in t.headers) + "|")
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in t.rows]
    return "\n".join(lines) + "\n"


def print_table(t: Tabular, console: Console) -> None:
    """Print a rich table; text is shown literally (no markup interpretation)."""
    table = Table(title=t.title, show_lines=True, expand=False)
    for i, h in enumerate(t.headers):
        # The first column holds ids: keep them whole so they can be copied.
        table.add_column(h, overflow="fold", no_wrap=i == 0)
    for row in t.rows:
        table.add_row(*(Text(c) for c in row))
    console.print(table)

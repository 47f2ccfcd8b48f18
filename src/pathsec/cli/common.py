"""What every command shares: output formats, languages, consoles and emitting results.

Machine output goes to stdout, people output (progress, legends, errors) to stderr.
"""

from __future__ import annotations

import sys
from enum import StrEnum

from rich.console import Console

from pathsec.cli.tabular import Tabular, print_table, to_csv, to_markdown


class OutputFormat(StrEnum):
    """Formats for tabular results."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class Lang(StrEnum):
    """Languages of names and messages."""

    en = "en"
    zh = "zh"


def out_console() -> Console:
    """Console on the current stdout; wide enough for tables when stdout is a pipe."""
    return Console(file=sys.stdout, width=None if sys.stdout.isatty() else 200, highlight=False)


def err_console() -> Console:
    """Console on the current stderr for people: legends, progress, errors."""
    return Console(file=sys.stderr, highlight=False)


def emit(data: str | Tabular, fmt: OutputFormat = OutputFormat.json) -> None:
    """Write a result to stdout in ``fmt`` (text is written as is)."""
    if isinstance(data, str):
        sys.stdout.write(data if data.endswith("\n") else data + "\n")
        return
    if fmt is OutputFormat.csv:
        sys.stdout.write(to_csv(data))
    elif fmt is OutputFormat.markdown:
        sys.stdout.write(to_markdown(data))
    else:
        print_table(data, out_console())

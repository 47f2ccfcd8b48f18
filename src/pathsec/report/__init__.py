"""Reports: one writer per format behind :class:`~pathsec.report.interface.Writer`.

:data:`WRITERS` is the one table mapping each :class:`ReportFormat` to its writer; a writer's
module is imported when its format is rendered (the HTML writer alone loads jinja2).
"""

from __future__ import annotations

import importlib

from pathsec.report.interface import ReportFormat, ReportInput, ReportLang, Writer

#: Every format and the writer that renders it, as ``module:class`` (a test checks every
#: format is here and names a :class:`Writer` of that format).
WRITERS: dict[ReportFormat, str] = {
    ReportFormat.table: "pathsec.report.table_writer:TableWriter",
    ReportFormat.json: "pathsec.report.json_writer:JsonWriter",
    ReportFormat.sarif: "pathsec.report.sarif_writer:SarifWriter",
    ReportFormat.junit: "pathsec.report.junit_writer:JunitWriter",
    ReportFormat.markdown: "pathsec.report.markdown_writer:MarkdownWriter",
    ReportFormat.csv: "pathsec.report.csv_writer:CsvWriter",
    ReportFormat.html: "pathsec.report.html_writer:HtmlWriter",
}


def writer_class(fmt: ReportFormat) -> type[Writer]:
    """The writer class for ``fmt`` (its module imported now)."""
    module, _, name = WRITERS[fmt].partition(":")
    cls: type[Writer] = getattr(importlib.import_module(module), name)
    return cls


def writer_for(fmt: ReportFormat) -> Writer:
    """A writer instance for ``fmt``."""
    return writer_class(fmt)()


def render(fmt: ReportFormat, report: ReportInput) -> str:
    """Render ``report`` in ``fmt``."""
    return writer_for(fmt).render(report)


__all__ = [
    "WRITERS",
    "ReportFormat",
    "ReportInput",
    "ReportLang",
    "Writer",
    "render",
    "writer_class",
    "writer_for",
]

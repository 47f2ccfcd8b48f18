"""Reports: one writer per format behind :class:`~pathsec.report.interface.Writer`.

:data:`WRITERS` is the one table mapping each :class:`ReportFormat` to its writer.
"""

from __future__ import annotations

from pathsec.report.csv_writer import CsvWriter
from pathsec.report.html_writer import HtmlWriter
from pathsec.report.interface import ReportFormat, ReportInput, ReportLang, Writer
from pathsec.report.json_writer import JsonWriter
from pathsec.report.junit_writer import JunitWriter
from pathsec.report.markdown_writer import MarkdownWriter
from pathsec.report.sarif_writer import SarifWriter
from pathsec.report.table_writer import TableWriter

#: Every format and the writer that renders it (a test checks every format is here).
WRITERS: dict[ReportFormat, type[Writer]] = {
    ReportFormat.table: TableWriter,
    ReportFormat.json: JsonWriter,
    ReportFormat.sarif: SarifWriter,
    ReportFormat.junit: JunitWriter,
    ReportFormat.markdown: MarkdownWriter,
    ReportFormat.csv: CsvWriter,
    ReportFormat.html: HtmlWriter,
}


def writer_for(fmt: ReportFormat) -> Writer:
    """A writer instance for ``fmt``."""
    return WRITERS[fmt]()


def render(fmt: ReportFormat, report: ReportInput) -> str:
    """Render ``report`` in ``fmt``."""
    return writer_for(fmt).render(report)


__all__ = ["WRITERS", "ReportFormat", "ReportInput", "ReportLang", "Writer", "render", "writer_for"]

"""The writer interface: what every report format gets and what it must produce.

After pip-audit's ``_format/interface.py``: one ABC, one str-enum of formats; the table
mapping each format to its writer is :data:`pathsec.report.WRITERS`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar, Literal

from pathsec.audit.models import AuditResult, FindingSeverity

if TYPE_CHECKING:
    from pathsec.plan.models import Plan

ReportLang = Literal["en", "zh"]


class ReportFormat(StrEnum):
    """The formats ``pathsec report --format`` offers."""

    table = "table"
    json = "json"
    sarif = "sarif"
    junit = "junit"
    markdown = "markdown"
    csv = "csv"
    html = "html"


@dataclass(frozen=True)
class ReportInput:
    """One audit result to render, with the plan it came from (optional) and options.

    ``fail_on`` is the severity from which a finding counts as a failure (JUnit failures,
    check status ``finding``); ``lang`` is the language of single-language formats and the
    initial language of the HTML report.
    """

    result: AuditResult
    plan: Plan | None = None
    lang: ReportLang = "en"
    fail_on: FindingSeverity = FindingSeverity.low
    title: str | None = None


class Writer(ABC):
    """Renders a :class:`ReportInput` as text in one format."""

    format: ClassVar[ReportFormat]
    #: File name suffix for ``-o`` defaults and media type for people who serve the file.
    suffix: ClassVar[str]
    media_type: ClassVar[str]

    @abstractmethod
    def render(self, report: ReportInput) -> str:
        """The whole report as text (UTF-8 when written to a file)."""

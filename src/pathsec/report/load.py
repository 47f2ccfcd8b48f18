"""Read a results document or a plan from a file; mistakes become one-line input errors.

Both go through the one door of their kind: :func:`pathsec.audit.resultfile.load_result`
and :func:`pathsec.plan.load.load_plan` (plan JSON or a deployment to plan).
"""

from __future__ import annotations

from pathlib import Path

from pathsec.audit.models import AuditResult
from pathsec.audit.resultfile import load_result as _load_result
from pathsec.plan.load import load_plan as _load_plan
from pathsec.plan.models import Plan


def load_result(path: str | Path) -> AuditResult:
    """A results document (``pathsec audit --format json`` or ``report --format json``)."""
    return _load_result(path)


def load_plan(path: str | Path) -> Plan:
    """A plan JSON file (``pathsec plan --format json``), or a deployment YAML file to plan."""
    return _load_plan(path)

"""Read a results document (``pathsec audit --format json``): the one door for results files.

Every command that reads results (``report``, ``store``, ``diff``, ``merge``) comes here:
the JSON is bounded (:mod:`pathsec.jsonfile`), validated by the same models the audit
writes (identifiers by :mod:`pathsec.ident`), and any problem is one line naming
file:line and field.
"""

from __future__ import annotations

from pathlib import Path

from pathsec.audit.models import AuditResult
from pathsec.jsonfile import load_json_file, load_json_text, validate_json


def load_result(path: str | Path) -> AuditResult:
    """The results document in ``path``; bad input raises :class:`pathsec.errors.InputError`."""
    return validate_json(AuditResult, load_json_file(path))


def load_result_text(text: str, file: str = "<results>") -> AuditResult:
    """A results document from JSON text (``file`` names it in messages)."""
    return validate_json(AuditResult, load_json_text(text, file))

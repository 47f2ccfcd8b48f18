"""History: audit runs stored in SQL (SQLite by default, PostgreSQL for a shared store).

Saving a run imports no database library for SQLite files (:mod:`pathsec.store.save`);
the names that need SQLAlchemy are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from pathsec.store.common import ENV_DB, StoreError, default_db_url
from pathsec.store.save import save_run

if TYPE_CHECKING:
    from pathsec.store.db import RunInfo, list_runs, load_run, open_db
    from pathsec.store.diff import RunDiff, diff_results, diff_rows

_LAZY = {
    "RunInfo": "pathsec.store.db",
    "list_runs": "pathsec.store.db",
    "load_run": "pathsec.store.db",
    "open_db": "pathsec.store.db",
    "RunDiff": "pathsec.store.diff",
    "diff_results": "pathsec.store.diff",
    "diff_rows": "pathsec.store.diff",
}


def __getattr__(name: str) -> object:
    """The names of :data:`_LAZY`, imported when first used (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "ENV_DB",
    "RunDiff",
    "RunInfo",
    "StoreError",
    "default_db_url",
    "diff_results",
    "diff_rows",
    "list_runs",
    "load_run",
    "open_db",
    "save_run",
]

"""History: audit runs stored in SQL (SQLite by default, PostgreSQL for a shared store)."""

from __future__ import annotations

from pathsec.store.db import (
    ENV_DB,
    RunInfo,
    StoreError,
    default_db_url,
    list_runs,
    load_run,
    open_db,
    save_run,
)
from pathsec.store.diff import RunDiff, diff_results, diff_rows

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

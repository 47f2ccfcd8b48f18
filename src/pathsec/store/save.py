"""Save one audit run in the history: SQLite files directly, anything else via SQLAlchemy."""

from __future__ import annotations

from pathsec.audit.models import AuditResult
from pathsec.store.common import default_db_url, sqlite_file
from pathsec.store.rows import run_rows
from pathsec.store.sqlite import save_sqlite


def save_run(result: AuditResult, db_url: str | None = None, label: str | None = None) -> int:
    """Store one audit run in a single transaction; return its run id."""
    url = db_url or default_db_url()
    rows = run_rows(result, label)
    path = sqlite_file(url)
    if path is not None:
        run_id = save_sqlite(path, rows)
        if run_id is not None:
            return run_id
    # Another database, or a SQLite file with some of the tables: SQLAlchemy sets it up.
    from pathsec.store.db import save_rows

    return save_rows(url, rows)
